import pg from 'pg';
import { waitUntil } from '../../core/wait.ts';
import type { Environment } from '../../env/environment.ts';

export interface PgTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/**
 * Where a client of a CloudNativePG Cluster connects: the user, password and database of a
 * basic-auth Secret (`<cluster>-app`, `<cluster>-superuser`: dbname `*` means `postgres`), at the
 * address the environment gives `service` (`<cluster>-rw`, a Pooler's Service).
 */
export async function secretPgTarget(
  env: Environment,
  ref: { namespace: string; secret: string; service: string },
): Promise<PgTarget> {
  const secret = await env.kube.get({ kind: 'Secret', namespace: ref.namespace, name: ref.secret });
  const data = (secret as { data?: Record<string, string> } | undefined)?.data ?? {};
  const v = (k: string) => Buffer.from(data[k] ?? '', 'base64').toString('utf8');
  const url = new URL(await env.net.serviceUrl({ namespace: ref.namespace, name: ref.service, port: 5432 }));
  return {
    host: url.hostname,
    port: Number(url.port),
    user: v('username'),
    password: v('password'),
    database: v('dbname') === '*' ? 'postgres' : v('dbname'),
  };
}

/**
 * Continuous numbered transactions: `INSERT INTO failover_probe (n) VALUES ($1)`, one at a time, each
 * its own transaction, through a fresh connection whenever the last one broke (as a pooled client
 * behind the `-rw` Service does). A number is acknowledged when its COMMIT returned; the lost ones
 * are those acknowledged that the current primary does not have. Each acknowledgement records the
 * server that committed it (`inet_server_addr()`, the instance's pod address whether the client came
 * through a Service or a pooler), so the RTO is measured between servers, not between guesses of
 * when the fault landed.
 */
export class NumberedWriter {
  /** Acknowledged commits: when, on which server, and (with `recordLsn`) a WAL position at or after the commit. */
  readonly acked: Array<{ n: number; at: number; server: string; lsn?: bigint }> = [];
  readonly failures: number[] = [];
  private n = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private client: pg.Client | undefined;

  constructor(
    private readonly target: PgTarget,
    /** Table suffix, so that several writers can share a database. */
    private readonly name = 'probe',
    /** Also read pg_current_wal_lsn() after each commit, so a ReplicationMonitor can tell whether a standby had it. */
    private readonly recordLsn = false,
  ) {}

  private get table(): string {
    return `failover_${this.name}`;
  }

