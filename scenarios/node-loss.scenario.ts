import { expect, it } from 'vitest';
import type { Environment, KubeObject } from '../env/environment.ts';
import { SteadyTraffic, scenario } from '../harness/index.ts';
import { zoneOutageTraffic } from '../load/zone-outage-traffic.ts';
import { API, API_AND_WEB_TIMELINE, INGRESS, WEB } from './support/ai-platform.ts';
import {
  condition,
  GRACE,
  isReady,
  JITTER,
  LEASE_RENEW,
  MONITOR_PERIOD,
  nodesByName,
  pct,
  podsOf,
  pollUntil,
  START_SLACK,
  sleep,
  TOLERATION,
  transitionTime,
} from './support/cluster-state.ts';

/**
 * One application node of the AI platform is lost: powered off (its pods die, Kubernetes notices
 * after the grace period and reschedules them after the 300 s toleration), then another is cut off
 * by a network partition shorter than the toleration (its pods are dropped from the endpoints while
 * unreachable and come back as they were, without being rescheduled).
 */
scenario(
  'node-loss',
  {
    system: 'ai-platform',
    faults: ['stopNode', 'startNode', 'partitionNode'],
    timeline: API_AND_WEB_TIMELINE,
  },
  (s) => {
    let traffic: SteadyTraffic;

    it('serves steady traffic through the Ingress', async () => {
      const url = await s.step('find the Ingress address', () => s.env.net.ingressUrl(INGRESS));
      traffic = s.traffic({ url, ...zoneOutageTraffic });
      const before = traffic.snapshot();
      await s.step('steady state: 1 s of traffic', () => sleep(1000));
      const w = SteadyTraffic.between(before, traffic.snapshot());
      s.measure('steady-state error rate', pct(w.errors, w.requests), '%', { below: 1 });
    });

    it('loses a node: NotReady after the grace period, its CPU pods rescheduled after the 300 s toleration', async () => {
      const env = s.env;
      const victim = await busiestNode(env);
      const lost = await appPodsOn(env, victim);
      s.note(`node powered off: ${victim}, with ${lost.map((p) => p.metadata.name).join(', ')}`);
      const before = traffic.snapshot();
      const t0 = env.clock.now();
      await s.step(`power off ${victim}`, () => env.faults.stopNode(victim));
      const detectedAt = await s.step(`wait for ${victim} to be NotReady`, () =>
        pollUntil(
          async () => {
            const n = await env.kube.get({ kind: 'Node', name: victim });
            return condition(n, 'Ready')?.status === 'Unknown' ? transitionTime(n, 'Ready') : undefined;
          },
          { timeoutMs: env.clock.toReal(120_000) + 15_000, what: `${victim} to become NotReady` },
        ),
      );
      const detect = (detectedAt - t0) / 1000;
      s.measure('time to detect (control-plane)', detect, 's', {
        atLeast: GRACE - LEASE_RENEW,
        description: 'node-monitor-grace-period 50 s after the last Lease renewal',
      });
      s.measure('time to detect, bound', detect, 's', {
        atMost: GRACE + MONITOR_PERIOD + JITTER,
        description: `grace period + one monitor tick, plus ${JITTER} s for timer lag at ×100 (1 ms real = 0.1 s)`,
      });
      const recoveredAt = await s.step('wait for the lost pods to be replaced and Ready on other nodes', () =>
        pollUntil(
          async () => {
            const pods = [
              ...(await podsOf(env, 'production', API)),
              ...(await podsOf(env, 'production', WEB)),
            ];
            if (pods.length < 6 || pods.some((p) => p.spec?.nodeName === victim || !isReady(p)))
              return undefined;
            return Math.max(...pods.map((p) => transitionTime(p, 'Ready')!));
          },
          { timeoutMs: env.clock.toReal(900_000) + 30_000, what: `the pods of ${victim} to be rescheduled` },
        ),
      );
      const recover = (recoveredAt - t0) / 1000;
      s.measure('time to recover (control-plane)', recover, 's', {
        atLeast: TOLERATION,
        description: 'evicted once the default 300 s unreachable toleration ended after the NoExecute taint',
      });
      s.measure('time to recover, bound', recover, 's', {
        atMost: GRACE + MONITOR_PERIOD + 1 + TOLERATION + START_SLACK,
        description: `grace + monitor tick + taint pass + toleration + ${START_SLACK} s for the replacements to start`,
      });
      await sleep(300);
      const w = SteadyTraffic.between(before, traffic.snapshot());
      s.measure('requests failed while the node was lost', w.errors, 'requests');
      s.measure('error rate while the node was lost', pct(w.errors, w.requests), '%', { below: 10 });
      const settled = traffic.snapshot();
      await sleep(1000);
      const after = SteadyTraffic.between(settled, traffic.snapshot());
      s.measure('error rate after recovery', pct(after.errors, after.requests), '%', {
        below: 5,
        description: 'client-side: timeouts of a starved client on a loaded machine count too',
      });
      await s.step(`power ${victim} on again`, () => env.faults.startNode(victim));
    });

    it('a partition shorter than the toleration: endpoints drop the unreachable pods, and they come back without a reschedule', async () => {
      const env = s.env;
      const victim = await busiestNode(env);
      const before = await appPodsOn(env, victim);
      expect(before.length).toBeGreaterThan(0);
      const t0 = env.clock.now();
      const result = await s.step(`partition ${victim}`, () => env.faults.partitionNode(victim));
      s.note(`partition of ${victim}: ${result.mode} (${result.how})`);
      await s.step(`wait for ${victim} to be NotReady and its pods not Ready`, () =>
        pollUntil(
          async () => {
            const pods = await appPodsOn(env, victim);
            return pods.length > 0 && pods.every((p) => !isReady(p)) ? true : undefined;
          },
          { timeoutMs: env.clock.toReal(120_000) + 15_000, what: `${victim}'s pods to be marked not Ready` },
        ),
      );
      const marked = (env.clock.now() - t0) / 1000;
      s.measure('time until the partitioned pods left the endpoints (control-plane)', marked, 's', {
        atLeast: GRACE - LEASE_RENEW,
      });
      await env.clock.sleep(60_000); // well inside the 300 s toleration
      const t1 = env.clock.now();
      await s.step(`heal the partition of ${victim}`, () => env.faults.startNode(victim));
      await s.step(`wait for ${victim}'s pods to be Ready again`, () =>
        pollUntil(
          async () => {
            const pods = await appPodsOn(env, victim);
            return pods.length === before.length && pods.every(isReady) ? true : undefined;
          },
          {
            timeoutMs: env.clock.toReal(120_000) + 15_000,
            what: `${victim}'s pods to be Ready after the partition`,
          },
        ),
      );
      s.measure(
        'time to Ready after the partition healed (control-plane)',
        (env.clock.now() - t1) / 1000,
        's',
        {
          atMost: JITTER + 60,
        },
      );
      const after = await appPodsOn(env, victim);
      s.measure(
        'pods rescheduled by the partition',
        before.filter((p) => !after.some((a) => a.metadata.uid === p.metadata.uid)).length,
        'pods',
        { equals: 0, description: 'healed before the NoExecute toleration ran out: same pods, same node' },
      );
    });
  },
);

/** The application node with the most api and web pods. */
async function busiestNode(env: Environment): Promise<string> {
  const nodes = await nodesByName(env);
  const counts = new Map<string, number>();
  for (const p of [...(await podsOf(env, 'production', API)), ...(await podsOf(env, 'production', WEB))]) {
    const n = p.spec?.nodeName;
    if (n && isReady(nodes.get(n))) counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  const best = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
  if (!best) throw new Error('no node runs api or web pods');
  return best[0];
}

async function appPodsOn(env: Environment, node: string): Promise<KubeObject[]> {
  return [...(await podsOf(env, 'production', API)), ...(await podsOf(env, 'production', WEB))].filter(
    (p) => p.spec?.nodeName === node,
  );
}
