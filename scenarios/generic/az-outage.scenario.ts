import { expect, it } from 'vitest';
import type { Environment, KubeObject } from '../../env/environment.ts';
import { scenario } from '../../harness/index.ts';
import {
  condition,
  GRACE,
  isReady,
  JITTER,
  LEASE_RENEW,
  MONITOR_PERIOD,
  nodesByName,
  podsOf,
  pollUntil,
  START_SLACK,
  sleep,
  TOLERATION,
  transitionTime,
  ZONE,
} from '../support/cluster-state.ts';
import {
  describeWorkload,
  genericTarget,
  replicatedWorkloads,
  type Workload,
  waitForClusters,
} from './support/system-target.ts';

/**
 * A zone of any system fails (generic: its targets come from the system). The zone that fails is the
 * one holding most of the system's pods (or TWIN_FAILED_ZONE). Kubernetes notices after the node grace
 * period, taints the zone's nodes and evicts their pods once the default 300 s toleration ends; the
 * Deployments' and Rollouts' replicas come back in the surviving zones, or stay Pending with the
 * scheduler's reason. Steady state: every Service with ready endpoints in two or more zones keeps at
 * least one ready endpoint throughout; a Service whose endpoints sat in one zone is reported as a
 * single point of failure, with how long it had none.
 */
const target = genericTarget('az-outage');
if (target)
  scenario('az-outage', { ...target, upTimeoutMs: 240_000 }, (s) => {
    let zone = '';
    let workloads: Workload[] = [];
    let failed: string[] = [];
    let spread: Array<{ namespace: string; name: string; zones: string[]; endpoints: number }> = [];

    it('finds the zones, the workloads and the Services with ready endpoints', async () => {
      const env = s.env;
      const nodes = await nodesByName(env);
      const zones = [
        ...new Set([...nodes.values()].map((n) => n.metadata.labels?.[ZONE]).filter(Boolean)),
      ].sort();
      s.measure('zones', zones.length, 'zones', {
        atLeast: 2,
        description: 'a zone outage needs another zone to move to',
      });
      workloads = await replicatedWorkloads(env);
      s.measure('Deployments and Rollouts', workloads.length, 'workloads', { atLeast: 1 });
      await s.step('wait until every Deployment and Rollout has its replicas Ready', () =>
        pollUntil(
          async () => {
            for (const w of workloads)
              if ((await podsOf(env, w.namespace, w.selector)).filter(isReady).length < w.replicas)
                return undefined;
            return true;
          },
          {
            timeoutMs: 120_000,
            what: `every replica of ${workloads.map(describeWorkload).join(', ')} Ready`,
          },
        ),
      );
      const clusters = await s.step('wait until every CloudNativePG Cluster has its instances ready', () =>
        waitForClusters(env, 180_000),
      );
      if (clusters.length > 0)
        s.note(
          `CloudNativePG Clusters: ${clusters.map((c) => `${c.metadata.namespace}/${c.metadata.name}`).join(', ')}`,
        );
      const podsByZone = new Map<string, number>();
      for (const p of await env.kube.list({ kind: 'Pod' })) {
        const z = nodes.get(p.spec?.nodeName)?.metadata.labels?.[ZONE];
        if (z && !p.metadata.namespace?.startsWith('kube-')) podsByZone.set(z, (podsByZone.get(z) ?? 0) + 1);
      }
      zone =
        process.env['TWIN_FAILED_ZONE'] ??
        [...podsByZone.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ??
        zones[0]!;
      s.note(
        `zone to fail: ${zone} (pods by zone: ${[...podsByZone.entries()].map(([z, n]) => `${z} ${n}`).join(', ')})`,
      );
      spread = await serviceEndpoints(env, nodes);
      for (const svc of spread)
        s.note(
          `Service ${svc.namespace}/${svc.name}: ${svc.endpoints} ready endpoint(s) in ${svc.zones.join(', ')}`,
        );
    });

    it('loses a zone: detected after the node grace period; replicas replaced or Pending with a reason; multi-zone Services keep an endpoint', async () => {
      const env = s.env;
      const watched = spread.filter((svc) => svc.endpoints > 0);
      const minReady = new Map(
        watched.map((svc) => [`${svc.namespace}/${svc.name}`, Number.POSITIVE_INFINITY]),
      );
      const emptySince = new Map<string, number>();
      const emptyMs = new Map<string, number>();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const now = env.clock.now();
          for (const svc of watched) {
            const key = `${svc.namespace}/${svc.name}`;
            const ready = await readyEndpoints(env, svc.namespace, svc.name);
            minReady.set(key, Math.min(minReady.get(key)!, ready));
            if (ready === 0 && !emptySince.has(key)) emptySince.set(key, now);
            if (ready > 0 && emptySince.has(key)) {
              emptyMs.set(key, (emptyMs.get(key) ?? 0) + now - emptySince.get(key)!);
              emptySince.delete(key);
            }
          }
          await sleep(100);
        }
      })();
      const t0 = env.clock.now();
      failed = await s.step(`fail zone ${zone} (every node powered off)`, () => env.faults.failZone(zone));
      s.measure('nodes lost', failed.length, 'nodes', { atLeast: 1 });
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
              timeoutMs: env.clock.toReal(120_000) + 15_000,
              what: `every node of ${zone} to become NotReady (Unknown)`,
            },
          ),
      );
      const detect = (detectedAt - t0) / 1000;
      s.measure('time to detect (control-plane)', detect, 's', {
        atLeast: GRACE - LEASE_RENEW,
        description: 'node-monitor-grace-period 50 s after the last Lease renewal',
      });
      s.measure('time to detect, bound', detect, 's', { atMost: GRACE + MONITOR_PERIOD + JITTER });

      const recoveredAt = await s.step(
        `wait until no Deployment or Rollout pod is left in ${zone} and every replica is Ready or Pending with a reason`,
        () =>
          pollUntil(
            async () => {
              const nodes = await nodesByName(env);
              let last = 0;
              for (const w of workloads) {
                const pods = (await podsOf(env, w.namespace, w.selector)).filter(
                  (p) => !p.metadata.deletionTimestamp,
                );
                const inZone = pods.filter(
                  (p) => nodes.get(p.spec?.nodeName)?.metadata.labels?.[ZONE] === zone,
                );
                if (inZone.length > 0 || pods.length < w.replicas) return undefined;
                const placed = pods.filter((p) => p.spec?.nodeName);
                if (!placed.every(isReady)) return undefined;
                if (!pods.filter((p) => !p.spec?.nodeName).every((p) => condition(p, 'PodScheduled')?.reason))
                  return undefined;
                last = Math.max(last, ...placed.map((p) => transitionTime(p, 'Ready') ?? 0));
              }
              return last;
            },
            { timeoutMs: env.clock.toReal(900_000) + 60_000, what: `the workloads to leave ${zone}` },
          ),
      );
      const recover = (recoveredAt - t0) / 1000;
      s.measure('time to recover (control-plane)', recover, 's', {
        atLeast: TOLERATION,
        description: 'evicted only once the default 300 s not-ready/unreachable toleration ended',
      });
      s.measure('time to recover, bound', recover, 's', {
        atMost: GRACE + MONITOR_PERIOD + (failed.length - 1) / 0.1 + TOLERATION + START_SLACK,
        description: 'grace period + monitor tick + zone tainting at 0.1 node/s + toleration + start slack',
      });
      sampling = false;
      await sampler;
      for (const w of workloads) {
        const pods = await podsOf(env, w.namespace, w.selector);
        const ready = pods.filter(isReady).length;
        const pending = pods.filter((p) => !p.spec?.nodeName);
        s.measure(`${describeWorkload(w)}: replicas Ready after the zone loss`, ready, 'pods', {
          atLeast: Math.min(1, w.replicas),
        });
        for (const p of pending) {
          const c = condition(p, 'PodScheduled');
          s.note(`${describeWorkload(w)}: ${p.metadata.name} Pending: ${c?.reason}: ${c?.message}`);
        }
      }
      let broken = 0;
      for (const svc of watched) {
        const key = `${svc.namespace}/${svc.name}`;
        const open = emptySince.has(key) ? env.clock.now() - emptySince.get(key)! : 0;
        const without = ((emptyMs.get(key) ?? 0) + open) / 1000;
        if (svc.zones.length >= 2 && svc.endpoints >= 2) {
          if (minReady.get(key)! < 1) broken++;
          s.measure(
            `Service ${key}: fewest ready endpoints during the outage`,
            minReady.get(key)!,
            'endpoints',
            {
              atLeast: 1,
              description: `${svc.endpoints} ready endpoints in ${svc.zones.join(', ')} before the outage`,
            },
          );
        } else
          s.measure(`Service ${key}: time without a ready endpoint (single point of failure)`, without, 's', {
            description: `${svc.endpoints} endpoint(s), all in ${svc.zones.join(', ')}: a zone loss can take it down`,
          });
      }
      expect(broken, 'multi-zone Services that lost every endpoint').toBe(0);
    });

    it('restores the zone: its nodes Ready again', async () => {
      const env = s.env;
      const restored = await s.step(`restore zone ${zone}`, () => env.faults.restoreZone(zone));
      s.measure('nodes restored', restored.length, 'nodes', { equals: failed.length });
      await s.step('wait for the restored nodes to be Ready', () =>
        pollUntil(
          async () => {
            const nodes = await nodesByName(env);
            return failed.every((n) => isReady(nodes.get(n))) ? true : undefined;
          },
          { timeoutMs: env.clock.toReal(120_000) + 15_000, what: `the nodes of ${zone} Ready` },
        ),
      );
    });
  });

