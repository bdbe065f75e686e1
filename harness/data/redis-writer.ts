import { Redis } from 'ioredis';
import { waitUntil } from '../../core/wait.ts';
import { redisCall } from '../../twin/data/redis/redis-call.ts';

export interface SentinelTarget {
  sentinels: Array<{ host: string; port: number }>;
  masterName: string;
  /**
   * Maps the "host:port" the sentinels hand out to an address this process reaches (sentinels with
   * `announce-hostnames yes` name pods by their cluster DNS names; see PodAddresses).
   */
  natMap?: (key: string) => { host: string; port: number } | null;
}

export interface WriterWindow {
  acked: number;
  failed: number;
  /** Longest time without an acknowledged write (ms), from the fault to the end. */
  longestGapMs: number;
  /** First and last failed operation after the fault (ms since the fault), or null. */
  errorWindowMs: number;
}

/**
 * What a client saw from `since` on, given the times (performance.now()) of its acknowledged and of
 * its failed operations: counts, the longest time without an acknowledgement (to the last one), and
 * the span from the first to the last failure.
 */
export function writerWindow(ackTimes: number[], failTimes: number[], since: number): WriterWindow {
  const acks = ackTimes.filter((t) => t >= since);
  const fails = failTimes.filter((t) => t >= since);
  let longestGapMs = 0;
  let prev = since;
  for (const t of acks) {
    longestGapMs = Math.max(longestGapMs, t - prev);
    prev = t;
  }
  return {
    acked: acks.length,
    failed: fails.length,
    longestGapMs,
    errorWindowMs: fails.length ? fails[fails.length - 1]! - fails[0]! : 0,
  };
}

/** How long a writer goes without an acknowledged write, while its operations fail, before it reconnects. */
const STUCK_MS = 1000;

/** How long a writer's `WAIT 1 <ms>` waits for a replica to confirm a write. */
export const WAIT_TIMEOUT_MS = 100;

/**
 * Acknowledged writes that a failover lost: every one, and those among them that a replica had
 * confirmed (`WAIT 1` answered 1 or more) before the fault. With Redis's asynchronous replication the
 * first can be non-zero (a write the master acknowledged but had not sent to a replica goes with the
 * master); the second is 0 whenever the promoted replica is the most up to date, as Sentinel and Redis
 * Cluster choose it. https://redis.io/docs/latest/commands/wait/
 */
export interface LostWrites {
  lost: number[];
  /** Lost writes that a replica had confirmed. */
  lostReplicated: number[];
}

/**
 * Continuous acknowledged writes and read-backs through a Sentinel-aware client (ioredis): one
 * `SET w:<n> <n>` at a time, each followed by `WAIT 1 100` (did a replica get it?) and a `GET` of the
 * same key. What the client saw (acknowledged, confirmed by a replica, failed, the gaps) is kept per
 * operation, so a fault's client-visible error window and the acknowledged writes lost can be counted
 * afterwards.
 */
