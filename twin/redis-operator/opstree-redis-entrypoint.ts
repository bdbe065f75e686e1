/**
 * The OT redis image (quay.io/opstree/redis) run live by the twin's kubelet: as the image's
 * entrypoint.sh, it writes redis.conf from the container's environment (SETUP_MODE=cluster:
 * cluster-enabled, cluster-node-timeout 5000, nodes.conf under /node-conf; PERSISTENCE_ENABLED: RDB
 * saves and AOF under /data; the additionalRedisConfig file included; cluster-announce-ip/hostname),
 * points the `myself` line of an existing nodes.conf at the pod's new address, and runs
 * `redis-server redis.conf`. Files live under the pod's directory, which outlives the pod as the
 * operator's volumes do, so a recreated pod keeps its node ID.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { requireBinary } from '../data/binaries.ts';
import { podIp, podPath } from '../data/container-paths.ts';
import { runEntrypoint, runServer } from '../data/entrypoint.ts';
import { asUser } from '../data/run-as.ts';
import { opstreeRedisConf, rewriteMyselfAddress } from './opstree-redis-conf.ts';
import { EXTERNAL_CONFIG_KEY, TWIN_EXTERNAL_CONFIG_ENV } from './redis-cluster-spec.ts';

const env = process.env;
const log = (m: string) => process.stderr.write(`twin-opstree-redis: ${m}\n`);

async function main(): Promise<number> {
  const bin = requireBinary({ name: 'redis-server', debianPackage: 'redis-server' });
  const ip = podIp(env);
  const map = (p: string) => podPath(p, env);
  const externalPath = env['EXTERNAL_CONFIG_FILE'] || `/etc/redis/external.conf.d/${EXTERNAL_CONFIG_KEY}`;
  const external = env[TWIN_EXTERNAL_CONFIG_ENV];
  let externalFile: string | undefined;
  if (external !== undefined) {
    externalFile = map(externalPath);
    mkdirSync(path.dirname(externalFile), { recursive: true });
    // A `dir` in the extra configuration names a container path: map it as the image's own are.
    writeFileSync(
      externalFile,
      external
        .split('\n')
        .map((l) => l.replace(/^(\s*dir\s+)(\S+)/, (_, d: string, p: string) => `${d}${map(p)}`))
        .join('\n'),
    );
  }
  const conf = opstreeRedisConf({
    env,
    podIp: ip,
    hostname: env['HOSTNAME'] || 'redis',
    mapPath: map,
    ...(externalFile ? { externalConfigFile: externalFile } : {}),
  });
  mkdirSync(conf.dataDir, { recursive: true });
  mkdirSync(conf.nodeConfDir, { recursive: true });
  if (conf.clusterMode && existsSync(conf.nodesConf)) {
    const before = readFileSync(conf.nodesConf, 'utf8');
    const after = rewriteMyselfAddress(before, ip);
    if (after !== before) {
      writeFileSync(conf.nodesConf, after);
      log(`nodes.conf: myself now at ${ip}`);
    }
  }
  const file = map('/etc/redis/redis.conf');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, conf.text);
  log(
    conf.clusterMode
      ? 'Starting redis service in cluster mode.....'
      : 'Starting redis service in standalone mode.....',
  );
  const run = asUser([bin, file], undefined);
  log(`starting ${run.join(' ')}`);
  return runServer(run).exited;
}

runEntrypoint(main, log);