/** Services with a selector and their ready endpoints' zones (from the EndpointSlices' zone hints or the pods' nodes). */
async function serviceEndpoints(
  env: Environment,
  nodes: Map<string, KubeObject>,
): Promise<Array<{ namespace: string; name: string; zones: string[]; endpoints: number }>> {
  const out: Array<{ namespace: string; name: string; zones: string[]; endpoints: number }> = [];
  for (const svc of await env.kube.list({ kind: 'Service' })) {
    const ns = svc.metadata.namespace ?? 'default';
    if (!svc.spec?.selector || ns === 'kube-system' || ns === 'default') continue;
    const eps = await env.kube.get({ kind: 'Endpoints', namespace: ns, name: svc.metadata.name });
    const addresses = ((eps as any)?.subsets ?? []).flatMap((s: any) => s.addresses ?? []);
    const zones = new Set<string>();
    for (const a of addresses) {
      const z = a.nodeName ? nodes.get(a.nodeName)?.metadata.labels?.[ZONE] : undefined;
      if (z) zones.add(z);
    }
    out.push({
      namespace: ns,
      name: svc.metadata.name,
      zones: [...zones].sort(),
      endpoints: addresses.length,
    });
  }
  return out;
}

async function readyEndpoints(env: Environment, namespace: string, name: string): Promise<number> {
  const eps = await env.kube.get({ kind: 'Endpoints', namespace, name });
  return ((eps as any)?.subsets ?? []).reduce((a: number, s: any) => a + (s.addresses?.length ?? 0), 0);
}