export class SentinelWriter {
  readonly client: Redis;
  readonly acked: Array<{ seq: number; at: number }> = [];
  /** Writes that `WAIT 1` confirmed a replica had. */
  readonly replicated = new Set<number>();
  readonly failures: number[] = [];
  readonly readMismatches: number[] = [];
  private seq = 0;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    target: SentinelTarget,
    private readonly prefix = 'w',
  ) {
    this.client = SentinelWriter.connect(target);
    // ioredis 6: a +switch-master that arrives while the client is reconnecting through the
    // sentinels closes the connector under it ("Connection is closed."), and the client ends with no
    // retry. An application would reconnect it; so does the writer, and counts it.
    this.client.on('end', () => {
      if (this.closed) return;
      this.revived++;
      setTimeout(() => {
        if (!this.closed && this.client.status === 'end') this.client.connect().catch(() => {});
      }, 50);
    });
  }

  /** Times the client ended on its own and the writer connected it again. */
  revived = 0;
  private closed = false;

  static connect(target: SentinelTarget): Redis {
    const client = new Redis({
      sentinels: target.sentinels,
      name: target.masterName,
      ...(target.natMap ? { natMap: target.natMap } : {}),
      role: 'master',
      // A frozen master answers nothing: time out quickly, and let the sentinels' +switch-master
      // notification move the client to the promoted replica.
      commandTimeout: 250,
      connectTimeout: 500,
      // A frozen sentinel (its node partitioned) accepts the connection and answers nothing: without
      // this the client's master lookup through it waits forever.
      sentinelCommandTimeout: 500,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      failoverDetector: true,
      retryStrategy: () => 50,
      sentinelRetryStrategy: () => 50,
      reconnectOnError: (err) => (/READONLY|LOADING|MASTERDOWN/.test(err.message) ? 2 : false),
    });
    client.on('error', () => {});
    return client;
  }

  /** Resolves once the client is connected to the master the sentinels name. */
  static async ready(client: Redis, timeoutMs = 20_000): Promise<void> {
    await waitUntil(
      (progress) => {
        progress.status(`client ${client.status}`);
        return client.status === 'ready';
      },
      { what: 'a Redis master reachable through the sentinels', timeout: timeoutMs, interval: 25 },
    );
  }

  async start(): Promise<void> {
    await SentinelWriter.ready(this.client);
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const n = ++this.seq;
        try {
          await this.client.set(`${this.prefix}:${n}`, String(n));
          this.acked.push({ seq: n, at: performance.now() });
          const replicas = Number(await this.client.call('WAIT', '1', String(WAIT_TIMEOUT_MS)));
          if (replicas >= 1) this.replicated.add(n);
          const back = await this.client.get(`${this.prefix}:${n}`);
          if (back !== String(n)) this.readMismatches.push(n);
        } catch {
          const now = performance.now();
          this.failures.push(now);
          this.reconnectIfStuck(now);
          await new Promise((r) => setTimeout(r, 20));
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
  }

  /** Times the writer dropped a connection that had answered nothing for STUCK_MS and reconnected. */
  reconnects = 0;
  private lastReconnectAt = 0;

  /**
   * A master that answers nothing (frozen, its node cut off) keeps the client's socket open: every
   * command times out, and only a +switch-master from a sentinel the client subscribed to moves it.
   * When that sentinel is the frozen one, nothing does. As an application's health check would, the
   * writer drops a connection that has acknowledged nothing for STUCK_MS while operations fail, and
   * reconnects through the sentinels, which name the current master.
   */
  private reconnectIfStuck(now: number): void {
    const lastAck = this.acked.at(-1)?.at ?? 0;
    if (this.client.status !== 'ready') return;
    if (now - Math.max(lastAck, this.lastReconnectAt) < STUCK_MS) return;
    this.lastReconnectAt = now;
    this.reconnects++;
    this.client.disconnect(true);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** What the client saw from `since` (performance.now()) on. */
  windowSince(since: number): WriterWindow {
    return writerWindow(
      this.acked.map((a) => a.at),
      this.failures,
      since,
    );
  }

  /** Acknowledged writes missing from the current master, and which of them a replica had confirmed. */
  async lostWrites(): Promise<LostWrites> {
    const lost = await this.lostAcknowledged();
    return { lost, lostReplicated: lost.filter((seq) => this.replicated.has(seq)) };
  }

  /** When a write was acknowledged (performance.now()), or undefined. */
  ackedAt(seq: number): number | undefined {
    return this.acked.find((a) => a.seq === seq)?.at;
  }

  /** Acknowledged writes missing from the current master (read back in batches). */
  async lostAcknowledged(): Promise<number[]> {
    const lost: number[] = [];
    const acked = this.acked.slice();
    for (let i = 0; i < acked.length; i += 500) {
      const batch = acked.slice(i, i + 500);
      const values = await this.withRetry(() =>
        this.client.mget(...batch.map((a) => `${this.prefix}:${a.seq}`)),
      );
      batch.forEach((a, j) => {
        if (values[j] !== String(a.seq)) lost.push(a.seq);
      });
    }
    return lost;
  }

  /** Retries while the client moves to the promoted master (READONLY, reconnecting). */
  private async withRetry<T>(fn: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
    const { value } = await waitUntil(
      async (progress) => {
        await SentinelWriter.ready(this.client, progress.remaining());
        return { value: await fn() };
      },
      { what: 'the Redis master to answer', timeout: timeoutMs, interval: 100, retryIf: () => true },
    );
    return value;
  }

  disconnect(): void {
    this.closed = true;
    this.client.disconnect();
  }
}

/**
 * The master the sentinels name ("host:port"): each is asked (`SENTINEL master`) and the answer with the
 * highest configuration epoch wins, as a sentinel that just started from its initial configuration
 * still names the first master until the others' hello messages reach it.
 */
export async function sentinelMaster(target: SentinelTarget): Promise<string | undefined> {
  let best: { addr: string; epoch: number } | undefined;
  for (const s of target.sentinels) {
    const r = await askSentinel<string[]>(s, 'master', target.masterName);
    if (!Array.isArray(r)) continue;
    const field = (k: string) => r[r.indexOf(k) + 1];
    const epoch = Number(field('config-epoch') ?? -1);
    if (!best || epoch > best.epoch) best = { addr: `${field('ip')}:${field('port')}`, epoch };
  }
  return best?.addr;
}

/** One SENTINEL command on a short-lived connection; undefined when the sentinel does not answer in time. */
function askSentinel<T>(addr: { host: string; port: number }, ...args: string[]): Promise<T | undefined> {
  return redisCall<T>(addr, ['SENTINEL', ...args], { connectMs: 1000, commandMs: 1000 });
}

/**
 * Polls the sentinels until they name a master other than `previous`; resolves with it and when
 * (performance.now()). `target` may be a function, so that each poll asks the sentinels that are up.
 */
export async function waitForNewMaster(
  target: SentinelTarget | (() => Promise<SentinelTarget>),
  previous: string,
  timeoutMs: number,
): Promise<{ master: string; at: number }> {
  return waitUntil(
    async (progress) => {
      const m = await sentinelMaster(typeof target === 'function' ? await target() : target);
      if (m && m !== previous) return { master: m, at: performance.now() };
      progress.status(m ? `they still name ${previous}` : 'no sentinel answers');
      return undefined;
    },
    { what: `the sentinels to name a master other than ${previous}`, timeout: timeoutMs, interval: 25 },
  );
}

/**
 * Resolves once every reachable sentinel knows `count` healthy replicas of the master set (sentinels
 * learn replicas from the master's INFO every 10 s; a failover before that finds "no good slave").
 */
export async function waitForSentinelReplicas(
  sentinels: () => Promise<Array<{ host: string; port: number }>>,
  masterName: string,
  count: number,
  timeoutMs = 60_000,
): Promise<void> {
  await waitUntil(
    async (progress) => {
      const views = await Promise.all((await sentinels()).map((s) => healthyReplicas(s, masterName)));
      progress.status(
        `they know: ${views.map((v) => (v === undefined ? 'unreachable' : String(v))).join(', ')}`,
      );
      return views.every((v) => v === undefined || v >= count) && views.some((v) => v !== undefined);
    },
    { what: `every sentinel to know ${count} healthy replicas`, timeout: timeoutMs, interval: 250 },
  );
}

async function healthyReplicas(addr: { host: string; port: number }, masterName: string) {
  const replicas = await askSentinel<string[][]>(addr, 'REPLICAS', masterName);
  // A replica is healthy once its link to the master is up (`master-link-status ok`, from the INFO the
  // sentinel reads every 10 s): until its first full sync ends it is listed but confirms no write.
  return replicas?.filter((r) => field(r, 'flags') === 'slave' && field(r, 'master-link-status') === 'ok')
    .length;
}

function field(entry: string[], name: string): string | undefined {
  const i = entry.indexOf(name);
  return i >= 0 && i % 2 === 0 ? entry[i + 1] : undefined;
}

/** Runs a command on each sentinel (e.g. SENTINEL SET <master> down-after-milliseconds 1000). */
export async function onEachSentinel(sentinels: Array<{ host: string; port: number }>, ...command: string[]) {
  for (const s of sentinels) {
    const c = new Redis({
      ...s,
      lazyConnect: true,
      connectTimeout: 500,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.call(command[0]!, ...command.slice(1));
    } finally {
      c.disconnect();
    }
  }
}
