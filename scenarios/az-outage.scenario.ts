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
  monthlyErrorBudgetMinutes,
  nodesByName,
  nodesInZone,
  pct,
  pendingWithReason,
  podsOf,
  pollUntil,
  START_SLACK,
  sleep,
  TOLERATION,
  trackMinReady,
  transitionTime,
  ZONE,
} from './support/cluster-state.ts';

const FAILED_ZONE = 'ap-northeast-1a';
const SURVIVING_ZONE = 'ap-northeast-1c';
const PROBE = { app: 'zone-spread-probe' };
/** Seed 000/001: the AI platform's availability target. */
const SLO = 0.9995;
/** Nodes a fully failed zone taints at 0.1 node/s: 6 nodes in the failed zone → the last 50 s after the first. */
const ZONE_NODES = 6;

/**
 * A zone of the AI platform fails (seed 001: multi-AZ, 99.95 %). Kubernetes notices after the node
 * grace period, taints the zone's nodes at the zone eviction rate and evicts their pods once the
 * default 300 s toleration ends; the replacements come up in the surviving zone. The scenario measures
 * when it was detected and recovered, what the clients saw, that a DoNotSchedule spread stays Pending
 * as Kubernetes keeps it, and that PodDisruptionBudgets hold while other nodes are drained.
 */
