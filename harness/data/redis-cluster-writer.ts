import { Cluster } from 'ioredis';
import { waitUntil } from '../../core/wait.ts';
import { redisCall } from '../../twin/data/redis/redis-call.ts';
import { type ClusterNode, parseClusterNodes } from '../../twin/redis-operator/redis-cluster-spec.ts';
import { WAIT_TIMEOUT_MS, writerWindow } from './redis-writer.ts';

export type { ClusterNode };

export interface Address {
  host: string;
  port: number;
}

/** A hash tag whose keys all hash to `slot`; `{tag}:<n>` keys of it live on the slot's shard. */
interface Tag {
  tag: string;
  slot: number;
}

export interface ShardWindow {
  acked: number;
  failed: number;
  /** Longest time without an acknowledged write on the shard (ms), from `since` to the end. */
  longestGapMs: number;
  /** First to last failed operation on the shard after `since` (ms), 0 when none failed. */
  errorWindowMs: number;
}

/**
 * Continuous acknowledged writes through a cluster-aware client (ioredis `Cluster`): one writer loop
 * per shard (slot range of a master at the start), each doing `SET {tag}:<n> <n>` and `WAIT 1 100` in
 * one pipeline to the key's master (did its replica get it?), then a `GET` of it,
 * with hash tags chosen so that every shard gets keys. A shard whose master dies stalls alone; the
 * others keep writing. What each loop saw is kept per operation, so a shard's client-visible error
 * window and the acknowledged writes lost can be counted afterwards.
 */
