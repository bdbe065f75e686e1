import { expect } from 'vitest';
import type { KubeObject } from '../../../env/environment.ts';
import type { CaseContext, ConformanceCase } from '../conformance-case.ts';
import { podTemplate } from '../objects.ts';

const CANARY = 'https://argo-rollouts.readthedocs.io/en/stable/features/canary/';
const PLUGIN = 'https://argo-rollouts.readthedocs.io/en/stable/generated/kubectl-argo-rollouts/';
const ARGO = 'argoproj.io/v1alpha1';
const HASH = 'rollouts-pod-template-hash';

/** A Rollout (basic canary: no trafficRouting) brought to its first revision, stable and healthy. */
async function rollout(
  t: CaseContext,
  name: string,
  replicas: number,
  steps: unknown[],
  canary: Record<string, unknown> = {},
) {
  await t.apply({
    apiVersion: ARGO,
    kind: 'Rollout',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: podTemplate(t, { labels: { app: name } }),
      strategy: { canary: { steps, ...canary } },
    },
  });
  await healthy(t, name);
}

/** Waits until the Rollout is Healthy with a stable ReplicaSet other than `previous`. */
async function healthy(t: CaseContext, name: string, previous?: string): Promise<KubeObject> {
  return t.objectUntil(
    `Rollout ${name} Healthy`,
    { apiVersion: ARGO, kind: 'Rollout', name },
    (ro) => {
      const s = ro.status ?? {};
      return (
        s.phase === 'Healthy' &&
        s.stableRS === s.currentPodHash &&
        s.stableRS !== previous &&
        s.availableReplicas === ro.spec.replicas
      );
    },
    300,
  );
}

/** A new pod template: the canary begins. */
async function update(t: CaseContext, name: string, revision = '2'): Promise<void> {
  await t.patch({ apiVersion: ARGO, kind: 'Rollout', name }, (ro) => {
    ro.spec.template.metadata.annotations = { 'conformance/revision': revision };
  });
}

interface Counts {
  ro: KubeObject;
  canary: number;
  stable: number;
}

async function counts(t: CaseContext, name: string): Promise<Counts> {
  const ro = (await t.get({ apiVersion: ARGO, kind: 'Rollout', name }))!;
  const sets = await t.list('ReplicaSet', { app: name });
  const spec = (hash: string | undefined) =>
    sets.find((rs) => rs.metadata.labels?.[HASH] === hash)?.spec?.replicas ?? 0;
  return { ro, canary: spec(ro.status?.currentPodHash), stable: spec(ro.status?.stableRS) };
}

/** Waits until the Rollout is paused at step `index` (a pause step) with its ReplicaSets scaled and available. */
async function pausedAt(t: CaseContext, name: string, index: number): Promise<Counts> {
  return t.until(`Rollout ${name} paused at step ${index}`, 300, async () => {
    const c = await counts(t, name);
    const s = c.ro.status ?? {};
    const paused = (s.pauseConditions ?? []).some((p: { reason: string }) => p.reason === 'CanaryPauseStep');
    const sets = await t.list('ReplicaSet', { app: name });
    const settled = sets.every((rs) => (rs.status?.availableReplicas ?? 0) === (rs.spec?.replicas ?? 0));
    return paused && s.currentStepIndex === index && settled ? c : undefined;
  });
}

/** kubectl argo rollouts promote: clears the pause conditions through the status subresource. */
async function promote(t: CaseContext, name: string): Promise<void> {
  await t.patch(
    { apiVersion: ARGO, kind: 'Rollout', name },
    (ro) => {
      ro.status.pauseConditions = null;
    },
    { subresource: 'status' },
  );
}

async function weightCase(t: CaseContext, replicas: number, weight: number): Promise<Counts> {
  await rollout(t, 'weighted', replicas, [{ setWeight: weight }, { pause: {} }]);
  await update(t, 'weighted');
  return pausedAt(t, 'weighted', 1);
}

