import { expect } from 'vitest';
import type { KubeObject } from '../../../env/environment.ts';
import type { CaseContext, ConformanceCase, Recording } from '../conformance-case.ts';
import { condition, deployment, isReady, readyPods, running, secondsBetween } from '../objects.ts';

const DEPLOYMENT = 'https://kubernetes.io/docs/concepts/workloads/controllers/deployment/';
const REPLICASET = 'https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/';
const REVISION = 'deployment.kubernetes.io/revision';

/** Waits for a Deployment to have rolled out completely (kubectl rollout status). */
export async function rolledOut(t: CaseContext, name: string, kind = 'Deployment'): Promise<KubeObject> {
  return t.objectUntil(`${kind} ${name} rolled out`, { kind, name }, (d) => {
    const s = d.status ?? {};
    const replicas = d.spec?.replicas ?? 1;
    return (
      s.observedGeneration >= (d.metadata.generation ?? 0) &&
      s.updatedReplicas === replicas &&
      s.replicas === replicas &&
      s.availableReplicas === replicas
    );
  });
}

/** A change of the pod template that makes a new revision without a new image (kubectl rollout restart does the same). */
async function newRevision(t: CaseContext, name: string, value: string, kind = 'Deployment'): Promise<void> {
  await t.patch({ kind, name }, (d) => {
    d.spec.template.metadata.annotations = {
      ...(d.spec.template.metadata.annotations ?? {}),
      'conformance/revision': value,
    };
  });
}

/** spec.replicas of each ReplicaSet, by name, in the order they changed, from the ReplicaSets there were before. */
function replicaHistory(rec: Recording, before: KubeObject[]): Map<string, number[]> {
  const out = new Map<string, number[]>(before.map((rs) => [rs.metadata.name, [rs.spec?.replicas ?? 1]]));
  for (const e of rec.events) {
    if (e.type === 'DELETED') continue;
    const list = out.get(e.object.metadata.name) ?? [];
    const n = e.object.spec?.replicas ?? 1;
    if (list.at(-1) !== n) list.push(n);
    out.set(e.object.metadata.name, list);
  }
  return out;
}

/** The largest total of spec.replicas over all ReplicaSets at any point of the recording. */
function peakTotal(rec: Recording, before: KubeObject[]): number {
  const latest = new Map<string, number>(before.map((rs) => [rs.metadata.name, rs.spec?.replicas ?? 1]));
  let peak = 0;
  for (const e of rec.events) {
    if (e.type === 'DELETED') latest.delete(e.object.metadata.name);
    else latest.set(e.object.metadata.name, e.object.spec?.replicas ?? 1);
    peak = Math.max(
      peak,
      [...latest.values()].reduce((a, b) => a + b, 0),
    );
  }
  return peak;
}

async function replicaSets(t: CaseContext, app: string): Promise<KubeObject[]> {
  return t.list('ReplicaSet', { app });
}

async function rollingUpdate(
  t: CaseContext,
  name: string,
  replicas: number,
  strategy: Record<string, unknown>,
): Promise<{ old: string; next: string; rec: Recording; before: KubeObject[] }> {
  await t.apply(deployment(t, name, replicas, { spec: { strategy } }));
  await rolledOut(t, name);
  const before = await replicaSets(t, name);
  const old = before[0];
  const rec = await t.record('ReplicaSet');
  await newRevision(t, name, '2');
  await rolledOut(t, name);
  rec.stop();
  const next = (await replicaSets(t, name)).find((rs) => rs.metadata.name !== old!.metadata.name)!;
  return { old: old!.metadata.name, next: next.metadata.name, rec, before };
}

