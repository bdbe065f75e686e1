import { afterEach, describe, expect, it } from 'vitest';
import {
  DeploymentController,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
} from '../../../twin/controllers/deployment.ts';
import { isPodActive, isPodReady } from '../../../twin/controllers/pod-state.ts';
import { ReplicaSetController } from '../../../twin/controllers/replica-set.ts';
import { fakeKubelet, type Harness, pods, podTemplate, startControllers, until } from './harness.ts';

let h: Harness;
let stopKubelet: () => void = () => {};
afterEach(() => {
  stopKubelet();
  h?.stop();
});

function deployment(replicas: number, strategy: object, image = 'nginx:1') {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'api' } },
      strategy,
      template: podTemplate({ app: 'api' }, image),
    },
  };
}

const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'api' };

function complete(): boolean {
  const d = h.store.get(ref);
  const c = d?.status?.conditions?.find((x: { type: string }) => x.type === 'Progressing');
  return d?.status?.observedGeneration === d?.metadata.generation && c?.reason === 'NewReplicaSetAvailable';
}

describe('Deployment', () => {
  it('creates a ReplicaSet with the pod-template-hash and reports status', async () => {
    h = startControllers([new DeploymentController(), new ReplicaSetController()]);
    stopKubelet = fakeKubelet(h.store, h.clock);
    h.store.create(deployment(3, {}));
    await until('rollout complete', complete);
    const d = h.store.mustGet(ref);
    expect(d.status).toMatchObject({
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 0,
    });
    expect(d.metadata.annotations?.[REVISION_ANNOTATION]).toBe('1');
    const [rs] = h.store.list({ apiVersion: 'apps/v1', kind: 'ReplicaSet' });
    const hash = rs!.metadata.labels?.[POD_TEMPLATE_HASH_LABEL];
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs!.metadata.name).toBe(`api-${hash}`);
    expect(rs!.spec.selector.matchLabels).toEqual({ app: 'api', [POD_TEMPLATE_HASH_LABEL]: hash });
    expect(rs!.spec.template.metadata.labels[POD_TEMPLATE_HASH_LABEL]).toBe(hash);
    for (const p of pods(h.store)) expect(p.metadata.name).toMatch(new RegExp(`^api-${hash}-[a-z0-9]{5}$`));
    const available = d.status.conditions.find((c: { type: string }) => c.type === 'Available');
    expect(available).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(h.eventsFor('api')).toContainEqual({
      reason: 'ScalingReplicaSet',
      message: `Scaled up replica set api-${hash} to 3`,
    });
  });

  it('rolls with at most maxSurge extra and at most maxUnavailable missing pods', async () => {
    h = startControllers([new DeploymentController(), new ReplicaSetController()]);
    stopKubelet = fakeKubelet(h.store, h.clock, { delayMs: 5 });
    h.store.create(
      deployment(4, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } }),
    );
    await until('first rollout', complete);
    const observed = { maxPods: 0, minReady: 4 };
    const unwatch = h.store.watch({ kind: 'Pod' }, () => {
      const active = pods(h.store).filter(isPodActive);
      observed.maxPods = Math.max(observed.maxPods, active.length);
      observed.minReady = Math.min(observed.minReady, active.filter(isPodReady).length);
    });
    h.store.patch(ref, (d) => {
      d.spec.template.spec.containers[0].image = 'nginx:2';
    });
    await until(
      'second rollout',
      () => complete() && pods(h.store).every((p) => p.spec.containers[0].image === 'nginx:2'),
    );
    unwatch();
    expect(observed.maxPods).toBe(5);
    expect(observed.minReady).toBeGreaterThanOrEqual(3);
    const d = h.store.mustGet(ref);
    expect(d.metadata.annotations?.[REVISION_ANNOTATION]).toBe('2');
    expect(d.status).toMatchObject({ replicas: 4, updatedReplicas: 4, availableReplicas: 4 });
    const sets = h.store.list({ apiVersion: 'apps/v1', kind: 'ReplicaSet' });
    expect(sets.map((s) => s.spec.replicas).sort()).toEqual([0, 4]);
  });

  it('Recreate removes every old pod before creating new ones', async () => {
    h = startControllers([new DeploymentController(), new ReplicaSetController()]);
    stopKubelet = fakeKubelet(h.store, h.clock);
    h.store.create(deployment(3, { type: 'Recreate' }));
    await until('first rollout', complete);
    let overlap = false;
    const unwatch = h.store.watch({ kind: 'Pod' }, () => {
      const images = new Set(
        pods(h.store)
          .filter(isPodActive)
          .map((p) => p.spec.containers[0].image),
      );
      if (images.size > 1) overlap = true;
    });
    h.store.patch(ref, (d) => {
      d.spec.template.spec.containers[0].image = 'nginx:2';
    });
    await until(
      'second rollout',
      () => complete() && pods(h.store).every((p) => p.spec.containers[0].image === 'nginx:2'),
    );
    unwatch();
    expect(overlap).toBe(false);
    expect(pods(h.store)).toHaveLength(3);
  });

  it('reports ProgressDeadlineExceeded when new pods never become ready', async () => {
    h = startControllers([new DeploymentController(), new ReplicaSetController()], 10_000);
    stopKubelet = fakeKubelet(h.store, h.clock, { only: (p) => p.spec.containers[0].image === 'nginx:1' });
    h.store.create({
      ...deployment(2, {}),
      spec: { ...deployment(2, {}).spec, progressDeadlineSeconds: 30 },
    });
    await until('first rollout', complete);
    h.store.patch(ref, (d) => {
      d.spec.template.spec.containers[0].image = 'broken:1';
    });
    const cond = await until('deadline', () =>
      h.store
        .mustGet(ref)
        .status?.conditions?.find(
          (c: { type: string; reason: string }) =>
            c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded',
        ),
    );
    expect(cond.status).toBe('False');
    expect(h.store.mustGet(ref).status.availableReplicas).toBeGreaterThanOrEqual(1);
  });

  it('keeps revisionHistoryLimit old ReplicaSets and does nothing while paused', async () => {
    h = startControllers([new DeploymentController(), new ReplicaSetController()]);
    stopKubelet = fakeKubelet(h.store, h.clock);
    h.store.create({ ...deployment(1, {}), spec: { ...deployment(1, {}).spec, revisionHistoryLimit: 1 } });
    for (const image of ['nginx:2', 'nginx:3', 'nginx:4']) {
      await until('rollout', complete);
      h.store.patch(ref, (d) => {
        d.spec.template.spec.containers[0].image = image;
      });
    }
    await until(
      'last rollout',
      () => complete() && h.store.list({ apiVersion: 'apps/v1', kind: 'ReplicaSet' }).length === 2,
    );
    h.store.patch(ref, (d) => {
      d.spec.paused = true;
      d.spec.template.spec.containers[0].image = 'nginx:5';
    });
    await until('paused', () =>
      h.store
        .mustGet(ref)
        .status?.conditions?.some((c: { reason: string }) => c.reason === 'DeploymentPaused'),
    );
    await new Promise((r) => setTimeout(r, 30));
    expect(pods(h.store).map((p) => p.spec.containers[0].image)).toEqual(['nginx:4']);
    expect(h.store.mustGet(ref).metadata.annotations?.[REVISION_ANNOTATION]).toBe('4');
  });
});