export class ClusterWriter {
  readonly client: Cluster;
  readonly acked: Array<{ key: string; n: number; slot: number; at: number }> = [];
  /** Keys whose write `WAIT 1` confirmed a replica had. */
  readonly replicated = new Set<string>();
  readonly failures: Array<{ slot: number; at: number }> = [];
  readonly readMismatches: string[] = [];
  /** The shards at the start: slot range and the tags that fall in it. */
  shards: Array<{ range: [number, number]; tags: Tag[] }> = [];
  private n = 0;
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    startup: Address[],
    private readonly prefix = 'cw',
  ) {
    this.client = new Cluster(startup, {
      // Short timeouts and no retries: every failed operation is seen and counted by the loop.
      redisOptions: { connectTimeout: 500, commandTimeout: 500, maxRetriesPerRequest: 0 },
      enableOfflineQueue: false,
      clusterRetryStrategy: () => 100,
      retryDelayOnFailover: 50,
      retryDelayOnClusterDown: 50,
      retryDelayOnTryAgain: 50,
      // Learn a promoted replica soon after the cluster does.
      slotsRefreshInterval: 250,
      slotsRefreshTimeout: 500,
    });
    this.client.on('error', () => {});
  }

  /** Waits for the client, then picks hash tags: `perShard` for every master's slot range. */
  async prepare(perShard = 8, timeoutMs = 20_000): Promise<void> {
    await waitUntil(
      (progress) => {
        progress.status(`client ${this.client.status}`);
        return this.client.status === 'ready';
      },
      { what: 'the Redis Cluster client to be ready', timeout: timeoutMs, interval: 25 },
    );
    const slots = (await this.client.cluster('SLOTS')) as Array<[number, number, ...unknown[]]>;
    this.shards = slots
      .map(([a, b]) => ({ range: [a, b] as [number, number], tags: [] as Tag[] }))
      .sort((x, y) => x.range[0] - y.range[0]);
    const any = this.client.nodes('master')[0]!;
    for (let i = 0; this.shards.some((s) => s.tags.length < perShard); i++) {
      if (i > 10_000) throw new Error('no hash tags found for every shard');
      const tag = `${this.prefix}${i}`;
      const slot = Number(await any.call('CLUSTER', 'KEYSLOT', tag));
      const shard = this.shards.find((s) => slot >= s.range[0] && slot <= s.range[1]);
      if (shard && shard.tags.length < perShard) shard.tags.push({ tag, slot });
    }
  }

  start(): void {
    this.running = true;
    this.loops = this.shards.map((shard) =>
      (async () => {
        let i = 0;
        while (this.running) {
          const t = shard.tags[i++ % shard.tags.length]!;
          const n = ++this.n;
          const key = `{${t.tag}}:${n}`;
          try {
            const [set, wait] = (await this.client
              .pipeline()
              .set(key, String(n))
              .call('WAIT', '1', String(WAIT_TIMEOUT_MS))
              .exec()) as Array<[Error | null, unknown]>;
            if (!set || set[0]) throw set?.[0] ?? new Error('no reply');
            this.acked.push({ key, n, slot: t.slot, at: performance.now() });
            if (wait && !wait[0] && Number(wait[1]) >= 1) this.replicated.add(key);
            const back = await this.client.get(key);
            if (back !== String(n)) this.readMismatches.push(key);
          } catch {
            this.failures.push({ slot: t.slot, at: performance.now() });
            await sleep(20);
          }
          await sleep(2);
        }
      })(),
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** What the client saw on the shard holding `slot` (its range at the start), from `since` on. */
  shardWindow(slot: number, since: number): ShardWindow {
    const shard = this.shards.find((s) => slot >= s.range[0] && slot <= s.range[1]);
    const inShard = (s: number) => shard !== undefined && s >= shard.range[0] && s <= shard.range[1];
    return writerWindow(
      this.acked.filter((a) => inShard(a.slot)).map((a) => a.at),
      this.failures.filter((f) => inShard(f.slot)).map((f) => f.at),
      since,
    );
  }

  /** Acknowledged writes whose key does not read back, and which of them a replica had confirmed. */
  async lostWrites(timeoutMs = 20_000): Promise<{ lost: string[]; lostReplicated: string[] }> {
    const lost = await this.lostAcknowledged(timeoutMs);
    return { lost, lostReplicated: lost.filter((k) => this.replicated.has(k)) };
  }

  /** Acknowledged writes whose key does not read back (MGET per hash tag, one slot each). */
  async lostAcknowledged(timeoutMs = 20_000): Promise<string[]> {
    const byTag = new Map<string, Array<{ key: string; n: number }>>();
    for (const a of this.acked) {
      const tag = a.key.slice(1, a.key.indexOf('}'));
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push(a);
    }
    const lost: string[] = [];
    for (const entries of byTag.values())
      for (let i = 0; i < entries.length; i += 500) {
        const batch = entries.slice(i, i + 500);
        const values = await retry(() => this.client.mget(...batch.map((e) => e.key)), timeoutMs);
        batch.forEach((e, j) => {
          if (values[j] !== String(e.n)) lost.push(e.key);
        });
      }
    return lost;
  }

  disconnect(): void {
    this.client.disconnect();
  }
}

/** CLUSTER NODES as the first of `addresses` that answers sees it; undefined when none does. */
export async function clusterNodes(addresses: Address[]): Promise<ClusterNode[] | undefined> {
  for (const a of addresses) {
    const text = await ask<string>(a, 'CLUSTER', 'NODES');
    if (text) return parseClusterNodes(text);
  }
  return undefined;
}

/** CLUSTER INFO of one node as a map; undefined when it does not answer. */
export async function clusterInfo(address: Address): Promise<Record<string, string> | undefined> {
  const text = await ask<string>(address, 'CLUSTER', 'INFO');
  if (!text) return undefined;
  return Object.fromEntries(
    text
      .split(/\r?\n/)
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );
}

/** One command on a short-lived connection; undefined when the node does not answer in time. */
export function ask<T>(address: Address, ...args: string[]): Promise<T | undefined> {
  return redisCall<T>(address, args);
}

async function retry<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const { value } = await waitUntil(async () => ({ value: await fn() }), {
    what: 'the Redis Cluster to answer',
    timeout: timeoutMs,
    interval: 100,
    retryIf: () => true,
  });
  return value;
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
