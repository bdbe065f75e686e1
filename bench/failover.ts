/**
 * bench failover — failover figures of lambda-microservice's data tier on the twin (live programs):
 *   Redis Sentinel: the master's node loses power while no replacement pod can be scheduled (every
 *     node cordoned); time until the sentinels name a new master, the client's longest time without an
 *     acknowledged write, and the acknowledged writes lost (those a replica had confirmed with WAIT 1
 *     apart, and when the lost ones were acknowledged), with the seed's settings (the production
 *     overlay: Redis's default down-after-milliseconds 30000) and with down-after-milliseconds 1000
 *     (SENTINEL SET on every sentinel);
 *   PostgreSQL (CloudNativePG Cluster, failoverDelay 0): from killing the primary pod to the new
 *     primary in the Cluster status, and to the first commit on the new primary through postgres-rw
 *     and through PgBouncer (the postgres-pooler-rw Pooler).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { waitUntil } from '../core/wait.ts';
import type { Environment } from '../env/environment.ts';
import { localEnvironment } from '../env/local/local-environment.ts';
import { NumberedWriter, secretPgTarget } from '../harness/data/pg-writer.ts';
import { PodAddresses } from '../harness/data/pod-addresses.ts';
import {
  onEachSentinel,
  type SentinelTarget,
  SentinelWriter,
  sentinelMaster,
  waitForNewMaster,
  waitForSentinelReplicas,
} from '../harness/data/redis-writer.ts';
import { missingDataServices } from '../harness/data/requirements.ts';

const NS = 'data-services';
const CLUSTER = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', namespace: NS, name: 'postgres' };

export async function benchFailover(): Promise<void> {
  const missing = missingDataServices(['redis', 'postgres', 'pgbouncer']);
  if (missing) {
    console.log(`bench:failover skipped (${missing})`);
    return;
  }
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'twin-bench-failover-'));
  // mkdtemp makes it 0700; the postgres user that servers run as (when root) must traverse it.
  await chmod(workDir, 0o755);
  try {
    await using env = await localEnvironment.up({
      system: 'lambda-microservice',
      overlay: 'production',
      workDir,
    });
    const sentinels = async () =>
      (await env.kube.list({ kind: 'Pod' }, { namespace: NS }))
        .filter(
          (p) =>
            p.metadata.labels?.['app.kubernetes.io/component'] === 'sentinel' &&
            p.status?.podIP &&
            (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
        )
        .map((p) => ({ host: p.status.podIP as string, port: 26379 }));
    const pods = await PodAddresses.start(env, NS);
    const target: SentinelTarget = {
      sentinels: await sentinels(),
      masterName: 'mymaster',
      natMap: pods.natMap,
    };
    const seed = await redisFailover(env, target, sentinels, pods, 'seed');
    console.log(`bench:failover  Redis, seed settings (down-after-milliseconds 30000): ${describe(seed)}`);
    await onEachSentinel(await sentinels(), 'SENTINEL', 'SET', 'mymaster', 'down-after-milliseconds', '1000');
    const fast = await redisFailover(env, target, sentinels, pods, 'fast');
    console.log(`bench:failover  Redis, down-after-milliseconds 1000: ${describe(fast)}`);
    pods.close();
    const p = await postgresFailover(env);
    console.log(
      `bench:failover  PostgreSQL (CNPG, failoverDelay 0, async): new primary ${p.promotion.toFixed(2)} s after the kill; RTO through postgres-rw ${p.rto.toFixed(2)} s, through PgBouncer (postgres-pooler-rw) ${p.pooledRto.toFixed(2)} s; ${p.lost} committed transactions lost`,
    );
  } catch (err) {
    console.log(`bench:failover failed; pod logs kept in ${workDir}/pods`);
    process.exitCode = 1;
    throw err;
  } finally {
    if (!process.exitCode) await rm(workDir, { recursive: true, force: true });
  }
}

type RedisFigures = Awaited<ReturnType<typeof redisFailover>>;

function describe(r: RedisFigures): string {
  if ('failed' in r) return `no new master: ${r.failed}`;
  return `new master ${r.rto.toFixed(2)} s after the master's node lost power, client without an acknowledged write for ${r.gap.toFixed(2)} s, ${r.lost} acknowledged writes lost (${r.lostReplicated} of them confirmed by a replica${r.lostWhen ? `; acknowledged ${r.lostWhen} before the fault` : ''})${r.revived ? ` (the ioredis client ended ${r.revived}× and was connected again)` : ''}`;
}

async function redisFailover(
  env: Environment,
  target: SentinelTarget,
  sentinels: () => Promise<Array<{ host: string; port: number }>>,
  pods: PodAddresses,
  /** Key prefix: each run writes its own keys, so one run's keys cannot stand in for another's lost ones. */
  prefix: string,
) {
  await waitForSentinelReplicas(sentinels, target.masterName, 2, 90_000);
  const ask = async () => sentinelMaster({ ...target, sentinels: await sentinels() });
  const writer = new SentinelWriter(target, prefix);
  await writer.start();
  await new Promise((r) => setTimeout(r, 2000));
  const master = (await ask())!;
  const pod = (await pods.podOf(master))!;
  const node = pod.spec.nodeName as string;
  const nodes = (await env.kube.list({ kind: 'Node' })).map((n) => n.metadata.name);
  for (const n of nodes) await env.faults.cordon(n);
  const faultAt = performance.now();
  await env.faults.stopNode(node);
  let promoted: { master: string; at: number };
  try {
    promoted = await waitForNewMaster(
      async () => ({ ...target, sentinels: await sentinels() }),
      master,
      120_000,
    );
  } catch (err) {
    // Sentinel's own outcome, e.g. a split vote (-failover-abort-not-elected) that postpones the next
    // attempt by twice failover-timeout: reported, and the master's node brought back.
    const said = new Set<string>();
    for (const p of await env.kube.list({ kind: 'Pod' }, { namespace: NS }))
      if (p.metadata.labels?.['app.kubernetes.io/component'] === 'sentinel')
        for (const line of (
          await env.kube.logs({ namespace: NS, name: p.metadata.name }, { tailLines: 2000 })
        ).split('\n'))
          if (/-failover-abort|Next failover delay|\+elected-leader|voted for/.test(line))
            said.add(
              line
                .replace(/^\d+:X .*?\d\d:\d\d:\d\d\.\d+ [#*] /, '')
                .replace(/ master mymaster .*$/, '')
                .replace(/ on .*$/, ''),
            );
    writer.disconnect();
    await env.faults.startNode(node);
    for (const n of nodes) await env.faults.uncordon(n);
    return { failed: `${(err as Error).message}; the sentinels logged: ${[...said].join(' | ')}` } as const;
  }
  await waitUntil(() => writer.acked.filter((a) => a.at > promoted.at).length >= 20, {
    what: `20 writes after the sentinels promoted ${promoted.master}`,
    timeout: 60_000,
    interval: 50,
  }).catch((err) => {
    writer.disconnect();
    throw err;
  });
  await writer.stop();
  const w = writer.windowSince(faultAt);
  const lost = await writer.lostWrites();
  const ages = lost.lost.map((seq) => (faultAt - (writer.ackedAt(seq) ?? faultAt)) / 1000);
  writer.disconnect();
  await env.faults.startNode(node);
  for (const n of nodes) await env.faults.uncordon(n);
  return {
    rto: (promoted.at - faultAt) / 1000,
    gap: w.longestGapMs / 1000,
    lost: lost.lost.length,
    lostReplicated: lost.lostReplicated.length,
    lostWhen: ages.length ? `${Math.min(...ages).toFixed(3)}–${Math.max(...ages).toFixed(3)} s` : '',
    revived: writer.revived,
  };
}

async function postgresFailover(env: Environment) {
  await env.kube.waitFor(CLUSTER, (c) => c?.status?.phase === 'Cluster in healthy state', {
    timeout: 120_000,
    what: 'Cluster data-services/postgres healthy',
  });
  await env.kube.waitFor(
    { kind: 'Deployment', namespace: NS, name: 'postgres-pooler-rw' },
    (d) => (d?.status?.availableReplicas ?? 0) >= 1,
    { timeout: 60_000, what: 'PgBouncer pods of Pooler data-services/postgres-pooler-rw' },
  );
  const target = (service: string) => secretPgTarget(env, { namespace: NS, secret: 'postgres-app', service });
  const writer = new NumberedWriter(await target('postgres-rw'));
  const pooled = new NumberedWriter(await target('postgres-pooler-rw'), 'pooled');
  await pooled.prepare();
  pooled.start();
  await writer.prepare();
  writer.start();
  await new Promise((r) => setTimeout(r, 1000));
  const before = (await env.kube.get(CLUSTER))!;
  const old = before.status.currentPrimary as string;
  const oldServer = writer.lastServer!;
  const pooledFrom = pooled.lastServer!;
  const faultAt = performance.now();
  await env.faults.killPod({ namespace: NS, name: old });
  await env.kube.waitFor(CLUSTER, (c) => c?.status?.currentPrimary && c.status.currentPrimary !== old, {
    timeout: 60_000,
    what: 'a new primary',
  });
  const promotedAt = performance.now();
  await writer.waitForAcks(faultAt, 20, 60_000);
  await pooled.waitForAcks(promotedAt, 5, 60_000);
  await writer.stop();
  await pooled.stop();
  const outage = writer.outageFrom(oldServer);
  const pooledOutage = pooled.outageFrom(pooledFrom);
  if (!outage || !pooledOutage)
    throw new Error(`no commit on another server than the old primary (${oldServer})`);
  const lost = (await writer.lostCommitted()).length + (await pooled.lostCommitted()).length;
  return {
    promotion: (promotedAt - faultAt) / 1000,
    rto: outage.ms / 1000,
    pooledRto: pooledOutage.ms / 1000,
    lost,
  };
}
