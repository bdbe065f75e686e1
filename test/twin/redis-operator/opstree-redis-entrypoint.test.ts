import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { findBinary } from '../../../twin/data/binaries.ts';

const ENTRY = path.resolve('twin/redis-operator/opstree-redis-entrypoint.ts');
const has = findBinary({ name: 'redis-server' }) !== undefined;

describe.skipIf(!has)('OT redis image entrypoint (needs redis-server: not found)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'twin-opstree-'));
  chmodSync(dir, 0o755);
  const podDir = path.join(dir, 'data_redis-cluster-leader-0');
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.pid) process.kill(-c.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  function start(ip: string) {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
      env: {
        ...process.env,
        TWIN_POD_DIR: podDir,
        TWIN_POD_IP: ip,
        HOSTNAME: 'redis-cluster-leader-0',
        SETUP_MODE: 'cluster',
        SERVER_MODE: 'cluster',
        PERSISTENCE_ENABLED: 'true',
        REDIS_PORT: '6379',
        TWIN_REDIS_ADDITIONAL_CONFIG: 'maxmemory 64mb\nmaxmemory-policy allkeys-lru\nappendfsync always\n',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    children.push(child);
    return { child, output: () => output };
  }

  async function stop(child: ChildProcess) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  it('runs redis-server in cluster mode with the image’s settings and the extra file; a restart at a new address keeps the node ID', async () => {
    const first = start('127.10.251.21');
    const c1 = await connectWithin('127.10.251.21', 30_000, first.output);
    const get = async (c: Redis, k: string) => ((await c.call('CONFIG', 'GET', k)) as string[])[1];
    expect(await get(c1, 'cluster-enabled')).toBe('yes');
    expect(await get(c1, 'cluster-node-timeout')).toBe('5000');
    expect(await get(c1, 'cluster-require-full-coverage')).toBe('no');
    expect(await get(c1, 'appendonly')).toBe('yes');
    expect(await get(c1, 'appendfsync')).toBe('always');
    expect(await get(c1, 'maxmemory')).toBe(String(64 * 1024 * 1024));
    expect(await get(c1, 'maxmemory-policy')).toBe('allkeys-lru');
    expect(await get(c1, 'dir')).toBe(path.join(podDir, 'rootfs/data'));
    expect(await get(c1, 'cluster-announce-hostname')).toBe('redis-cluster-leader-0');
    const id = String(await c1.call('CLUSTER', 'MYID'));
    c1.disconnect();
    await stop(first.child);
    // A node that had joined a cluster has its address on the myself line (a lone node writes :0@0).
    const nodesConf = path.join(podDir, 'rootfs/node-conf/nodes.conf');
    const conf = readFileSync(nodesConf, 'utf8');
    expect(conf).toMatch(new RegExp(`^${id} \\S+ myself,master`, 'm'));
    writeFileSync(nodesConf, conf.replace(/^(\S+) \S*:0@0/m, '$1 127.10.251.21:6379@16379'));

    const second = start('127.10.251.22');
    const c2 = await connectWithin('127.10.251.22', 30_000, second.output);
    expect(String(await c2.call('CLUSTER', 'MYID'))).toBe(id);
    const myself = String(await c2.call('CLUSTER', 'NODES'))
      .split('\n')
      .find((l) => l.includes('myself'))!;
    expect(myself).toContain('127.10.251.22:6379');
    expect(second.output()).toContain('nodes.conf: myself now at 127.10.251.22');
    c2.disconnect();
    await stop(second.child);
  });
});

async function connectWithin(host: string, timeoutMs: number, output: () => string): Promise<Redis> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const c = new Redis({
      host,
      port: 6379,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.ping();
      return c;
    } catch {
      c.disconnect();
      if (performance.now() > deadline)
        throw new Error(`redis-server did not answer on ${host}:\n${output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