  async prepare(timeoutMs = 30_000): Promise<void> {
    // The first connection through a Service or a pooler may take a while on a loaded machine.
    const c = await waitUntil(() => this.connect(), {
      what: `a first connection to PostgreSQL (${this.name} writer)`,
      timeout: timeoutMs,
      interval: 250,
      retryIf: () => true,
    });
    await c.query(
      `create table if not exists ${this.table} (n bigint primary key, at timestamptz default now())`,
    );
    const r = await c.query(`select coalesce(max(n), 0)::bigint as m from ${this.table}`);
    this.n = Number(r.rows[0].m);
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const n = ++this.n;
        try {
          const c = await this.connect();
          const r = await c.query(
            `insert into ${this.table} (n) values ($1) returning host(inet_server_addr()) as server`,
            [n],
          );
          const at = performance.now();
          const server = String(r.rows[0]?.server);
          if (this.recordLsn) {
            const l = await c.query('select pg_current_wal_lsn()::text as lsn');
            this.acked.push({ n, at, server, lsn: parseLsn(String(l.rows[0]?.lsn)) });
          } else this.acked.push({ n, at, server });
        } catch {
          this.failures.push(performance.now());
          this.drop();
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.drop();
  }

  /** First acknowledged commit at or after `since` (performance.now()), or undefined. */
  firstAckAfter(since: number): number | undefined {
    return this.acked.find((a) => a.at >= since)?.at;
  }

  /** The server that committed the last acknowledged transaction (undefined before the first). */
  get lastServer(): string | undefined {
    return this.acked.at(-1)?.server;
  }

  /**
   * The client-side outage of a failover away from `oldServer`: from the last commit acknowledged by
   * it to the first acknowledged by another server (ms, performance.now() clock); undefined until a
   * commit on another server was acknowledged.
   */
  outageFrom(oldServer: string): { lastOld: number; firstNew: number; ms: number } | undefined {
    let lastOld: number | undefined;
    for (const a of this.acked) {
      if (a.server === oldServer) lastOld = a.at;
      else if (lastOld !== undefined) return { lastOld, firstNew: a.at, ms: a.at - lastOld };
    }
    return undefined;
  }

  async waitForAcks(since: number, count: number, timeoutMs: number): Promise<void> {
    await waitUntil(
      (progress) => {
        const n = this.acked.filter((a) => a.at >= since).length;
        progress.status(`${n} committed`);
        return n >= count;
      },
      { what: `${count} transactions committed after the fault`, timeout: timeoutMs, interval: 50 },
    );
  }

  /** Acknowledged numbers the primary does not have. */
  async lostCommitted(): Promise<number[]> {
    // Only what was acknowledged before the query: the writer may still be running.
    const acked = this.acked.slice();
    return waitUntil(
      async () => {
        const c = new pg.Client({ ...this.target, connectionTimeoutMillis: 1000 });
        c.on('error', () => {});
        try {
          await c.connect();
          // Right after a failover the Service may still send a new connection to a standby.
          const rec = await c.query('select pg_is_in_recovery() as r');
          if (rec.rows[0].r) throw new Error('postgres-rw reached a standby');
          const r = await c.query(`select n from ${this.table} where n = any($1::bigint[])`, [
            acked.map((a) => a.n),
          ]);
          const have = new Set(r.rows.map((row) => Number(row.n)));
          return acked.filter((a) => !have.has(a.n)).map((a) => a.n);
        } finally {
          await c.end().catch(() => {});
        }
      },
      {
        what: 'the primary to read back the acknowledged writes',
        timeout: 20_000,
        interval: 200,
        retryIf: () => true,
      },
    );
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const c = new pg.Client({ ...this.target, connectionTimeoutMillis: 1000, query_timeout: 2000 });
    c.on('error', () => {
      if (this.client === c) this.client = undefined;
    });
    try {
      await c.connect();
    } catch (err) {
      await c.end().catch(() => {});
      throw err;
    }
    this.client = c;
    return c;
  }

  private drop(): void {
    const c = this.client;
    this.client = undefined;
    c?.end().catch(() => {});
  }
}

/** A WAL position ("16/B374D848") as a number. */
export function parseLsn(text: string): bigint {
  const [hi, lo] = text.split('/');
  return (BigInt(`0x${hi || '0'}`) << 32n) + BigInt(`0x${lo || '0'}`);
}

/**
 * What the standbys had: the highest WAL position a standby reported flushed (pg_stat_replication on the
 * primary, read every 25 ms as the superuser), with when it was read. A commit whose position a standby
 * had flushed before the primary died is on that standby; CloudNativePG promotes the most aligned
 * standby, so such a commit survives an asynchronous failover.
 */
export class ReplicationMonitor {
  readonly samples: Array<{ at: number; flushed: bigint }> = [];
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly superuser: PgTarget) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      let c: pg.Client | undefined;
      while (this.running) {
        try {
          if (!c) {
            c = new pg.Client({ ...this.superuser, connectionTimeoutMillis: 1000, query_timeout: 1000 });
            c.on('error', () => {});
            await c.connect();
          }
          const r = await c.query(
            "select coalesce(max(flush_lsn), '0/0')::text as f from pg_stat_replication where not pg_is_in_recovery()",
          );
          if (r.rows[0]) this.samples.push({ at: performance.now(), flushed: parseLsn(String(r.rows[0].f)) });
        } catch {
          await c?.end().catch(() => {});
          c = undefined;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      await c?.end().catch(() => {});
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** The highest position a standby had flushed, as read before `time` (performance.now()). */
  flushedBefore(time: number): bigint {
    let best = 0n;
    for (const s of this.samples) if (s.at < time && s.flushed > best) best = s.flushed;
    return best;
  }
}
