/**
 * The pure part of the Redis runner: how a container's `redis-server` / `redis-sentinel` arguments
 * become the argv run on this machine.
 */
export interface RedisPlan {
  program: 'redis-server' | 'redis-sentinel';
  /** Arguments with cluster host names still in place (see hostsToResolve). */
  args: string[];
}

/** As the official image's entrypoint: a first argument `redis-server`/`redis-sentinel` names the program, `-…` options go to redis-server. */
export function planFromArgs(argv: string[]): RedisPlan {
  const [first, ...rest] = argv;
  if (first === 'redis-sentinel') return { program: 'redis-sentinel', args: rest };
  if (first === 'redis-server') {
    if (rest.includes('--sentinel'))
      return { program: 'redis-sentinel', args: rest.filter((a) => a !== '--sentinel') };
    return { program: 'redis-server', args: rest };
  }
  return { program: 'redis-server', args: argv };
}

/** Splits `--name v1 v2 --other …` into options (a bare config-file path first is kept as `file`). */
export function parseOptions(args: string[]): { file?: string; options: string[][] } {
  const out: { file?: string; options: string[][] } = { options: [] };
  let i = 0;
  if (args[0] !== undefined && !args[0].startsWith('--')) {
    out.file = args[0];
    i = 1;
  }
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) out.options.push([a.slice(2)]);
    else if (out.options.length) out.options[out.options.length - 1]!.push(a);
  }
  return out;
}

export function formatOptions(options: string[][]): string[] {
  return options.flatMap(([name, ...values]) => [`--${name}`, ...values]);
}

/** Host names in positions where Redis expects an address: replicaof/slaveof and sentinel monitor. */
export function hostsToResolve(options: string[][]): string[] {
  const hosts: string[] = [];
  for (const o of options) {
    if ((o[0] === 'replicaof' || o[0] === 'slaveof') && o[1]) hosts.push(o[1]);
    if (o[0] === 'sentinel' && o[1] === 'monitor' && o[3]) hosts.push(o[3]);
  }
  return hosts.filter((h) => !/^\d+\.\d+\.\d+\.\d+$/.test(h));
}

export function substituteHosts(options: string[][], ips: Map<string, string>): string[][] {
  return options.map((o) => {
    if ((o[0] === 'replicaof' || o[0] === 'slaveof') && o[1])
      return [o[0], ips.get(o[1]) ?? o[1], ...o.slice(2)];
    if (o[0] === 'sentinel' && o[1] === 'monitor' && o[3])
      return [...o.slice(0, 3), ips.get(o[3]) ?? o[3], ...o.slice(4)];
    return o;
  });
}

/**
 * The options a pod needs on a shared loopback: its own address instead of `*`/0.0.0.0 (every pod has
 * the same port), the data directory (the container's `dir`, default /data) mapped under the pod's
 * directory, and protected mode off (other pods connect from their own addresses, as over a pod network).
 */
export function withPodDefaults(
  options: string[][],
  podIp: string,
  mapPath: (containerPath: string) => string,
): string[][] {
  const dir = options.find((o) => o[0] === 'dir')?.[1] ?? '/data';
  const rest = options.filter((o) => o[0] !== 'bind' && o[0] !== 'dir' && o[0] !== 'protected-mode');
  return [['bind', podIp], ['dir', mapPath(dir)], ['protected-mode', 'no'], ...rest];
}

/** A replica of its own address is the initial master (the StatefulSet template names pod 0 as master). */
export function dropSelfReplication(options: string[][], podIp: string): string[][] {
  return options.filter((o) => !((o[0] === 'replicaof' || o[0] === 'slaveof') && o[1] === podIp));
}

/** Replaces replicaof (or adds it) to follow the master that the sentinels name, unless that is this pod. */
export function followMaster(
  options: string[][],
  master: { ip: string; port: number } | undefined,
  podIp: string,
) {
  if (!master) return options;
  const rest = options.filter((o) => o[0] !== 'replicaof' && o[0] !== 'slaveof');
  if (master.ip === podIp) return rest;
  return [...rest, ['replicaof', master.ip, String(master.port)]];
}
