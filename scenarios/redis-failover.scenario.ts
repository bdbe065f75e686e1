import { describe, expect, it } from 'vitest';
import type { Environment, KubeObject } from '../env/environment.ts';
import {
  missingDataServices,
  type SentinelTarget,
  SentinelWriter,
  scenario,
  sentinelMaster,
  waitForNewMaster,
  waitForSentinelReplicas,
  waitUntil,
} from '../harness/index.ts';
import { sleep } from './support/cluster-state.ts';

const NS = 'data-services';
const MASTER_NAME = 'mymaster';

/**
 * Redis Sentinel of lambda-microservice (seed 004: 1 master, 2 replicas, 3 sentinels, AOF; failure
 * table: "Redis master loss → automatic failover by Sentinel"). A client writes and reads back
 * continuously through the sentinels; the master is killed, then (once recovered) its node is cut
 * off. Measured from the client's side: time until the sentinels name a new master, the window in
 * which the client saw errors, and acknowledged writes that the new master does not have.
 */
const missing = missingDataServices(['redis']);
if (missing) describe.skip(`redis-failover (${missing})`, () => it('runs live Redis', () => {}));
else
  scenario(
    'redis-failover',
    {
      system: 'lambda-microservice',
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

      it('writes and reads through the sentinels with no errors in steady state', async () => {
        const url = new URL(
          await s.env.net.serviceUrl({ namespace: NS, name: 'redis-sentinel', port: 26379 }),
        );
        target = { sentinels: [{ host: url.hostname, port: Number(url.port) }], masterName: MASTER_NAME };
        const config = await s.env.kube.get({ kind: 'ConfigMap', namespace: NS, name: 'redis-config' });
        downAfterMs = Number(configValue(config, 'SENTINEL_DOWN_AFTER_MILLISECONDS'));
        s.note(`sentinel down-after-milliseconds ${downAfterMs} (from ConfigMap redis-config)`);
        await s.step('wait for the sentinels to see 2 replicas', () => waitForReplicas(s.env, target, 2));
        writer = new SentinelWriter(target);
        await writer.start();
        const t0 = performance.now();
        await sleep(1500);
        const w = writer.windowSince(t0);
        s.measure('steady-state acknowledged writes', w.acked, 'writes', { atLeast: 20 });
        s.measure('steady-state failed operations', w.failed, 'operations', { equals: 0 });
        expect(writer.readMismatches).toEqual([]);
        await assertConfigApplied(s.env);
      });

      it('kill the master: the sentinels promote a replica and no acknowledged write is lost', async () => {
        const master = (await sentinelMaster(target))!;
        const pod = await podAt(s.env, master);
        const ackedBefore = writer.acked.length;
        const faultAt = performance.now();
        await s.step(`kill the master pod ${pod.metadata.name} (${master})`, () =>
          s.env.faults.killPod({ namespace: NS, name: pod.metadata.name }),
        );
        const promoted = await s.step('wait for the sentinels to name a new master', () =>
          waitForNewMaster(target, master, downAfterMs + 30_000),
        );
        s.event('MasterPromoted', `sentinels promoted ${promoted.master} (was ${master})`);
        await s.step('wait until the client writes again', () =>
          waitForAcks(writer, promoted.at, 20, 20_000),
        );
        await sleep(1000);
        const w = writer.windowSince(faultAt);
        const rto = (promoted.at - faultAt) / 1000;
        s.measure('time to new master (kill)', rto, 's', {
          below: downAfterMs / 1000 + 10,
          description: `down-after-milliseconds ${downAfterMs} + election and promotion`,
        });
        s.measure('client-visible unavailability (kill)', w.longestGapMs / 1000, 's', {
          below: downAfterMs / 1000 + 12,
          description: 'longest time without an acknowledged write',
        });
        s.measure('failed client operations (kill)', w.failed, 'operations');
        s.measure(
          'writes acknowledged after the failover (kill)',
          writer.acked.length - ackedBefore,
          'writes',
          {
            atLeast: 20,
          },
        );
        const lost = await writer.lostAcknowledged();
        s.measure('acknowledged writes lost (kill)', lost.length, 'writes', {
          atMost: 5,
          description:
            'asynchronous replication: only writes acknowledged in the last replication round trip can go',
        });
        await s.step('wait for the recreated pod to rejoin as a replica', () =>
          waitForReplicas(s.env, target, 2),
        );
      });

      it('cut the master’s node off: a replica is promoted; the old master rejoins as a replica when healed', async () => {
        const master = (await sentinelMaster(target))!;
        const pod = await podAt(s.env, master);
        const node = pod.spec.nodeName as string;
        const faultAt = performance.now();
        const how = await s.step(`partition node ${node} (master ${pod.metadata.name})`, () =>
          s.env.faults.partitionNode(node),
        );
        s.note(`partition of ${node}: ${how.mode} (${how.how})`);
        const promoted = await s.step('wait for the sentinels to name a new master', () =>
          waitForNewMaster(target, master, downAfterMs + 30_000),
        );
        await s.step('wait until the client writes again', () =>
          waitForAcks(writer, promoted.at, 20, 20_000),
        );
        const rto = (promoted.at - faultAt) / 1000;
        s.measure('time to new master (partition)', rto, 's', { below: downAfterMs / 1000 + 10 });
        await s.step(`heal node ${node}`, () => s.env.faults.startNode(node));
        await s.step('wait for the old master to rejoin as a replica', () =>
          waitForReplicas(s.env, target, 2),
        );
        await sleep(1000);
        const w = writer.windowSince(faultAt);
        s.measure('client-visible unavailability (partition)', w.longestGapMs / 1000, 's', {
          below: downAfterMs / 1000 + 12,
        });
        s.measure('failed client operations (partition)', w.failed, 'operations');
        await writer.stop();
        const lost = await writer.lostAcknowledged();
        s.measure('acknowledged writes lost (partition)', lost.length, 'writes', { atMost: 5 });
        s.measure('acknowledged writes in total', writer.acked.length, 'writes', { atLeast: 200 });
        expect(writer.readMismatches).toEqual([]);
        if (writer.revived)
          s.note(
            `the ioredis client ended on its own ${writer.revived}× during the failovers; the writer reconnected it`,
          );
        writer.disconnect();
      });
    },
  );