scenario(
  'az-outage',
  {
    system: 'ai-platform',
    faults: ['failZone', 'restoreZone', 'drain', 'uncordon'],
    timeline: API_AND_WEB_TIMELINE,
  },
  (s) => {
    let traffic: SteadyTraffic;
    let t0 = 0;
    let outage: ReturnType<SteadyTraffic['snapshot']>;
    let users: ReturnType<typeof s.journeys>;

    it('serves steady traffic from both zones, with a DoNotSchedule zone-spread workload placed', async () => {
      const env = s.env;
      await s.step(
        'deploy a zone-spread probe (2 replicas, DoNotSchedule, maxSkew 1 over zones)',
        async () => {
          await env.kube.apply(probeDeployment());
          await pollUntil(
            async () =>
              (await podsOf(env, 'default', PROBE)).filter(isReady).length === 2 ? true : undefined,
            {
              timeoutMs: 30_000,
              what: 'the zone-spread probe to run in both zones',
            },
          );
        },
      );
      const url = await s.step('find the Ingress address', () => env.net.ingressUrl(INGRESS));
      traffic = s.traffic({ url, ...zoneOutageTraffic });
      const before = traffic.snapshot();
      await s.step('steady state: 1.5 s of traffic', () => sleep(1500));
      const w = SteadyTraffic.between(before, traffic.snapshot());
      s.measure('steady-state requests', w.requests, 'requests', { atLeast: zoneOutageTraffic.rate });
      s.measure('steady-state error rate', pct(w.errors, w.requests), '%', { below: 1 });
      // A person using the web app (open it, predict, see the result) from here on: the browser starts
      // before the outage, and what they saw during it goes into the report.
      users = s.journeys('predict', { everyMs: 2000 });
      const zones = await zonesOf(env, [
        ...(await podsOf(env, 'production', API)),
        ...(await podsOf(env, 'production', WEB)),
      ]);
      s.measure('api and web pods in the zone about to fail', zones.get(FAILED_ZONE) ?? 0, 'pods', {
        atLeast: 1,
      });
    });

    it(`loses zone ${FAILED_ZONE}: detected after the node grace period, replicas back in ${SURVIVING_ZONE} after the 300 s toleration, within the error budget`, async () => {
      const env = s.env;
      outage = traffic.snapshot();
      t0 = env.clock.now();
      const failed = await s.step(`fail zone ${FAILED_ZONE} (every node powered off)`, () =>
        env.faults.failZone(FAILED_ZONE),
      );
      s.measure('nodes lost', failed.length, 'nodes', { equals: ZONE_NODES });

      const detectedAt = await s.step(
        'wait for the node lifecycle controller to mark the zone NotReady',
        () =>
          pollUntil(
            async () => {
              const nodes = await nodesByName(env);
              const unknown = failed
                .map((n) => nodes.get(n))
                .filter((n) => condition(n, 'Ready')?.status === 'Unknown');
              return unknown.length === failed.length
                ? Math.min(...unknown.map((n) => transitionTime(n, 'Ready')!))
                : undefined;
            },
            {
              timeoutMs: realMs(env, 120_000) + 15_000,
              what: `every node of ${FAILED_ZONE} to become NotReady (Unknown)`,
            },
          ),
      );
      const detectSeconds = (detectedAt - t0) / 1000;
      s.measure('time to detect (control-plane)', detectSeconds, 's', {
        atLeast: GRACE - LEASE_RENEW,
        description:
          'node-monitor-grace-period 50 s after the last Lease renewal (every 10 s), seen at a 5 s monitor tick',
      });
      s.measure('time to detect, bound', detectSeconds, 's', {
        atMost: GRACE + MONITOR_PERIOD + JITTER,
        description: `grace period + one monitor tick, plus ${JITTER} s for timer lag at ×100 (1 ms real = 0.1 s)`,
      });

      const recoveredAt = await s.step(
        `wait until no api or web pod is left in ${FAILED_ZONE} and every replacement is Ready or Pending with a reason`,
        () =>
          pollUntil(
            async () => {
              const nodes = await nodesByName(env);
              const pods = [
                ...(await podsOf(env, 'production', API)),
                ...(await podsOf(env, 'production', WEB)),
              ];
              const zoneOf = (p: KubeObject) => nodes.get(p.spec?.nodeName)?.metadata.labels?.[ZONE];
              if (pods.length < 6 || pods.some((p) => zoneOf(p) === FAILED_ZONE)) return undefined;
              const placed = pods.filter((p) => p.spec?.nodeName);
              const unplaced = pods.filter((p) => !p.spec?.nodeName);
              if (!placed.every(isReady) || !unplaced.every((p) => condition(p, 'PodScheduled')?.reason))
                return undefined;
              return Math.max(...placed.map((p) => transitionTime(p, 'Ready')!));
            },
            { timeoutMs: realMs(env, 900_000) + 30_000, what: `api and web to recover in ${SURVIVING_ZONE}` },
          ),
      );
      const webReady = (await podsOf(env, 'production', WEB)).filter(isReady).length;
      const apiReady = (await podsOf(env, 'production', API)).filter(isReady).length;
      s.measure(`web replicas Ready in ${SURVIVING_ZONE}`, webReady, 'pods', { equals: 3 });
      s.measure(`api replicas Ready in ${SURVIVING_ZONE}`, apiReady, 'pods', {
        atLeast: 2,
        description:
          'at least the api PDB minAvailable; the rest Pending where the surviving zone has no room',
      });
      const apiPending = await pendingWithReason(env, 'production', API);
      s.measure('api replicas Pending after the zone loss', apiPending.length, 'pods', { atMost: 1 });
      for (const p of apiPending)
        s.note(`api replica Pending after the zone loss: ${p.name}: ${p.reason}: ${p.message}`);
      if (apiPending.length > 0) expect(apiPending[0]!.message).toMatch(/Insufficient cpu/);
      const recoverSeconds = (recoveredAt - t0) / 1000;
      s.measure('time to recover (control-plane)', recoverSeconds, 's', {
        atLeast: TOLERATION,
        description: 'evicted only once the default 300 s not-ready/unreachable toleration ended',
      });
      s.measure('time to recover, bound', recoverSeconds, 's', {
        atMost: GRACE + MONITOR_PERIOD + (ZONE_NODES - 1) / 0.1 + TOLERATION + START_SLACK,
        description: `grace period + monitor tick + zone tainting at 0.1 node/s + toleration + ${START_SLACK} s for the replacements to start`,
      });
      await sleep(300);
      const during = SteadyTraffic.between(outage, traffic.snapshot());
      const windowMin = (env.clock.now() - t0) / 60_000;
      s.measure('requests during the outage', during.requests, 'requests', { atLeast: 100 });
      s.measure('requests failed during the outage', during.errors, 'requests');
      s.measure('error rate during the outage', pct(during.errors, during.requests), '%', { below: 25 });
      const consumed = (during.errors / Math.max(1, during.requests)) * windowMin;
      s.measure(
        'error budget consumed (99.95 %/30 days)',
        pct(consumed, monthlyErrorBudgetMinutes(SLO)),
        '%',
        {
          atMost: 100,
          description: `failed share × ${windowMin.toFixed(1)} control-plane minutes, of the 21.6 minutes a 99.95 % month allows`,
        },
      );
      const seen = await users.during(t0, recoveredAt);
      if (!seen.skipped) {
        s.measure(
          'browser journeys during the outage (open the web app, predict, see the result)',
          seen.runs,
          'journeys',
        );
        s.measure('browser journeys that succeeded during the outage', pct(seen.ok, seen.runs), '%');
        s.measure(
          'time to interactive during the outage (p95)',
          seen.timeToInteractiveP95 ?? Number.NaN,
          'ms',
        );
        s.measure('browser console errors during the outage', seen.consoleErrors, 'errors');
        if (seen.runs === 0)
          s.note('no browser journey ended during the outage (each takes seconds; the machine was slow)');
        for (const f of seen.failures.slice(0, 5)) s.note(`a user saw: ${f.title}`);
        for (const e of seen.consoleErrorSamples) s.note(`the browser console during the outage: ${e}`);
      }
      const settled = traffic.snapshot();
      await sleep(1000);
      const after = SteadyTraffic.between(settled, traffic.snapshot());
      s.measure('error rate after recovery', pct(after.errors, after.requests), '%', {
        below: 5,
        description: 'client-side: timeouts of a starved client on a loaded machine count too',
      });

      const pending = await pendingWithReason(env, 'default', PROBE);
      s.measure(
        'zone-spread probe replicas Pending (DoNotSchedule, nodeTaintsPolicy Ignore)',
        pending.length,
        'pods',
        {
          equals: 1,
          description:
            'the tainted zone still counts as a domain with 0 pods, so a second pod in the surviving zone would break maxSkew 1',
        },
      );
      s.note(
        `zone-spread probe Pending: ${pending.map((p) => `${p.name}: ${p.reason}: ${p.message}`).join('; ')}`,
      );
      expect(pending[0]?.message).toContain("didn't match pod topology spread constraints");
    });

    it(`holds the PodDisruptionBudgets while two ${SURVIVING_ZONE} nodes are drained during the outage`, async () => {
      const env = s.env;
      const nodes = await nodesByName(env);
      const general = [...(await podsOf(env, 'production', WEB)), ...(await podsOf(env, 'production', API))]
        .map((p) => p.spec?.nodeName as string)
        .filter(
          (n, i, all) =>
            n && all.indexOf(n) === i && nodes.get(n)?.metadata.labels?.[ZONE] === SURVIVING_ZONE,
        )
        .sort()
        .slice(0, 2);
      expect(general).toHaveLength(2);
      const webAtStart = (await podsOf(env, 'production', WEB)).filter(isReady).length;
      const apiAtStart = (await podsOf(env, 'production', API)).filter(isReady).length;
      const web = trackMinReady(env, 'production', WEB);
      const api = trackMinReady(env, 'production', API);
      const reports = await s.step(
        `drain ${general.join(' and ')} at once (kubectl drain, 120 s timeout)`,
        () => Promise.all(general.map((n) => env.faults.drain(n, { timeoutSeconds: 120 }))),
      );
      await sleep(100);
      web.stop();
      api.stop();
      const refused = reports.reduce((a, r) => a + r.refused, 0);
      s.measure('evictions refused by PodDisruptionBudgets (429)', refused, 'evictions', { atLeast: 1 });
      s.measure(
        'pods evicted by the drains',
        reports.reduce((a, r) => a + r.evicted.length, 0),
        'pods',
        { atLeast: 1 },
      );
      s.measure(
        'pods the PDBs kept on the drained nodes',
        reports.reduce((a, r) => a + r.remaining.length, 0),
        'pods',
        {
          atLeast: 1,
        },
      );
      s.measure('fewest web pods Ready during the drains', web.min(), 'pods', {
        atLeast: Math.min(2, webAtStart),
        description: `PDB web minAvailable 2 (${webAtStart} Ready when the drains began)`,
      });
      s.measure('fewest api pods Ready during the drains', api.min(), 'pods', {
        atLeast: Math.min(2, apiAtStart),
        description: `PDB api minAvailable 2 (${apiAtStart} Ready when the drains began)`,
      });
      await s.step('uncordon the drained nodes', async () => {
        for (const n of general) await env.faults.uncordon(n);
      });
    });

    it(`restores zone ${FAILED_ZONE}: nodes Ready again and the spread probe scheduled back into it`, async () => {
      const env = s.env;
      const t1 = env.clock.now();
      const restored = await s.step(`restore zone ${FAILED_ZONE}`, () => env.faults.restoreZone(FAILED_ZONE));
      s.measure('nodes restored', restored.length, 'nodes', { equals: ZONE_NODES });
      await s.step('wait for the zone-spread probe to run in both zones again', () =>
        pollUntil(
          async () => ((await podsOf(env, 'default', PROBE)).filter(isReady).length === 2 ? true : undefined),
          {
            timeoutMs: realMs(env, 120_000) + 15_000,
            what: 'the zone-spread probe to be scheduled once the zone is back',
          },
        ),
      );
      s.measure(
        'time until the Pending probe ran in the restored zone (control-plane)',
        (env.clock.now() - t1) / 1000,
        's',
        {
          atMost: MONITOR_PERIOD + JITTER + 60,
          description: 'taints lifted at the next monitor tick; then scheduled and started',
        },
      );
      const zones = await zonesOf(env, await podsOf(env, 'default', PROBE));
      expect([...zones.keys()].sort()).toEqual([FAILED_ZONE, SURVIVING_ZONE]);
      const nodes = await nodesInZone(env, FAILED_ZONE);
      const all = await nodesByName(env);
      s.measure('restored nodes Ready', nodes.filter((n) => isReady(all.get(n))).length, 'nodes', {
        equals: ZONE_NODES,
      });
      await env.kube.delete({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: 'default',
        name: 'zone-spread-probe',
      });
    });
  },
);

function probeDeployment(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'zone-spread-probe', namespace: 'default' },
    spec: {
      replicas: 2,
      selector: { matchLabels: PROBE },
      template: {
        metadata: { labels: PROBE },
        spec: {
          nodeSelector: { 'workload-tier': 'app' },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: ZONE,
              whenUnsatisfiable: 'DoNotSchedule',
              labelSelector: { matchLabels: PROBE },
            },
          ],
          containers: [
            {
              name: 'probe',
              image: 'registry.example/zone-probe:1',
              resources: { requests: { cpu: '10m', memory: '16Mi' } },
            },
          ],
        },
      },
    },
  };
}

async function zonesOf(env: Environment, pods: KubeObject[]): Promise<Map<string, number>> {
  const nodes = await nodesByName(env);
  const zones = new Map<string, number>();
  for (const p of pods) {
    const z = nodes.get(p.spec?.nodeName)?.metadata.labels?.[ZONE];
    if (z) zones.set(z, (zones.get(z) ?? 0) + 1);
  }
  return zones;
}

function realMs(env: Environment, virtualMs: number): number {
  return env.clock.toReal(virtualMs);
}
