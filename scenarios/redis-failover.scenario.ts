import { describe, expect, it } from 'vitest';
import type { Environment, KubeObject } from '../env/environment.ts';
import {
  isTwinError,
  type LostWrites,
  missingDataServices,
  PodAddresses,
  type SentinelTarget,
  SentinelWriter,
  scenario,
  sentinelMaster,
  waitForSentinelReplicas,
  waitUntil,
} from '../harness/index.ts';
import { pollAtMost, sleep } from './support/cluster-state.ts';

const NS = 'data-services';
const MASTER_NAME = 'mymaster';

/**
 * Redis Sentinel of lambda-microservice (seed 004: 1 master, 2 replicas, 3 sentinels, AOF; failure
 * table: "Redis master loss → automatic failover by Sentinel"), the official redis image running the
 * production manifests. A client writes through the sentinels, each write followed by `WAIT 1` (did a
 * replica get it?), and reads it back. Then: the master's pod is deleted and comes back under its name;
 * the master's node loses power while no replacement can be scheduled (a replica is promoted); the new
 * master's node is cut off (a replica is promoted again) and healed.
 *
 * Losses, as Redis documents them for this configuration (asynchronous replication, the seed sets no
 * min-replicas-to-write): a write the master acknowledged but had not yet sent to a replica can be lost
 * when the master dies; a write a replica confirmed (WAIT) is kept, because Sentinel promotes the most
 * up-to-date replica; a master that shuts down on SIGTERM first lets its replicas catch up and fsyncs its
 * AOF, so nothing acknowledged is lost. Every run reports the writes lost at each fault.
 */