async function podAt(env: Environment, address: string): Promise<KubeObject> {
  const ip = address.split(':')[0];
  const pods = await env.kube.list({ kind: 'Pod' }, { namespace: NS });
  const pod = pods.find(
    (p) => p.status?.podIP === ip && p.metadata.labels?.['app.kubernetes.io/component'] === 'node',
  );
  if (!pod) throw new Error(`no redis pod has address ${address}`);
  return pod;
}

/** Every sentinel knows `count` healthy replicas of the master set. */
function waitForReplicas(env: Environment, target: SentinelTarget, count: number): Promise<void> {
  return waitForSentinelReplicas(async () => sentinelPods(env), target.masterName, count);
}

async function sentinelPods(env: Environment): Promise<Array<{ host: string; port: number }>> {
  const pods = await env.kube.list({ kind: 'Pod' }, { namespace: NS });
  return pods
    .filter((p) => p.metadata.labels?.['app.kubernetes.io/component'] === 'sentinel' && p.status?.podIP)
    .map((p) => ({ host: p.status.podIP as string, port: 26379 }));
}

async function waitForAcks(writer: SentinelWriter, since: number, n: number, timeoutMs: number) {
  await waitUntil(() => writer.acked.filter((a) => a.at >= since).length >= n, {
    what: `${n} writes acknowledged after the failover`,
    timeout: timeoutMs,
    interval: 50,
  });
}

/** maxmemory, policy and AOF settings from the manifests are what the master runs with. */
async function assertConfigApplied(env: Environment) {
  const config = await env.kube.get({ kind: 'ConfigMap', namespace: NS, name: 'redis-config' });
  const url = new URL(await env.net.serviceUrl({ namespace: NS, name: 'redis-sentinel', port: 26379 }));
  const client = SentinelWriter.connect({
    sentinels: [{ host: url.hostname, port: Number(url.port) }],
    masterName: MASTER_NAME,
  });
  try {
    await SentinelWriter.ready(client);
    const get = async (k: string) => ((await client.call('CONFIG', 'GET', k)) as string[])[1];
    expect(await get('maxmemory-policy')).toBe(configValue(config, 'REDIS_MAXMEMORY_POLICY'));
    expect(await get('appendonly')).toBe(configValue(config, 'REDIS_APPENDONLY'));
    expect(await get('appendfsync')).toBe(configValue(config, 'REDIS_APPENDFSYNC'));
    expect(Number(await get('maxmemory'))).toBe(6 * 1024 ** 3);
  } finally {
    client.disconnect();
  }
}

function configValue(config: KubeObject | undefined, key: string): string | undefined {
  return (config as { data?: Record<string, string> } | undefined)?.data?.[key];
}