export const rolloutCases: ConformanceCase[] = [
  {
    area: 'Argo Rollouts canary',
    title: 'without traffic routing, setWeight 10 of 10 replicas scales the canary to 1 and the stable to 9',
    docs: `${CANARY}#overview`,
    async run(t) {
      const c = await weightCase(t, 10, 10);
      expect([c.canary, c.stable]).toEqual([1, 9]);
    },
  },
  {
    area: 'Argo Rollouts canary',
    title:
      'without traffic routing, setWeight 41 of 10 replicas takes the whole number closest to the weight: canary 4, stable 6',
    docs: `${CANARY}#overview`,
    async run(t) {
      const c = await weightCase(t, 10, 41);
      expect([c.canary, c.stable]).toEqual([4, 6]);
    },
  },
  {
    area: 'Argo Rollouts canary',
    title:
      'without traffic routing, setWeight 33 of 10 replicas rounds the canary down when that is closer: canary 3, stable 7',
    docs: `${CANARY}#overview`,
    async run(t) {
      const c = await weightCase(t, 10, 33);
      expect([c.canary, c.stable]).toEqual([3, 7]);
    },
  },
  {
    area: 'Argo Rollouts canary',
    title:
      'without traffic routing, setWeight 20 of 4 replicas uses the surge replica to get closer: canary 1, stable 4',
    docs: `${CANARY}#maxsurge`,
    async run(t) {
      const c = await weightCase(t, 4, 20);
      expect([c.canary, c.stable]).toEqual([1, 4]);
    },
  },
  {
    area: 'Argo Rollouts canary',
    title: 'a pause step without duration holds the Rollout Paused (CanaryPauseStep) until it is promoted',
    docs: `${CANARY}#pause-duration`,
    async run(t) {
      await rollout(t, 'held', 4, [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: {} }]);
      await update(t, 'held');
      await pausedAt(t, 'held', 1);
      await t.sleep(60);
      const c = await counts(t, 'held');
      expect(c.ro.status.phase).toBe('Paused');
      expect(c.ro.status.currentStepIndex).toBe(1);
      expect([c.canary, c.stable]).toEqual([1, 3]);
    },
  },
  {
    area: 'Argo Rollouts canary',
    title: 'promote (clearing the pause conditions) moves a paused Rollout on to its next step',
    docs: `${PLUGIN}kubectl-argo-rollouts_promote/`,
    async run(t) {
      await rollout(t, 'promoted', 4, [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: {} }]);
      await update(t, 'promoted');
      await pausedAt(t, 'promoted', 1);
      await promote(t, 'promoted');
      const c = await pausedAt(t, 'promoted', 3);
      expect([c.canary, c.stable]).toEqual([2, 2]);
    },
  },
  {
    area: 'Argo Rollouts canary',
    title: 'a pause step with a duration holds the Rollout for that long, then the next step runs by itself',
    docs: `${CANARY}#pause-duration`,
    async run(t) {
      await rollout(t, 'timed', 4, [
        { setWeight: 25 },
        { pause: { duration: '30s' } },
        { setWeight: 50 },
        { pause: {} },
      ]);
      const rec = await t.record('Rollout', ARGO);
      await update(t, 'timed');
      const c = await pausedAt(t, 'timed', 1);
      const since = Date.parse(
        c.ro.status.pauseConditions.find((p: { reason: string }) => p.reason === 'CanaryPauseStep').startTime,
      );
      await pausedAt(t, 'timed', 3);
      rec.stop();
      const moved = rec.events.find(
        (e) =>
          (e.object.status?.currentStepIndex ?? 0) >= 2 &&
          e.object.status?.stableRS !== e.object.status?.currentPodHash,
      );
      expect(moved, 'the step after the pause seen').toBeDefined();
      expect(moved!.at - since).toBeGreaterThanOrEqual(29_000);
    },
  },
  {
    area: 'Argo Rollouts canary',
    title:
      'promote --full skips the remaining steps: the canary scales to all replicas, becomes stable, and the old ReplicaSet scales to 0',
    docs: `${PLUGIN}kubectl-argo-rollouts_promote/`,
    async run(t) {
      await rollout(t, 'full', 4, [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: {} }]);
      const first = (await counts(t, 'full')).ro.status.stableRS;
      await update(t, 'full');
      await pausedAt(t, 'full', 1);
      await t.patch(
        { apiVersion: ARGO, kind: 'Rollout', name: 'full' },
        (ro) => {
          ro.status.promoteFull = true;
        },
        { subresource: 'status' },
      );
      const ro = await healthy(t, 'full', first);
      expect(ro.status.stableRS).not.toBe(first);
      await t.until('old ReplicaSet scaled to 0', 120, async () => {
        const old = (await t.list('ReplicaSet', { app: 'full' })).find(
          (rs) => rs.metadata.labels?.[HASH] === first,
        );
        return old?.spec?.replicas === 0 ? true : undefined;
      });
    },
  },
  {
    area: 'Argo Rollouts canary',
    title:
      'abort scales the canary down to 0 and the stable back to all replicas, and the Rollout turns Degraded',
    docs: `${PLUGIN}kubectl-argo-rollouts_abort/`,
    async run(t) {
      await rollout(t, 'aborted', 10, [{ setWeight: 40 }, { pause: {} }]);
      await update(t, 'aborted');
      const before = await pausedAt(t, 'aborted', 1);
      expect([before.canary, before.stable]).toEqual([4, 6]);
      await t.patch(
        { apiVersion: ARGO, kind: 'Rollout', name: 'aborted' },
        (ro) => {
          ro.status.abort = true;
        },
        { subresource: 'status' },
      );
      const c = await t.until('canary 0, stable 10', 300, async () => {
        const x = await counts(t, 'aborted');
        return x.canary === 0 && x.stable === 10 && x.ro.status.phase === 'Degraded' ? x : undefined;
      });
      expect(c.ro.status.abort).toBe(true);
      expect(c.ro.status.message).toMatch(/RolloutAborted/);
    },
  },
  {
    area: 'Argo Rollouts canary',
    title:
      'setCanaryScale needs a traffic router: without one the Rollout is InvalidSpec, Degraded, and creates no ReplicaSet',
    docs: `${CANARY}#dynamic-canary-scale-with-traffic-routing`,
    async run(t) {
      await t.apply({
        apiVersion: ARGO,
        kind: 'Rollout',
        metadata: { name: 'scaled' },
        spec: {
          replicas: 4,
          selector: { matchLabels: { app: 'scaled' } },
          template: podTemplate(t, { labels: { app: 'scaled' } }),
          strategy: {
            canary: { steps: [{ setCanaryScale: { replicas: 2 } }, { setWeight: 50 }, { pause: {} }] },
          },
        },
      });
      const ro = await t.objectUntil(
        'the InvalidSpec condition',
        { apiVersion: ARGO, kind: 'Rollout', name: 'scaled' },
        (x) => (x.status?.conditions ?? []).some((c: { type: string }) => c.type === 'InvalidSpec'),
      );
      const invalid = ro.status.conditions.find((c: { type: string }) => c.type === 'InvalidSpec');
      expect(invalid).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
      expect(invalid.message).toContain('SetCanaryScale requires TrafficRouting to be set');
      expect(ro.status.phase).toBe('Degraded');
      await t.sleep(20);
      expect(await t.list('ReplicaSet', { app: 'scaled' })).toHaveLength(0);
    },
  },
  {
    area: 'Argo Rollouts canary',
    title:
      'after the last step the canary ReplicaSet becomes the stable one at full scale and the old one is scaled to 0',
    docs: `${CANARY}#overview`,
    async run(t) {
      await rollout(t, 'done', 4, [{ setWeight: 50 }, { pause: { duration: '5s' } }]);
      const first = (await counts(t, 'done')).ro.status.stableRS;
      await update(t, 'done');
      const ro = await healthy(t, 'done', first);
      expect(ro.status.stableRS).toBe(ro.status.currentPodHash);
      expect(ro.status.stableRS).not.toBe(first);
      await t.until('old ReplicaSet at 0, new at 4', 120, async () => {
        const c = await counts(t, 'done');
        const old = (await t.list('ReplicaSet', { app: 'done' })).find(
          (rs) => rs.metadata.labels?.[HASH] === first,
        );
        return c.canary === 4 && old?.spec?.replicas === 0 ? true : undefined;
      });
    },
  },
];
