/**
 * A CloudNativePG pooler pod (image ghcr.io/cloudnative-pg/pgbouncer) as the twin runs it: live
 * `pgbouncer` from the machine (Debian package pgbouncer), configured as CNPG configures it
 * (pgbouncer-config.ts) from the environment the Pooler controller gives the pod, listening on the
 * pod's address. The target Service's name is resolved through the twin's DNS (PgBouncer uses the
 * system resolver, which does not know the cluster's names). Without pgbouncer on the machine the
 * container exits with 127 and its log names the Debian package, as an image that lacks its program.
 *
 * Twin simplification: the stand-in for CloudNativePG's `/controller/manager pgbouncer instance` runs PgBouncer outside a container sandbox, so it gives PgBouncer the target Service's address instead of its name and listens on the pod's address instead of `*` (https://cloudnative-pg.io/documentation/current/connection_pooling/).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { requireBinary } from '../data/binaries.ts';
import { podIp, podPath } from '../data/container-paths.ts';
import { resolveHost, runEntrypoint, runServer } from '../data/entrypoint.ts';
import { asUser, chownTree, serviceUser } from '../data/run-as.ts';
import { authFileLine, pgbouncerIni, pgbouncerVersion } from './pgbouncer-config.ts';

const env = process.env;
const log = (m: string) => process.stderr.write(`${new Date().toISOString()} pgbouncer-pod: ${m}\n`);

function required(name: string): string {
  const v = env[name];
  if (!v) throw new Error(`environment variable ${name} is not set (the Pooler controller sets it)`);
  return v;
}

async function main(): Promise<number> {
  const ip = podIp(env);
  const port = 5432;
  const targetName = required('PGBOUNCER_TARGET_HOST');
  const targetPort = Number(env['PGBOUNCER_TARGET_PORT'] || 5432);
  const targetHost = await resolveHost(targetName, 60_000);
  const bin = requireBinary({ name: 'pgbouncer', debianPackage: 'pgbouncer', dirs: ['/usr/sbin'] });

  const version = pgbouncerVersion(execFileSync(bin, ['--version'], { encoding: 'utf8' }));
  const dir = podPath('/controller/configs');
  mkdirSync(dir, { recursive: true });
  const authFile = path.join(dir, 'userlist.txt');
  const ini = path.join(dir, 'pgbouncer.ini');
  const authUser = required('PGBOUNCER_AUTH_USER');
  writeFileSync(authFile, authFileLine(authUser, required('PGBOUNCER_AUTH_PASSWORD')), { mode: 0o600 });
  const parameters = JSON.parse(env['PGBOUNCER_PARAMETERS'] || '{}') as Record<string, string>;
  writeFileSync(
    ini,
    pgbouncerIni({
      listenAddr: ip,
      listenPort: port,
      targetHost,
      targetPort,
      poolMode: env['PGBOUNCER_POOL_MODE'] || 'session',
      authUser,
      authFile,
      // auth_dbname came with PgBouncer 1.19; before it the lookup runs in the client's database,
      // where the Pooler controller also creates the function.
      ...(version && (version[0] > 1 || version[1] >= 19) ? { authDbname: 'postgres' } : {}),
      parameters,
    }),
  );
  chmodSync(dir, 0o700);
  // PgBouncer refuses to run as root.
  const user = serviceUser(['postgres', 'nobody']);
  chownTree(podPath('/controller'), user);
  const argv = asUser([bin, ini], user);
  log(
    `PgBouncer ${version?.join('.') ?? '?'} on ${ip}:${port} → ${targetName} (${targetHost}:${targetPort}), pool_mode ${env['PGBOUNCER_POOL_MODE'] || 'session'}`,
  );
  // CNPG's pooler stops PgBouncer with SIGINT (safe shutdown: wait for clients) on SIGTERM.
  return runServer(argv, ['SIGTERM', 'SIGINT'], { SIGTERM: 'SIGINT' }).exited;
}

runEntrypoint(main, log);
