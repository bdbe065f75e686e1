import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import { drain, evictPod } from '../../../twin/nodes/index.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';
import { ManualClock } from './manual-clock.ts';

function pod(
  name: string,
  o: { ready?: boolean; phase?: string; node?: string; owner?: string } = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'prod',
      labels: { app: 'web' },
      ...(o.owner
        ? {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: o.owner, name: 'x', uid: 'u', controller: true },
            ],
          }
        : {}),
    },
    spec: { nodeName: o.node ?? 'n1', containers: [{ name: 'c', image: 'x' }] },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

function pdb(name: string, status: Record<string, number>, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: 'prod' },
    spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } }, ...spec },
    status: { observedGeneration: 1, ...status },
  };
}

function setup() {
  const clock = new ManualClock();
  const store = new ObjectStore(() => clock.now());
  const events = new EventRecorder(store, clock);
  return { clock, store, events };
}

const ref = (name: string) => ({ kind: 'Pod', namespace: 'prod', name });

describe('eviction API with PodDisruptionBudgets', () => {
  it('200 and a decremented budget when the PDB allows a disruption; 429 once it allows none', () => {
    const ctx = setup();
    ctx.store.create(pdb('web', { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2 }));
    for (const n of ['a', 'b', 'c']) ctx.store.create(pod(n));
    expect(evictPod(ctx, ref('a')).code).toBe(200);
    expect(ctx.store.get(ref('a'))).toBeUndefined();
    const after = ctx.store.get({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      namespace: 'prod',
      name: 'web',
    })!;
    expect(after.status.disruptionsAllowed).toBe(0);
    expect(Object.keys(after.status.disruptedPods)).toEqual(['a']);
    const refused = evictPod(ctx, ref('b'));
    expect(refused.code).toBe(429);
    expect(refused.message).toContain("Cannot evict pod as it would violate the pod's disruption budget");
    expect(ctx.store.get(ref('b'))).toBeDefined();
  });

  it('500 when two PDBs select the pod; 200 without any PDB; 404 for a missing pod', () => {
    const ctx = setup();
    ctx.store.create(pod('a'));
    expect(evictPod(ctx, ref('a')).code).toBe(200);
    ctx.store.create(pod('b'));
    ctx.store.create(pdb('one', { disruptionsAllowed: 5 }));
    ctx.store.create(pdb('two', { disruptionsAllowed: 5 }));
    expect(evictPod(ctx, ref('b')).code).toBe(500);
    expect(evictPod(ctx, ref('missing')).code).toBe(404);
  });

  it('429 while the PDB has not observed its generation', () => {
    const ctx = setup();
    ctx.store.create(pod('a'));
    ctx.store.create(pdb('web', { disruptionsAllowed: 1, observedGeneration: 0 }));
    expect(evictPod(ctx, ref('a')).code).toBe(429);
  });

  it('unhealthyPodEvictionPolicy: IfHealthyBudget evicts a not-Ready pod only with the budget met; AlwaysAllow always', () => {
    const ctx = setup();
    ctx.store.create(pod('sick', { ready: false }));
    ctx.store.create(pdb('web', { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2 }));
    expect(evictPod(ctx, ref('sick')).code).toBe(429);
    ctx.store.patch(
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: 'prod', name: 'web' },
      (p) => {
        p.status.currentHealthy = 2;
      },
    );
    expect(evictPod(ctx, ref('sick')).code).toBe(200);
    const ctx2 = setup();
    ctx2.store.create(pod('sick', { ready: false }));
    ctx2.store.create(
      pdb(
        'web',
        { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 2 },
        { unhealthyPodEvictionPolicy: 'AlwaysAllow' },
      ),
    );
    expect(evictPod(ctx2, ref('sick')).code).toBe(200);
  });

  it('Pending pods are evicted regardless of the budget', () => {
    const ctx = setup();
    ctx.store.create(pod('p', { phase: 'Pending', ready: false }));
    ctx.store.create(pdb('web', { disruptionsAllowed: 0 }));
    expect(evictPod(ctx, ref('p')).code).toBe(200);
  });
});

describe('drain', () => {
  it('cordons, leaves DaemonSet pods, and retries PDB-refused evictions every 5 s until the budget allows them', async () => {
    const ctx = setup();
    ctx.store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: {} });
    ctx.store.create(pod('a'));
    ctx.store.create(pod('b'));
    ctx.store.create({
      ...pod('ds', { owner: 'DaemonSet' }),
      metadata: { ...pod('ds', { owner: 'DaemonSet' }).metadata, labels: { app: 'ds' } },
    });
    ctx.store.create(pdb('web', { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2 }));
    const settle = async () => {
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    const done = drain(ctx, 'n1');
    await settle();
    expect(ctx.store.get({ kind: 'Node', name: 'n1' })!.spec.unschedulable).toBe(true);
    // the first pod goes; the second is refused (429) until a replacement is healthy again
    expect(ctx.store.get(ref('a'))).toBeUndefined();
    for (const _ of [1, 2]) {
      ctx.clock.advance(5_000);
      await settle();
    }
    expect(ctx.store.get(ref('b'))).toBeDefined();
    ctx.store.patch(
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: 'prod', name: 'web' },
      (p) => {
        p.status.disruptionsAllowed = 1;
      },
    );
    ctx.clock.advance(5_000);
    await settle();
    const r = await done;
    expect(r.evicted).toEqual(['prod/a', 'prod/b']);
    expect(r.ignored).toEqual(['prod/ds']);
    expect(r.refused).toBeGreaterThanOrEqual(2);
    expect(r.remaining).toEqual([]);
    expect(ctx.store.get({ kind: 'Pod', namespace: 'prod', name: 'ds' })).toBeDefined();
  });
});