export const deploymentCases: ConformanceCase[] = [
  {
    area: 'Deployments and ReplicaSets',
    title:
      'a rolled-out Deployment reports replicas, updated, ready and available replicas and the conditions Available and Progressing (NewReplicaSetAvailable)',
    docs: `${DEPLOYMENT}#deployment-status`,
    async run(t) {
      await t.apply(deployment(t, 'web', 3));
      const d = await rolledOut(t, 'web');
      expect(d.status).toMatchObject({
        replicas: 3,
        updatedReplicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
      });
      expect(condition(d, 'Available')?.status).toBe('True');
      expect(condition(d, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
      const rs = await replicaSets(t, 'web');
      expect(rs).toHaveLength(1);
      expect(rs[0]!.metadata.labels?.['pod-template-hash']).toBeTruthy();
      expect(rs[0]!.metadata.name).toBe(`web-${rs[0]!.metadata.labels!['pod-template-hash']}`);
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title:
      'maxSurge 25% of 10 replicas rounds up to 3: the new ReplicaSet starts at 3 and the total never exceeds 13',
    docs: `${DEPLOYMENT}#max-surge`,
    async run(t) {
      const { next, rec, before } = await rollingUpdate(t, 'surge', 10, { type: 'RollingUpdate' });
      const history = replicaHistory(rec, before);
      expect(history.get(next)?.[0]).toBe(3);
      expect(peakTotal(rec, before)).toBe(13);
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title: 'maxUnavailable 25% of 10 replicas rounds down to 2: the old ReplicaSet is first scaled down to 8',
    docs: `${DEPLOYMENT}#max-unavailable`,
    async run(t) {
      const { old, rec, before } = await rollingUpdate(t, 'unavail', 10, { type: 'RollingUpdate' });
      const history = replicaHistory(rec, before).get(old) ?? [];
      expect(history[0]).toBe(10);
      expect(history[1]).toBe(8);
      expect(history.at(-1)).toBe(0);
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title:
      'maxSurge 0 and maxUnavailable 1: the old ReplicaSet shrinks first and the total of replicas never exceeds spec.replicas',
    docs: `${DEPLOYMENT}#rolling-update-deployment`,
    async run(t) {
      const { old, next, rec, before } = await rollingUpdate(t, 'no-surge', 4, {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: 0, maxUnavailable: 1 },
      });
      expect(peakTotal(rec, before)).toBe(4);
      expect(replicaHistory(rec, before).get(old)?.slice(0, 2)).toEqual([4, 3]);
      expect(replicaHistory(rec, before).get(next)?.at(-1)).toBe(4);
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title: 'strategy Recreate: every old pod is gone before the first new pod is created',
    docs: `${DEPLOYMENT}#recreate-deployment`,
    async run(t) {
      await t.apply(deployment(t, 'recreate', 3, { spec: { strategy: { type: 'Recreate' } } }));
      await rolledOut(t, 'recreate');
      const oldHash = (await t.pods({ app: 'recreate' }))[0]!.metadata.labels!['pod-template-hash'];
      const rec = await t.record('Pod');
      await newRevision(t, 'recreate', '2');
      await rolledOut(t, 'recreate');
      rec.stop();
      const live = new Set<string>();
      let checked = false;
      for (const e of rec.events) {
        const p = e.object;
        const isOld = p.metadata.labels?.['pod-template-hash'] === oldHash;
        if (isOld) {
          if (e.type === 'DELETED') live.delete(p.metadata.name);
          else live.add(p.metadata.name);
        } else if (e.type === 'ADDED' && !checked) {
          expect([...live], 'old pods still there when the first new pod was created').toEqual([]);
          checked = true;
        }
      }
      expect(checked).toBe(true);
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title:
      'progressDeadlineSeconds: a rollout whose new pods never become ready gets Progressing=False, reason ProgressDeadlineExceeded, and the old pods keep serving',
    docs: `${DEPLOYMENT}#failed-deployment`,
    async run(t) {
      await t.apply(deployment(t, 'stuck', 2, { spec: { progressDeadlineSeconds: 20 } }));
      await rolledOut(t, 'stuck');
      await t.patch({ kind: 'Deployment', name: 'stuck' }, (d) => {
        d.spec.template.spec.containers[0].readinessProbe = {
          tcpSocket: { port: 65000 },
          initialDelaySeconds: 86_400,
        };
      });
      const d = await t.objectUntil(
        'Progressing=False ProgressDeadlineExceeded',
        { kind: 'Deployment', name: 'stuck' },
        (x) => condition(x, 'Progressing')?.reason === 'ProgressDeadlineExceeded',
        120,
      );
      expect(condition(d, 'Progressing')?.status).toBe('False');
      expect(d.status.availableReplicas).toBe(2);
      expect(condition(d, 'Available')?.status).toBe('True');
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title:
      'each new pod template gets the next revision (deployment.kubernetes.io/revision) on its ReplicaSet and the Deployment',
    docs: `${DEPLOYMENT}#checking-rollout-history-of-a-deployment`,
    async run(t) {
      await t.apply(deployment(t, 'revs', 2));
      await rolledOut(t, 'revs');
      await newRevision(t, 'revs', '2');
      await rolledOut(t, 'revs');
      await newRevision(t, 'revs', '3');
      const d = await rolledOut(t, 'revs');
      expect(d.metadata.annotations?.[REVISION]).toBe('3');
      const revisions = (await replicaSets(t, 'revs'))
        .map((rs) => rs.metadata.annotations?.[REVISION])
        .sort();
      expect(revisions).toEqual(['1', '2', '3']);
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title: 'revisionHistoryLimit: only that many old ReplicaSets are kept',
    docs: `${DEPLOYMENT}#clean-up-policy`,
    async run(t) {
      await t.apply(deployment(t, 'history', 2, { spec: { revisionHistoryLimit: 1 } }));
      await rolledOut(t, 'history');
      for (const v of ['2', '3', '4']) {
        await newRevision(t, 'history', v);
        await rolledOut(t, 'history');
      }
      const left = await t.until('old ReplicaSets cleaned up to the limit', 60, async () => {
        const rs = await replicaSets(t, 'history');
        return rs.length === 2 ? rs : undefined;
      });
      expect(left.map((rs) => rs.metadata.annotations?.[REVISION]).sort()).toEqual(['3', '4']);
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title:
      'rolling back to an earlier template scales its old ReplicaSet up again under the next revision instead of creating a new one',
    docs: `${DEPLOYMENT}#rolling-back-to-a-previous-revision`,
    async run(t) {
      await t.apply(deployment(t, 'undo', 2));
      await rolledOut(t, 'undo');
      const [first] = await replicaSets(t, 'undo');
      await newRevision(t, 'undo', '2');
      await rolledOut(t, 'undo');
      // kubectl rollout undo: the template of the earlier ReplicaSet, without its pod-template-hash.
      await t.patch({ kind: 'Deployment', name: 'undo' }, (d) => {
        const template = structuredClone(first!.spec.template);
        delete template.metadata.labels['pod-template-hash'];
        d.spec.template = template;
      });
      const d = await rolledOut(t, 'undo');
      const sets = await replicaSets(t, 'undo');
      expect(sets).toHaveLength(2);
      const back = sets.find((rs) => rs.metadata.uid === first!.metadata.uid);
      expect(back?.spec.replicas).toBe(2);
      expect(back?.metadata.annotations?.[REVISION]).toBe('3');
      expect(d.metadata.annotations?.[REVISION]).toBe('3');
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title: 'a paused Deployment does not roll out template changes until it is resumed',
    docs: `${DEPLOYMENT}#pausing-and-resuming-a-deployment`,
    async run(t) {
      await t.apply(deployment(t, 'pausable', 2));
      await rolledOut(t, 'pausable');
      await t.patch({ kind: 'Deployment', name: 'pausable' }, (d) => {
        d.spec.paused = true;
      });
      await newRevision(t, 'pausable', '2');
      await t.sleep(30);
      expect(await replicaSets(t, 'pausable')).toHaveLength(1);
      await t.patch({ kind: 'Deployment', name: 'pausable' }, (d) => {
        d.spec.paused = false;
      });
      await rolledOut(t, 'pausable');
      expect(await replicaSets(t, 'pausable')).toHaveLength(2);
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title: 'minReadySeconds: a ready pod counts as available only after it has been ready that long',
    docs: `${DEPLOYMENT}#min-ready-seconds`,
    async run(t) {
      await t.apply(deployment(t, 'settle', 2, { spec: { minReadySeconds: 20 } }));
      const pods = await t.podsUntil('2 pods ready', { app: 'settle' }, (ps) => readyPods(ps).length === 2);
      const d = await rolledOut(t, 'settle');
      const readySince = Math.max(...pods.map((p) => Date.parse(condition(p, 'Ready')!.lastTransitionTime!)));
      const available = condition(d, 'Available')!;
      expect(available.status).toBe('True');
      expect(secondsBetween(readySince, available.lastTransitionTime!)).toBeGreaterThanOrEqual(19);
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title: 'scaling a Deployment resizes its ReplicaSet without a new revision',
    docs: `${DEPLOYMENT}#scaling-a-deployment`,
    async run(t) {
      await t.apply(deployment(t, 'scaled', 2));
      await rolledOut(t, 'scaled');
      await t.patch({ kind: 'Deployment', name: 'scaled' }, (d) => {
        d.spec.replicas = 5;
      });
      const d = await rolledOut(t, 'scaled');
      const sets = await replicaSets(t, 'scaled');
      expect(sets).toHaveLength(1);
      expect(sets[0]!.spec.replicas).toBe(5);
      expect(d.metadata.annotations?.[REVISION]).toBe('1');
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title: 'a ReplicaSet replaces a deleted pod with a new one',
    docs: `${REPLICASET}#how-a-replicaset-works`,
    async run(t) {
      await t.apply({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'keeper' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'keeper' } },
          template: deployment(t, 'keeper', 1).spec.template,
        },
      });
      const pods = await t.podsUntil('3 pods running', { app: 'keeper' }, (ps) => running(ps).length === 3);
      const victim = pods[0]!.metadata.name;
      await t.delete({ kind: 'Pod', name: victim });
      const after = await t.podsUntil(
        'a replacement running',
        { app: 'keeper' },
        (ps) => running(ps).length === 3 && !ps.some((p) => p.metadata.name === victim),
      );
      expect(after.filter((p) => !pods.some((q) => q.metadata.name === p.metadata.name))).toHaveLength(1);
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title:
      'scaling a ReplicaSet down deletes the pod with the lowest controller.kubernetes.io/pod-deletion-cost first',
    docs: `${REPLICASET}#pod-deletion-cost`,
    async run(t) {
      await t.apply({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'costly' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'costly' } },
          template: deployment(t, 'costly', 1).spec.template,
        },
      });
      const pods = await t.podsUntil('3 pods ready', { app: 'costly' }, (ps) => readyPods(ps).length === 3);
      const cheap = pods[1]!.metadata.name;
      for (const p of pods)
        await t.patch({ kind: 'Pod', name: p.metadata.name }, (o) => {
          o.metadata.annotations = {
            ...(o.metadata.annotations ?? {}),
            'controller.kubernetes.io/pod-deletion-cost': p.metadata.name === cheap ? '-100' : '100',
          };
        });
      await t.patch({ kind: 'ReplicaSet', name: 'costly' }, (rs) => {
        rs.spec.replicas = 2;
      });
      const left = await t.podsUntil('2 pods left', { app: 'costly' }, (ps) => ps.length === 2);
      expect(left.map((p) => p.metadata.name)).not.toContain(cheap);
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title: 'deleting a Deployment deletes its ReplicaSets and their pods (background cascading deletion)',
    docs: 'https://kubernetes.io/docs/concepts/architecture/garbage-collection/#background-deletion',
    async run(t) {
      await t.apply(deployment(t, 'doomed', 3));
      await rolledOut(t, 'doomed');
      await t.delete({ kind: 'Deployment', name: 'doomed' });
      await t.until('ReplicaSets and pods gone', 120, async () => {
        const left = [...(await replicaSets(t, 'doomed')), ...(await t.list('Pod', { app: 'doomed' }))];
        return left.length === 0 ? true : undefined;
      });
    },
  },
  {
    area: 'Deployments and ReplicaSets',
    title: 'a pod that is Running but not Ready is not counted in readyReplicas or availableReplicas',
    docs: `${DEPLOYMENT}#deployment-status`,
    async run(t) {
      await t.apply(deployment(t, 'unready', 2, { neverReady: true }));
      const pods = await t.podsUntil('2 pods running', { app: 'unready' }, (ps) => running(ps).length === 2);
      expect(pods.some(isReady)).toBe(false);
      const d = await t.objectUntil(
        'status observed',
        { kind: 'Deployment', name: 'unready' },
        (x) => x.status?.replicas === 2,
      );
      expect(d.status.readyReplicas ?? 0).toBe(0);
      expect(d.status.availableReplicas ?? 0).toBe(0);
      expect(condition(d, 'Available')?.status).toBe('False');
    },
  },
];
