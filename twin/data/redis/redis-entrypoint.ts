/**
 * The official `redis` image run live by the twin's kubelet: `redis-server …` or `redis-sentinel …`
 * (also `redis-server --sentinel`) with the container's arguments. Cluster host names in
 * `--replicaof` and `--sentinel monitor` are resolved through the twin's DNS (the programs use the
 * system resolver), the server binds the pod's address and keeps its files (AOF, RDB) under the pod's
 * directory.
 *
 * With REDIS_SENTINEL_HOST (the Sentinel Service) and REDIS_SENTINEL_MASTER_NAME, a starting server
 * or sentinel first asks the sentinels for the current master, as the Bitnami chart's start scripts
 * do: a restarted old master comes back as a replica of the promoted one. A replica keeps following
 * the master the sentinels name (a pod recreated with a new address is not known to them yet).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { requireBinary } from '../binaries.ts';
import { podIp, podPath } from '../container-paths.ts';
import { resolveHost, runEntrypoint, runServer } from '../entrypoint.ts';
import { asUser } from '../run-as.ts';
import {
  dropSelfReplication,
  followMaster,
  formatOptions,
  hostsToResolve,
  parseOptions,
  planFromArgs,
  substituteHosts,
  withPodDefaults,
} from './redis-args.ts';
import { redisCall } from './redis-call.ts';

const env = process.env;
const log = (m: string) => process.stderr.write(`twin-redis: ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The master the sentinels name, or undefined when none answers (first start, no quorum yet). */
async function askSentinels(): Promise<{ ip: string; port: number } | undefined> {
  const host = env['REDIS_SENTINEL_HOST'];
  if (!host) return undefined;
  const r = await redisCall<[string, string] | null>(
    { host, port: Number(env['REDIS_SENTINEL_PORT_NUMBER'] || 26379) },
    ['SENTINEL', 'get-master-addr-by-name', env['REDIS_SENTINEL_MASTER_NAME'] || 'mymaster'],
    { connectMs: 500, commandMs: 500 },
  );
  return r ? { ip: r[0], port: Number(r[1]) } : undefined;
}

async function main(): Promise<number> {
  const plan = planFromArgs(process.argv.slice(2));
  const bin = requireBinary({ name: plan.program, debianPackage: plan.program });
  const ip = podIp(env);
  const parsed = parseOptions(plan.args);
  const ips = new Map<string, string>();
  for (const h of hostsToResolve(parsed.options)) ips.set(h, await resolveHost(h, 120_000));
  let options = substituteHosts(parsed.options, ips);
  const known = await askSentinels();
  if (known) log(`sentinels name ${known.ip}:${known.port} as master`);
  options = withPodDefaults(options, ip, (p) => podPath(p, env));
  const dataDir = options.find((o) => o[0] === 'dir')![1]!;
  mkdirSync(dataDir, { recursive: true });
  const argv = [bin];
  if (plan.program === 'redis-server') {
    options = followMaster(dropSelfReplication(options, ip), known, ip);
    if (parsed.file) log(`config file ${parsed.file} is not mounted on the twin; using the arguments only`);
  } else {
    if (known)
      options = options.map((o) =>
        o[0] === 'sentinel' && o[1] === 'monitor'
          ? [...o.slice(0, 3), known.ip, String(known.port), ...o.slice(5)]
          : o,
      );
    // Sentinels find each other through hello messages that carry the address they announce; the
    // socket's own address would be 127.0.0.1 here, the same for every sentinel.
    if (!options.some((o) => o[0] === 'sentinel' && o[1] === 'announce-ip'))
      options.push(['sentinel', 'announce-ip', ip]);
    // Sentinel rewrites its configuration file; each start begins from the container's arguments.
    const conf = path.join(dataDir, 'sentinel.conf');
    writeFileSync(conf, '');
    argv.push(conf);
  }
  argv.push(...formatOptions(options));
  const run = asUser(argv, undefined);
  log(`starting ${run.join(' ')}`);
  const server = runServer(run);
  if (plan.program === 'redis-server' && env['REDIS_SENTINEL_HOST']) {
    const port = Number(options.find((o) => o[0] === 'port')?.[1] ?? 6379);
    void followSentinels(ip, port, server.running);
  }
  return server.exited;
}

/** While this server runs as a replica, it follows the master the sentinels name. */
async function followSentinels(ip: string, port: number, running: () => boolean): Promise<void> {
  const self = new Redis({
    host: ip,
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    commandTimeout: 1000,
  });
  self.on('error', () => {});
  while (running()) {
    await sleep(1000);
    try {
      const master = await askSentinels();
      if (!master || master.ip === ip) continue;
      if (self.status !== 'ready') await self.connect().catch(() => {});
      const info = String(await self.info('replication'));
      const host = /master_host:(\S+)/.exec(info)?.[1];
      if (/role:slave/.test(info) && host !== master.ip) {
        log(`sentinels name ${master.ip}:${master.port}; replicating from it instead of ${host}`);
        await self.call('REPLICAOF', master.ip, String(master.port));
      }
    } catch {}
  }
  self.disconnect();
}

runEntrypoint(main, log);