const missing = missingDataServices(['redis', 'nats', 'rust-runtime']);
if (missing) describe.skip(`redis-failover (${missing})`, () => it('runs live Redis', () => {}));
else
  scenario(
    'redis-failover',
    {
      system: 'lambda-microservice',
      faults: ['killPod', 'cordon', 'uncordon', 'stopNode', 'startNode', 'partitionNode'],
      timeline: {
        workloads: [
          {
            namespace: NS,
            name: 'redis',
            selector: { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/component': 'node' },
          },
        ],
      },
    },
    (s) => {
      let target: SentinelTarget;
      let writer: SentinelWriter;
      let downAfterMs: number;
      let pods: PodAddresses;
      const losses: string[] = [];

      /** Records the writes a fault lost: the replica-confirmed ones must be 0 (see above). */
      async function measureLoss(label: string, faultAt: number, graceful: boolean): Promise<LostWrites> {
        const lost = await writer.lostWrites();
        const when = lost.lost
          .slice(0, 10)
          .map((seq) => `${(((writer.ackedAt(seq) ?? faultAt) - faultAt) / 1000).toFixed(3)} s`);
        losses.push(
          `${label}: ${lost.lost.length} acknowledged writes lost, ${lost.lostReplicated.length} of them confirmed by a replica${when.length ? ` (acknowledged at ${when.join(', ')} from the fault)` : ''}`,
        );
        s.measure(`acknowledged writes lost (${label})`, lost.lost.length, 'writes', {
          ...(graceful ? { equals: 0 } : {}),
          description: graceful
            ? 'SIGTERM: Redis waits for its replicas (shutdown-timeout) and fsyncs the AOF before it exits'
            : 'asynchronous replication: writes not yet sent to a replica when the master died can be lost',
        });
        s.measure(`replica-confirmed writes lost (${label})`, lost.lostReplicated.length, 'writes', {
          equals: 0,
          description: 'WAIT 1 confirmed a replica had them; Sentinel promotes the most up-to-date replica',
        });
        return lost;
      }

      it('writes and reads through the sentinels with no errors in steady state', async () => {
        const url = new URL(
          await s.env.net.serviceUrl({ namespace: NS, name: 'redis-sentinel', port: 26379 }),
        );
        pods = await PodAddresses.start(s.env, NS);
        target = {
          sentinels: [{ host: url.hostname, port: Number(url.port) }],
          masterName: MASTER_NAME,
          natMap: pods.natMap,
        };
        const config = await s.env.kube.get({ kind: 'ConfigMap', namespace: NS, name: 'redis-config' });
        downAfterMs = Number(configValue(config, 'SENTINEL_DOWN_AFTER_MILLISECONDS'));
        s.note(`sentinel down-after-milliseconds ${downAfterMs} (from ConfigMap redis-config)`);
        await s.step('wait for the sentinels to see 2 replicas', () => waitForReplicas(s.env, target, 2));
        const master = await masterNow(s.env);
        expect(master, 'the sentinels name the master by its DNS name (announce-hostnames)').toBe(
          `redis-0.redis-headless.${NS}.svc.cluster.local:6379`,
        );
        writer = new SentinelWriter(target);
        await writer.start();
        const t0 = performance.now();
        await sleep(1500);
        await waitForAcks(writer, t0, 20, 30_000);
        // WAIT 1 answers once a replica has the write; a replica that has just finished its first sync
        // may take a moment: wait for 20 confirmations (the measure below still requires them).
        await pollAtMost(() => confirmedSince(writer, t0) >= 20, {
          what: '20 writes confirmed by a replica',
          timeoutMs: 30_000,
          everyMs: 100,
        });
        const w = writer.windowSince(t0);
        s.measure('steady-state acknowledged writes', w.acked, 'writes', { atLeast: 20 });
        s.measure('steady-state failed operations', w.failed, 'operations', { equals: 0 });
        s.measure('steady-state writes confirmed by a replica', confirmedSince(writer, t0), 'writes', {
          atLeast: 20,
          description: 'WAIT 1 answered 1 or more',
        });
        expect(writer.readMismatches).toEqual([]);
        s.note(
          `min-replicas-to-write ${await assertConfigApplied(target, config)} (writes are acknowledged before a replica has them)`,
        );
      });

      it('delete the master’s pod: it comes back under its name with its data; no acknowledged write is lost', async () => {
        const master = await masterNow(s.env);
        const pod = (await pods.podOf(master))!;
        const faultAt = performance.now();
        await s.step(`delete the master's pod ${pod.metadata.name} (${master})`, () =>
          s.env.faults.killPod({ namespace: NS, name: pod.metadata.name }),
        );
        // The old master answers until its shutdown; the outage starts with the first failed operation.
        const outageAt = await s.step('wait for the client to lose the master', () =>
          firstFailureAfter(writer, faultAt, 15_000),
        );
        await s.step('wait until the client writes again', () => waitForAcks(writer, outageAt, 20, 60_000));
        const now = await masterNow(s.env);
        s.note(
          now === master
            ? `pod deleted: ${pod.metadata.name} came back before down-after-milliseconds (${downAfterMs}) under its name and is master again; no failover`
            : `pod deleted: the sentinels promoted ${now} before ${pod.metadata.name} came back`,
        );
        const w = writer.windowSince(faultAt);
        s.measure('client-visible unavailability (pod deleted)', w.longestGapMs / 1000, 's', {
          below: downAfterMs / 1000 + 15,
          description: 'longest time without an acknowledged write',
        });
        s.measure('failed client operations (pod deleted)', w.failed, 'operations');
        await measureLoss('pod deleted', faultAt, true);
        await s.step('wait for the sentinels to see 2 replicas again', () =>
          waitForReplicas(s.env, target, 2),
        );
      });

      it('the master’s node loses power and its pod cannot be rescheduled: the sentinels promote a replica', async () => {
        const master = await masterNow(s.env);
        const pod = (await pods.podOf(master))!;
        const node = pod.spec.nodeName as string;
        const nodes = (await s.env.kube.list({ kind: 'Node' })).map((n) => n.metadata.name);
        await s.step(
          'cordon every node (a replacement pod stays Pending, as while a volume is re-attached)',
          async () => {
            for (const n of nodes) await s.env.faults.cordon(n);
          },
        );
        const faultAt = performance.now();
        await s.step(`power off node ${node} (master ${pod.metadata.name})`, () =>
          s.env.faults.stopNode(node),
        );
        const promoted = await s.step('wait for the sentinels to name a new master', () =>
          waitForNewMaster(s.env, master, downAfterMs + 30_000),
        );
        s.event('MasterPromoted', `sentinels promoted ${promoted.master} (was ${master})`);
        await s.step('wait until the client writes again', () =>
          waitForAcks(writer, promoted.at, 20, 30_000),
        );
        await sleep(500);
        const w = writer.windowSince(faultAt);
        s.measure('time to new master (node failure)', (promoted.at - faultAt) / 1000, 's', {
          below: downAfterMs / 1000 + 20,
          description: `down-after-milliseconds ${downAfterMs} + election (at most 10 s) and promotion`,
        });
        s.measure('client-visible unavailability (node failure)', w.longestGapMs / 1000, 's', {
          below: downAfterMs / 1000 + 25,
          description: 'longest time without an acknowledged write',
        });
        s.measure('failed client operations (node failure)', w.failed, 'operations');
        await measureLoss('node failure', faultAt, false);
        const healAt = performance.now();
        await s.step(`power on node ${node} and uncordon every node`, async () => {
          await s.env.faults.startNode(node);
          for (const n of nodes) await s.env.faults.uncordon(n);
        });
        await s.step(`wait for ${pod.metadata.name} to rejoin as a replica`, () =>
          waitForReplicas(s.env, target, 2),
        );
        s.measure('old master back as a replica (node failure)', (performance.now() - healAt) / 1000, 's', {
          below: 60,
        });
      });

      it('cut the master’s node off: a replica is promoted; the old master rejoins as a replica when healed', async () => {
        const master = await masterNow(s.env);
        const pod = (await pods.podOf(master))!;
        const node = pod.spec.nodeName as string;
        const faultAt = performance.now();
        const how = await s.step(`partition node ${node} (master ${pod.metadata.name})`, () =>
          s.env.faults.partitionNode(node),
        );
        s.note(`partition of ${node}: ${how.mode} (${how.how})`);
        const promoted = await s.step('wait for the sentinels to name a new master', () =>
          waitForNewMaster(s.env, master, downAfterMs + 30_000),
        );
        await s.step('wait until the client writes again', () =>
          waitForAcks(writer, promoted.at, 20, 20_000),
        );
        const rto = (promoted.at - faultAt) / 1000;
        s.measure('time to new master (partition)', rto, 's', { below: downAfterMs / 1000 + 20 });
        await s.step(`heal node ${node}`, () => s.env.faults.startNode(node));
        await s.step('wait for the old master to rejoin as a replica', () =>
          waitForReplicas(s.env, target, 2),
        );
        await sleep(1000);
        const w = writer.windowSince(faultAt);
        s.measure('client-visible unavailability (partition)', w.longestGapMs / 1000, 's', {
          below: downAfterMs / 1000 + 25,
        });
        s.measure('failed client operations (partition)', w.failed, 'operations');
        await writer.stop();
        await measureLoss('partition', faultAt, false);
        s.measure('acknowledged writes in total', writer.acked.length, 'writes', { atLeast: 200 });
        expect(writer.readMismatches).toEqual([]);
        s.note(`writes lost in this run: ${losses.join('; ')}`);
        if (writer.revived)
          s.note(
            `the ioredis client ended on its own ${writer.revived}× during the failovers; the writer reconnected it`,
          );
        if (writer.reconnects)
          s.note(
            `the writer dropped a connection that answered nothing for a second and reconnected through the sentinels ${writer.reconnects}×`,
          );
        writer.disconnect();
        pods.close();
      });
    },
  );

/** The master the sentinels name ("host:port", highest configuration epoch among them), asking again until one answers. */
async function masterNow(env: Environment, timeoutMs = 20_000): Promise<string> {
  return waitUntil(
    async () => sentinelMaster({ sentinels: await sentinelPods(env), masterName: MASTER_NAME }),
    { what: 'a sentinel to name the master', timeout: timeoutMs, interval: 200 },
  );
}

/** Polls the sentinels until they name a master other than `previous`; resolves with it and when (performance.now()). */
async function waitForNewMaster(
  env: Environment,
  previous: string,
  timeoutMs: number,
): Promise<{ master: string; at: number }> {
  return waitUntil(
    async (progress) => {
      const m = await sentinelMaster({ sentinels: await sentinelPods(env), masterName: MASTER_NAME });
      if (m && m !== previous) return { master: m, at: performance.now() };
      progress.status(m ? `they still name ${previous}` : 'no sentinel answers');
      return undefined;
    },
    { what: `the sentinels to name a master other than ${previous}`, timeout: timeoutMs, interval: 25 },
  );
}

/** Every sentinel knows `count` healthy replicas of the master set. */
function waitForReplicas(env: Environment, target: SentinelTarget, count: number): Promise<void> {
  return waitForSentinelReplicas(async () => sentinelPods(env), target.masterName, count, 90_000);
}

async function sentinelPods(env: Environment): Promise<Array<{ host: string; port: number }>> {
  const pods = await env.kube.list({ kind: 'Pod' }, { namespace: NS });
  return pods
    .filter(
      (p) =>
        p.metadata.labels?.['app.kubernetes.io/component'] === 'sentinel' &&
        p.status?.podIP &&
        (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
    )
    .map((p) => ({ host: p.status.podIP as string, port: 26379 }));
}

function confirmedSince(writer: SentinelWriter, since: number): number {
  return writer.acked.filter((a) => a.at >= since && writer.replicated.has(a.seq)).length;
}

async function waitForAcks(writer: SentinelWriter, since: number, n: number, timeoutMs: number) {
  await waitUntil(() => writer.acked.filter((a) => a.at >= since).length >= n, {
    what: `${n} writes acknowledged after the failover`,
    timeout: timeoutMs,
    interval: 50,
  });
}

async function firstFailureAfter(writer: SentinelWriter, since: number, timeoutMs: number): Promise<number> {
  // No failure seen in time: the writer never noticed the fault, so the gap starts at the fault.
  return waitUntil(() => writer.failures.find((t) => t >= since), {
    what: 'the writer to see a failed write',
    timeout: timeoutMs,
    interval: 20,
  }).catch((err) => {
    if (isTwinError(err, 'TWIN_TIMEOUT')) return since;
    throw err;
  });
}

/** maxmemory, policy and AOF settings from the manifests are what the master runs with; returns min-replicas-to-write. */
async function assertConfigApplied(target: SentinelTarget, config: KubeObject | undefined): Promise<string> {
  const client = SentinelWriter.connect(target);
  try {
    await SentinelWriter.ready(client);
    const get = async (k: string) => ((await client.call('CONFIG', 'GET', k)) as string[])[1];
    expect(await get('maxmemory-policy')).toBe(configValue(config, 'REDIS_MAXMEMORY_POLICY'));
    expect(await get('appendonly')).toBe(configValue(config, 'REDIS_APPENDONLY'));
    expect(await get('appendfsync')).toBe(configValue(config, 'REDIS_APPENDFSYNC'));
    expect(Number(await get('maxmemory'))).toBe(6 * 1024 ** 3);
    return (await get('min-replicas-to-write')) ?? '?';
  } finally {
    client.disconnect();
  }
}

function configValue(config: KubeObject | undefined, key: string): string | undefined {
  return (config as { data?: Record<string, string> } | undefined)?.data?.[key];
}
