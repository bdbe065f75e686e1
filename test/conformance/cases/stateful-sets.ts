import { expect } from 'vitest';
import type { KubeObject } from '../../../env/environment.ts';
import type { CaseContext, ConformanceCase, Recording } from '../conformance-case.ts';
import { isReady, type PodOptions, podTemplate, readyPods, running } from '../objects.ts';

const STS = 'https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/';
const REVISION_LABEL = 'controller-revision-hash';

async function statefulSet(
  t: CaseContext,
  name: string,
  replicas: number,
  spec: Record<string, unknown> = {},
  pod: Partial<PodOptions> = {},
): Promise<void> {
  await t.apply(
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { clusterIP: 'None', selector: { app: name }, ports: [{ name: 'web', port: 80 }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name },
      spec: {
        serviceName: name,
        replicas,
        selector: { matchLabels: { app: name } },
        template: podTemplate(t, { labels: { app: name }, ...pod }),
        ...spec,
      },
    },
  );
}

async function allReady(t: CaseContext, name: string, replicas: number): Promise<KubeObject> {
  return t.objectUntil(
    `StatefulSet ${name}: ${replicas} ready and current`,
    { kind: 'StatefulSet', name },
    (s) => {
      const st = s.status ?? {};
      return (
        st.observedGeneration >= (s.metadata.generation ?? 0) &&
        st.readyReplicas === replicas &&
        st.replicas === replicas &&
        (st.updatedReplicas ?? replicas) === replicas &&
        st.currentRevision === st.updateRevision
      );
    },
  );
}

async function newTemplate(t: CaseContext, name: string): Promise<void> {
  await t.patch({ kind: 'StatefulSet', name }, (s) => {
    s.spec.template.metadata.annotations = { 'conformance/revision': '2' };
  });
}

/** The order in which pods began to go away (deletionTimestamp set, or deleted outright). */
function deletionOrder(rec: Recording): string[] {
  const order: string[] = [];
  for (const e of rec.events)
    if (
      (e.type === 'DELETED' || e.object.metadata.deletionTimestamp) &&
      !order.includes(e.object.metadata.name)
    )
      order.push(e.object.metadata.name);
  return order;
}

