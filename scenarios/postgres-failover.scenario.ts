import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Environment, KubeObject } from '../env/environment.ts';
import {
  missingDataServices,
  NumberedWriter,
  type PgTarget,
  ReplicationMonitor,
  scenario,
  secretPgTarget,
} from '../harness/index.ts';
import { pollUntil, sleep } from './support/cluster-state.ts';

const NS = 'data-services';
const CLUSTER = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', namespace: NS, name: 'postgres' };
const HEALTHY = 'Cluster in healthy state';

/**
 * PostgreSQL of lambda-microservice (seed 004: primary + 2 standbys, "PostgreSQL primary loss →
 * automatic failover"), as a CloudNativePG Cluster. Numbered transactions go through the
 * `postgres-rw` Service continuously; the primary pod is killed, first with asynchronous replication
 * (lost commits counted), then with synchronous replication switched on in the manifest
 * (minSyncReplicas/maxSyncReplicas 1: no committed transaction may be lost). Measured: RTO from the
 * client's side, committed transactions lost, and the old primary rejoining as a standby. A second
 * writer goes through the seed's PgBouncer (the `postgres-pooler-rw` Pooler, transaction pooling),
 * whose RTO is measured the same way.
 */
const missing = missingDataServices(['postgres', 'pgbouncer', 'nats', 'rust-runtime']);
if (missing) describe.skip(`postgres-failover (${missing})`, () => it('runs live PostgreSQL', () => {}));
else
  scenario(
    'postgres-failover',
    {
      system: 'lambda-microservice',
      faults: ['killPod'],
      timeline: {
        services: [{ namespace: NS, name: 'postgres-rw' }],
        workloads: [{ namespace: NS, name: 'postgres', selector: { 'cnpg.io/cluster': 'postgres' } }],
      },
    },
    (s) => {
      let writer: NumberedWriter;
      let pooled: NumberedWriter;
      let monitor: ReplicationMonitor;
      let app: PgTarget;
      const losses: string[] = [];

      it('commits numbered transactions through postgres-rw in steady state', async () => {
        await s.step('wait for the Cluster to be healthy (primary + 2 streaming standbys)', () =>
          waitHealthy(s.env, 120_000),
        );
        app = await appTarget(s.env);
        writer = new NumberedWriter(app, 'probe', true);
        monitor = new ReplicationMonitor(await secretTarget(s.env, 'postgres-superuser'));
        monitor.start();
        await s.step('create the probe table', () => writer.prepare());
        writer.start();
        const t0 = performance.now();
        await sleep(1500);
        s.measure('steady-state commits', writer.acked.filter((a) => a.at >= t0).length, 'transactions', {
          atLeast: 20,
        });
        s.measure('steady-state failed transactions', writer.failures.length, 'transactions', { equals: 0 });
        await s.step('wait for the 3 PgBouncer pods of Pooler postgres-pooler-rw', () =>
          s.env.kube.waitFor(
            { kind: 'Deployment', namespace: NS, name: 'postgres-pooler-rw' },
            (d) => (d?.status?.availableReplicas ?? 0) >= 3,
            { timeout: 60_000, what: 'Deployment data-services/postgres-pooler-rw available' },
          ),
        );
        pooled = new NumberedWriter(await appTarget(s.env, 'postgres-pooler-rw'), 'pooled');
        await s.step('create the probe table through PgBouncer', () => pooled.prepare());
        pooled.start();
        await sleep(1000);
        s.measure('steady-state commits through PgBouncer', pooled.acked.length, 'transactions', {
          atLeast: 20,
        });
        const how = await poolerMode(s.env);
        s.note(`postgres-pooler-rw: ${how}`);
        const standbys = await replication(s.env);
        s.measure('standbys streaming', standbys.filter((r) => r.state === 'streaming').length, 'standbys', {
          equals: 2,
        });
      });

      it('asynchronous replication: kill the primary; a standby is promoted and the old primary rejoins', async () => {
        losses.push(await failover(s, writer, pooled, monitor, 'async'));
      });

      it('synchronous replication (minSyncReplicas 1): kill the primary; no committed transaction is lost', async () => {
        await s.step('ask for synchronous replication in the Cluster manifest', () =>
          s.env.kube.patch(CLUSTER, (c) => {
            c.spec.minSyncReplicas = 1;
            c.spec.maxSyncReplicas = 1;
          }),
        );
        await s.step('wait for a quorum standby on the primary', () =>
          until(
            async () => (await replication(s.env)).some((r) => r.syncState === 'quorum'),
            30_000,
            'a quorum standby',
          ),
        );
        const names = await superQuery(s.env, 'show synchronous_standby_names');
        s.note(`synchronous_standby_names = ${names[0]?.synchronous_standby_names}`);
        expect(String(names[0]?.synchronous_standby_names)).toMatch(/^ANY 1 \(/);
        // Commits acknowledged before the switch were asynchronous; only later ones are counted.
        await sleep(1000);
        losses.push(await failover(s, writer, pooled, monitor, 'sync', performance.now()));
        await writer.stop();
        await pooled.stop();
        await monitor.stop();
        s.note(`transactions lost in this run: ${losses.join('; ')}`);
        s.measure('transactions committed in total', writer.acked.length, 'transactions', { atLeast: 100 });
      });
    },
  );

type Ctx = Parameters<Parameters<typeof scenario>[2]>[0];

/** Kills the primary and measures the failover; returns a line on what it lost. */
async function failover(
  s: Ctx,
  writer: NumberedWriter,
  pooled: NumberedWriter,
  monitor: ReplicationMonitor,
  mode: 'async' | 'sync',
  syncSince = 0,
): Promise<string> {
  const before = (await s.env.kube.get(CLUSTER))!;
  const oldPrimary: string = before.status.currentPrimary;
  const failoversBefore = before.status.currentPrimaryFailoverCount ?? 0;
  const oldServer = writer.lastServer!;
  const pooledFrom = pooled.lastServer!;
  const faultAt = performance.now();
  await s.step(`kill the primary pod ${oldPrimary}`, () =>
    s.env.faults.killPod({ namespace: NS, name: oldPrimary }),
  );
  const promoted = await s.step('wait for the controller to promote a standby', () =>
    s.env.kube.waitFor(
      CLUSTER,
      (c) =>
        (c?.status?.currentPrimaryFailoverCount ?? 0) > failoversBefore &&
        c?.status?.currentPrimary !== oldPrimary,
      { timeout: 30_000, what: `a new primary instead of ${oldPrimary}` },
    ),
  );
  const promotedAt = performance.now();
  s.event('PrimaryPromoted', `${promoted?.status?.currentPrimary} promoted (was ${oldPrimary})`);
  await s.step('wait for commits through postgres-rw again', () => writer.waitForAcks(faultAt, 20, 30_000));
  const outage = writer.outageFrom(oldServer);
  expect(outage, `a commit on another server than the old primary (${oldServer})`).toBeDefined();
  s.measure(`time to promotion (${mode})`, (promotedAt - faultAt) / 1000, 's', { below: 15 });
  s.measure(`RTO: no commit through postgres-rw (${mode})`, outage!.ms / 1000, 's', {
    below: 20,
    description: `from the last commit on the old primary (${oldServer}) to the first one on the new primary`,
  });
  await s.step('wait for commits through PgBouncer again', () => pooled.waitForAcks(promotedAt, 5, 60_000));
  const pooledOutage = pooled.outageFrom(pooledFrom);
  expect(pooledOutage, 'a commit through PgBouncer on the new primary').toBeDefined();
  s.measure(`RTO: no commit through PgBouncer (${mode})`, pooledOutage!.ms / 1000, 's', {
    below: 30,
    description:
      'postgres-pooler-rw (transaction pooling) → postgres-rw; PgBouncer reconnects to the new primary',
  });
  const lostPooled = (await pooled.lostCommitted()).filter(
    (n) => (pooled.acked.find((a) => a.n === n)?.at ?? 0) >= syncSince,
  );
  if (mode === 'sync')
    s.measure('committed transactions lost through PgBouncer (sync)', lostPooled.length, 'transactions', {
      equals: 0,
    });
  else s.note(`async failover: ${lostPooled.length} commits acknowledged through PgBouncer were lost`);
  const lostAll = await writer.lostCommitted();
  const ackAt = new Map(writer.acked.map((a) => [a.n, a.at]));
  const lost = lostAll.filter((n) => (ackAt.get(n) ?? 0) >= syncSince);
  if (lostAll.length) {
    const where = await whereAre(s.env, lostAll);
    s.note(`${mode} failover: the missing transactions are on ${where}`);
  }
  if (lostAll.length)
    s.note(
      `${mode} failover: committed transactions missing afterwards: ${lostAll
        .slice(0, 20)
        .map(
          (n) => `${n} (acknowledged ${(((ackAt.get(n) ?? 0) - faultAt) / 1000).toFixed(3)} s from the kill)`,
        )
        .join(', ')}`,
    );
  // A commit a standby had flushed before the kill is on that standby; CloudNativePG promotes the most
  // aligned standby, so it survives (sync or async).
  const flushed = monitor.flushedBefore(faultAt);
  const onStandby = new Set(
    writer.acked.filter((a) => a.lsn !== undefined && a.lsn <= flushed).map((a) => a.n),
  );
  const lostFromStandby = lostAll.filter((n) => onStandby.has(n));
  s.measure(
    `committed transactions lost that a standby had (${mode})`,
    lostFromStandby.length,
    'transactions',
    {
      equals: 0,
      description:
        'pg_stat_replication flush_lsn at or past the commit before the kill; the most aligned standby is promoted',
    },
  );
  if (mode === 'sync')
    s.measure('committed transactions lost (sync)', lost.length, 'transactions', {
      equals: 0,
      description: 'a commit returns only once a synchronous standby has the WAL',
    });
  else
    s.measure('committed transactions lost (async)', lost.length, 'transactions', {
      description:
        'asynchronous: commits not yet streamed when the primary died can be lost (a primary shut down on SIGTERM first sends its WAL to the standbys)',
    });
  const rejoinStart = performance.now();
  await s.step(`wait for ${oldPrimary} to rejoin as a streaming standby`, () =>
    until(
      async () => {
        const r = await replication(s.env);
        const c = await s.env.kube.get(CLUSTER);
        return (
          r.some((x) => x.name === oldPrimary && x.state === 'streaming') && c?.status?.phase === HEALTHY
        );
      },
      90_000,
      `${oldPrimary} streaming from the new primary`,
    ),
  );
  s.measure(`old primary rejoined as standby (${mode})`, (performance.now() - rejoinStart) / 1000, 's', {
    below: 60,
  });
  const logs = await s.env.kube.logs({ namespace: NS, name: oldPrimary }, { tailLines: 400 });
  expect(logs, 'the old primary was rewound onto the new timeline').toMatch(/pg_rewind from/);
  return `${mode}: ${lost.length} committed transactions lost (${lostFromStandby.length} that a standby had), ${lostPooled.length} through PgBouncer`;
}

/** Which instances hold the given numbers (diagnostics for a lost commit). */
async function whereAre(env: Environment, ns: number[]): Promise<string> {
  const su = await secretTarget(env, 'postgres-superuser');
  const pods = await env.kube.list(
    { kind: 'Pod' },
    { namespace: NS, labelSelector: { matchLabels: { 'cnpg.io/cluster': 'postgres' } } },
  );
  const out: string[] = [];
  for (const p of pods) {
    const c = new pg.Client({
      ...su,
      host: p.status?.podIP,
      port: 5432,
      database: 'app',
      connectionTimeoutMillis: 1000,
    });
    c.on('error', () => {});
    try {
      await c.connect();
      const r = await c.query('select count(*)::int as k from failover_probe where n = any($1::bigint[])', [
        ns,
      ]);
      out.push(`${p.metadata.name} (${p.metadata.labels?.role}): ${r.rows[0].k}/${ns.length}`);
    } catch (err) {
      out.push(`${p.metadata.name}: ${(err as Error).message}`);
    } finally {
      await c.end().catch(() => {});
    }
  }
  return out.join('; ');
}

async function waitHealthy(env: Environment, timeoutMs: number): Promise<KubeObject | undefined> {
  return env.kube.waitFor(CLUSTER, (c) => c?.status?.phase === HEALTHY, {
    timeout: timeoutMs,
    what: `Cluster ${NS}/postgres to reach "${HEALTHY}"`,
  });
}

function secretTarget(env: Environment, name: string, service = 'postgres-rw'): Promise<PgTarget> {
  return secretPgTarget(env, { namespace: NS, secret: name, service });
}

function appTarget(env: Environment, service = 'postgres-rw'): Promise<PgTarget> {
  return secretTarget(env, 'postgres-app', service);
}

/** The PgBouncer start line of the Pooler's pods; its log shows the app user logged in through auth_query. */
async function poolerMode(env: Environment): Promise<string> {
  const pods = await env.kube.list(
    { kind: 'Pod' },
    { namespace: NS, labelSelector: { matchLabels: { 'cnpg.io/poolerName': 'postgres-pooler-rw' } } },
  );
  const logs = (
    await Promise.all(
      pods.map((p) => env.kube.logs({ namespace: NS, name: p.metadata.name }, { tailLines: 400 })),
    )
  ).join('\n');
  const line = logs.split('\n').find((l) => /pgbouncer-pod: /.test(l)) ?? '(no start line)';
  expect(logs, 'a PgBouncer pod logged the app user in through auth_query').toMatch(
    /login attempt: db=app user=app/,
  );
  return line.replace(/^.*pgbouncer-pod: /, '');
}

async function superQuery(env: Environment, sql: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({
    ...(await secretTarget(env, 'postgres-superuser')),
    connectionTimeoutMillis: 1000,
  });
  c.on('error', () => {});
  try {
    await c.connect();
    return (await c.query(sql)).rows;
  } finally {
    await c.end().catch(() => {});
  }
}

async function replication(
  env: Environment,
): Promise<Array<{ name: string; state: string; syncState: string }>> {
  try {
    const rows = await superQuery(env, 'select application_name, state, sync_state from pg_stat_replication');
    return rows.map((r) => ({
      name: String(r.application_name),
      state: String(r.state),
      syncState: String(r.sync_state),
    }));
  } catch {
    return [];
  }
}

function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<true> {
  return pollUntil(async () => (await check()) || undefined, { timeoutMs, what, everyMs: 200 });
}
