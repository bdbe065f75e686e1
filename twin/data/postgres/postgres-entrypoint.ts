/**
 * The official `postgres` image's entrypoint (docker-entrypoint.sh), run live by the twin's kubelet:
 * initialises PGDATA on first start from POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB /
 * POSTGRES_INITDB_ARGS / POSTGRES_HOST_AUTH_METHOD, then runs the server in the foreground with the
 * container's arguments (`-c name=value`, or `postgres …`). PGDATA lives under the pod's directory;
 * as root the server runs as the `postgres` user (see run-as.ts).
 */
import { podIp, podPath } from '../container-paths.ts';
import { runEntrypoint, runServer } from '../entrypoint.ts';
import { asUser, chownTree, serviceUser } from '../run-as.ts';
import { findPostgres } from './postgres-install.ts';
import { initCluster, isInitialised, serverArgv, singleUserSql } from './postgres-server.ts';

const env = process.env;
const log = (m: string) => process.stderr.write(`twin-postgres: ${m}\n`);

async function main(): Promise<number> {
  const install = findPostgres(['postgres', 'initdb']);
  const user = serviceUser();
  const dataDir = podPath(env['PGDATA'] || '/var/lib/postgresql/data');
  const superuser = env['POSTGRES_USER'] || 'postgres';
  const database = env['POSTGRES_DB'] || superuser;
  const authMethod = env['POSTGRES_HOST_AUTH_METHOD'] || 'scram-sha-256';
  let args = process.argv.slice(2);
  if (args[0] === 'postgres') args = args.slice(1);
  if (!isInitialised(dataDir)) {
    if (!env['POSTGRES_PASSWORD'] && authMethod !== 'trust') {
      log(
        'Error: Database is uninitialized and superuser password is not specified. You must specify POSTGRES_PASSWORD to a non-empty value for the superuser (or POSTGRES_HOST_AUTH_METHOD=trust).',
      );
      return 1;
    }
    log(`initialising ${dataDir} (superuser ${superuser}, database ${database})`);
    await initCluster({
      install,
      dataDir,
      user,
      superuser,
      ...(env['POSTGRES_PASSWORD'] ? { password: env['POSTGRES_PASSWORD'] } : {}),
      hostAuthMethod: authMethod,
      initdbArgs: (env['POSTGRES_INITDB_ARGS'] ?? '').split(/\s+/).filter(Boolean),
      replication: true,
      log,
    });
    if (database !== 'postgres')
      await singleUserSql(install, dataDir, user, `CREATE DATABASE "${database.replaceAll('"', '""')}";`);
  }
  chownTree(dataDir, user);
  const argv = asUser(
    serverArgv(install, dataDir, {
      listen: podIp(env),
      port: Number(env['PGPORT'] || 5432),
      extraArgs: args,
    }),
    user,
  );
  log(`starting ${argv.join(' ')}`);
  return runServer(argv, ['SIGTERM', 'SIGINT', 'SIGQUIT']).exited;
}

runEntrypoint(main, log);