export const statefulSetCases: ConformanceCase[] = [
  {
    area: 'StatefulSets',
    title:
      'pods get stable identities: names <statefulset>-<ordinal>, their hostname, the pod-name and pod-index labels',
    docs: `${STS}#pod-identity`,
    async run(t) {
      await statefulSet(t, 'db', 3);
      await allReady(t, 'db', 3);
      const pods = (await t.pods({ app: 'db' })).sort((a, b) =>
        a.metadata.name.localeCompare(b.metadata.name),
      );
      expect(pods.map((p) => p.metadata.name)).toEqual(['db-0', 'db-1', 'db-2']);
      for (const [i, p] of pods.entries()) {
        expect(p.spec.hostname).toBe(`db-${i}`);
        expect(p.spec.subdomain).toBe('db');
        expect(p.metadata.labels?.['statefulset.kubernetes.io/pod-name']).toBe(`db-${i}`);
        expect(p.metadata.labels?.['apps.kubernetes.io/pod-index']).toBe(String(i));
      }
    },
  },
  {
    area: 'StatefulSets',
    title:
      'OrderedReady: pods are created in ordinal order, each only once its predecessor is Running and Ready',
    docs: `${STS}#deployment-and-scaling-guarantees`,
    async run(t) {
      const rec = await t.record('Pod');
      await statefulSet(t, 'ordered', 3);
      await allReady(t, 'ordered', 3);
      rec.stop();
      const latest = new Map<string, KubeObject>();
      const created: string[] = [];
      for (const e of rec.events) {
        const name = e.object.metadata.name;
        if (e.type === 'ADDED' && !created.includes(name)) {
          created.push(name);
          const i = Number(name.split('-').at(-1));
          if (i > 0) {
            const prev = latest.get(`ordered-${i - 1}`);
            expect(
              prev && prev.status?.phase === 'Running' && isReady(prev),
              `ordered-${i - 1} ready before ${name}`,
            ).toBe(true);
          }
        }
        latest.set(name, e.object);
      }
      expect(created).toEqual(['ordered-0', 'ordered-1', 'ordered-2']);
    },
  },
  {
    area: 'StatefulSets',
    title: 'OrderedReady: while pod 0 is not Ready, pod 1 is not created',
    docs: `${STS}#orderedready-pod-management`,
    async run(t) {
      await statefulSet(t, 'blocked', 3, {}, { neverReady: true });
      await t.podsUntil('blocked-0 running', { app: 'blocked' }, (ps) => running(ps).length === 1);
      await t.sleep(30);
      expect((await t.pods({ app: 'blocked' })).map((p) => p.metadata.name)).toEqual(['blocked-0']);
    },
  },
  {
    area: 'StatefulSets',
    title:
      'podManagementPolicy Parallel: all pods are created at once without waiting for each other to be Ready',
    docs: `${STS}#parallel-pod-management`,
    async run(t) {
      await statefulSet(t, 'together', 3, { podManagementPolicy: 'Parallel' }, { neverReady: true });
      const pods = await t.podsUntil('3 pods running', { app: 'together' }, (ps) => running(ps).length === 3);
      expect(pods.some(isReady)).toBe(false);
    },
  },
  {
    area: 'StatefulSets',
    title: 'scaling down removes pods from the highest ordinal down, each after its successor is gone',
    docs: `${STS}#deployment-and-scaling-guarantees`,
    async run(t) {
      await statefulSet(t, 'shrink', 3);
      await allReady(t, 'shrink', 3);
      const rec = await t.record('Pod');
      await t.patch({ kind: 'StatefulSet', name: 'shrink' }, (s) => {
        s.spec.replicas = 1;
      });
      await t.podsUntil('one pod left', { app: 'shrink' }, (ps) => ps.length === 1);
      await t.until('pods gone', 60, async () =>
        (await t.list('Pod', { app: 'shrink' })).length === 1 ? true : undefined,
      );
      rec.stop();
      expect(deletionOrder(rec)).toEqual(['shrink-2', 'shrink-1']);
      const gone2 = rec.events.findIndex(
        (e) => e.type === 'DELETED' && e.object.metadata.name === 'shrink-2',
      );
      const start1 = rec.events.findIndex(
        (e) =>
          e.object.metadata.name === 'shrink-1' &&
          (e.type === 'DELETED' || e.object.metadata.deletionTimestamp),
      );
      expect(gone2).toBeGreaterThanOrEqual(0);
      expect(start1).toBeGreaterThan(gone2);
      expect((await t.pods({ app: 'shrink' }))[0]!.metadata.name).toBe('shrink-0');
    },
  },
  {
    area: 'StatefulSets',
    title: 'a deleted pod is recreated with the same name',
    docs: `${STS}#stable-network-id`,
    async run(t) {
      await statefulSet(t, 'phoenix', 2);
      await allReady(t, 'phoenix', 2);
      const [before] = await t.pods({ 'statefulset.kubernetes.io/pod-name': 'phoenix-1' });
      await t.delete({ kind: 'Pod', name: 'phoenix-1' });
      const [after] = await t.podsUntil(
        'phoenix-1 back',
        { 'statefulset.kubernetes.io/pod-name': 'phoenix-1' },
        (ps) => ps.length === 1 && ps[0]!.metadata.uid !== before!.metadata.uid && readyPods(ps).length === 1,
      );
      expect(after!.metadata.name).toBe('phoenix-1');
    },
  },
  {
    area: 'StatefulSets',
    title: 'RollingUpdate replaces the pods in reverse ordinal order',
    docs: `${STS}#rolling-updates`,
    async run(t) {
      await statefulSet(t, 'roll', 3);
      await allReady(t, 'roll', 3);
      const rec = await t.record('Pod');
      await newTemplate(t, 'roll');
      const s = await allReady(t, 'roll', 3);
      rec.stop();
      expect(deletionOrder(rec)).toEqual(['roll-2', 'roll-1', 'roll-0']);
      for (const p of await t.pods({ app: 'roll' }))
        expect(p.metadata.labels?.[REVISION_LABEL]).toBe(s.status.updateRevision);
    },
  },
  {
    area: 'StatefulSets',
    title: 'a RollingUpdate partition updates only the pods whose ordinal is at least the partition',
    docs: `${STS}#partitions`,
    async run(t) {
      await statefulSet(t, 'canary', 3, {
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
      });
      await allReady(t, 'canary', 3);
      await newTemplate(t, 'canary');
      const s = await t.objectUntil(
        'one pod updated',
        { kind: 'StatefulSet', name: 'canary' },
        (x) => x.status?.updatedReplicas === 1 && x.status?.readyReplicas === 3,
      );
      expect(s.status.currentRevision).not.toBe(s.status.updateRevision);
      const byName = new Map((await t.pods({ app: 'canary' })).map((p) => [p.metadata.name, p]));
      expect(byName.get('canary-2')?.metadata.labels?.[REVISION_LABEL]).toBe(s.status.updateRevision);
      expect(byName.get('canary-1')?.metadata.labels?.[REVISION_LABEL]).toBe(s.status.currentRevision);
      expect(byName.get('canary-0')?.metadata.labels?.[REVISION_LABEL]).toBe(s.status.currentRevision);
    },
  },
  {
    area: 'StatefulSets',
    title:
      'updateStrategy OnDelete: a template change replaces no pod until the pod is deleted, which comes back at the new revision',
    docs: `${STS}#on-delete`,
    async run(t) {
      await statefulSet(t, 'manual', 2, { updateStrategy: { type: 'OnDelete' } });
      await allReady(t, 'manual', 2);
      const before = await t.pods({ app: 'manual' });
      await newTemplate(t, 'manual');
      const s = await t.objectUntil(
        'new revision observed',
        { kind: 'StatefulSet', name: 'manual' },
        (x) =>
          x.status?.observedGeneration === x.metadata.generation &&
          x.status.updateRevision !== x.status.currentRevision,
      );
      await t.sleep(20);
      const same = await t.pods({ app: 'manual' });
      expect(same.map((p) => p.metadata.uid).sort()).toEqual(before.map((p) => p.metadata.uid).sort());
      await t.delete({ kind: 'Pod', name: 'manual-1' });
      const [back] = await t.podsUntil(
        'manual-1 recreated',
        { 'statefulset.kubernetes.io/pod-name': 'manual-1' },
        (ps) => ps.length === 1 && !before.some((p) => p.metadata.uid === ps[0]!.metadata.uid),
      );
      expect(back!.metadata.labels?.[REVISION_LABEL]).toBe(s.status.updateRevision);
      const [zero] = await t.pods({ 'statefulset.kubernetes.io/pod-name': 'manual-0' });
      expect(zero!.metadata.labels?.[REVISION_LABEL]).toBe(s.status.currentRevision);
    },
  },
];
