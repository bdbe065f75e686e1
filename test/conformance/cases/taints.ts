import { expect } from 'vitest';
import type { ConformanceCase } from '../conformance-case.ts';
import {
  generalNode,
  HOSTNAME,
  nodeLabel,
  nodesOfPool,
  pod,
  running,
  scheduledMessage,
  secondsBetween,
  taintNode,
  unschedulable,
} from '../objects.ts';

const TAINTS = 'https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/';
const BATCH = { 'workload-tier': 'batch' };

export const taintCases: ConformanceCase[] = [
  {
    area: 'Taints and tolerations',
    title:
      'a pod that does not tolerate a node\'s NoSchedule taint is not scheduled there ("untolerated taint")',
    docs: TAINTS,
    async run(t) {
      await t.apply(pod(t, 'intruder', { labels: { app: 'intruder' }, nodeSelector: BATCH }));
      const [p] = await t.podsUntil(
        'pod Unschedulable',
        { app: 'intruder' },
        (ps) => unschedulable(ps).length === 1,
      );
      expect(scheduledMessage(p!)).toMatch(/untolerated taint \{dedicated: batch\}/);
    },
  },
  {
    area: 'Taints and tolerations',
    title:
      "a toleration with operator Equal, the taint's key, value and effect lets the pod onto the tainted node",
    docs: TAINTS,
    async run(t) {
      await t.apply(
        pod(t, 'batcher', {
          labels: { app: 'batcher' },
          nodeSelector: BATCH,
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }],
        }),
      );
      const [p] = await t.podsUntil('pod running', { app: 'batcher' }, (ps) => running(ps).length === 1);
      const batchNodes = nodesOfPool(await t.nodes(), 'batch').map((n) => n.metadata.name);
      expect(batchNodes).toContain(p!.spec.nodeName);
    },
  },
  {
    area: 'Taints and tolerations',
    title: 'a toleration with operator Exists and no value tolerates the taint whatever its value',
    docs: TAINTS,
    async run(t) {
      await t.apply(
        pod(t, 'any-value', {
          labels: { app: 'any-value' },
          nodeSelector: BATCH,
          tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }],
        }),
      );
      await t.podsUntil('pod running', { app: 'any-value' }, (ps) => running(ps).length === 1);
    },
  },
  {
    area: 'Taints and tolerations',
    title: 'an empty key with operator Exists tolerates every taint',
    docs: TAINTS,
    async run(t) {
      await t.apply(
        pod(t, 'tolerates-all', {
          labels: { app: 'tolerates-all' },
          nodeSelector: { 'workload-tier': 'gpu' },
          tolerations: [{ operator: 'Exists' }],
        }),
      );
      await t.podsUntil(
        'pod running on the GPU node',
        { app: 'tolerates-all' },
        (ps) => running(ps).length === 1,
      );
    },
  },
  {
    area: 'Taints and tolerations',
    title: 'a toleration for another effect (NoExecute) does not tolerate a NoSchedule taint',
    docs: TAINTS,
    async run(t) {
      await t.apply(
        pod(t, 'wrong-effect', {
          labels: { app: 'wrong-effect' },
          nodeSelector: BATCH,
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoExecute' }],
        }),
      );
      const [p] = await t.podsUntil(
        'pod Unschedulable',
        { app: 'wrong-effect' },
        (ps) => unschedulable(ps).length === 1,
      );
      expect(scheduledMessage(p!)).toMatch(/untolerated taint/);
    },
  },
  {
    area: 'Taints and tolerations',
    title:
      'PreferNoSchedule: the scheduler avoids nodes with a taint the pod does not tolerate when another node fits',
    docs: TAINTS,
    async run(t) {
      const a = await generalNode(t, 'ap-northeast-1a');
      const c = await generalNode(t, 'ap-northeast-1c');
      const d = await generalNode(t, 'ap-northeast-1d');
      for (const n of [a, c])
        await taintNode(t, n.metadata.name, {
          key: 'conformance/avoid',
          value: 'yes',
          effect: 'PreferNoSchedule',
        });
      await t.apply(
        pod(t, 'avoider', { labels: { app: 'avoider' }, nodeSelector: { 'workload-tier': 'general' } }),
      );
      const [p] = await t.podsUntil('pod running', { app: 'avoider' }, (ps) => running(ps).length === 1);
      expect(p!.spec.nodeName).toBe(d.metadata.name);
    },
  },
  {
    area: 'Taints and tolerations',
    title:
      'a NoExecute taint evicts the pods that do not tolerate it and keeps those that tolerate it without tolerationSeconds',
    docs: `${TAINTS}#concepts`,
    async run(t) {
      const node = await generalNode(t, 'ap-northeast-1d');
      const host = { [HOSTNAME]: nodeLabel(node, HOSTNAME)! };
      const taint = { key: 'conformance/evict', value: 'yes', effect: 'NoExecute' };
      await t.apply(
        pod(t, 'fragile', { labels: { app: 'noexec', role: 'fragile' }, nodeSelector: host }),
        pod(t, 'sturdy', {
          labels: { app: 'noexec', role: 'sturdy' },
          nodeSelector: host,
          tolerations: [{ key: 'conformance/evict', operator: 'Exists', effect: 'NoExecute' }],
        }),
      );
      await t.podsUntil('both pods running', { app: 'noexec' }, (ps) => running(ps).length === 2);
      await taintNode(t, node.metadata.name, taint);
      const pods = await t.podsUntil(
        'the pod without a toleration evicted',
        { app: 'noexec' },
        (ps) => ps.length === 1,
      );
      expect(pods.map((p) => p.metadata.name)).toEqual(['sturdy']);
      await t.sleep(30);
      expect((await t.pods({ app: 'noexec' })).map((p) => p.metadata.name)).toEqual(['sturdy']);
    },
  },
  {
    area: 'Taints and tolerations',
    title:
      'a pod tolerating a NoExecute taint with tolerationSeconds stays bound for that long after the taint, then is evicted',
    docs: `${TAINTS}#concepts`,
    async run(t) {
      const node = await generalNode(t, 'ap-northeast-1d');
      await t.apply(
        pod(t, 'lingering', {
          labels: { app: 'lingering' },
          nodeSelector: { [HOSTNAME]: nodeLabel(node, HOSTNAME)! },
          tolerations: [
            { key: 'conformance/evict', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
          ],
        }),
      );
      await t.podsUntil('pod running', { app: 'lingering' }, (ps) => running(ps).length === 1);
      const pods = await t.record('Pod');
      const taintedAt = t.now();
      await taintNode(t, node.metadata.name, { key: 'conformance/evict', value: 'yes', effect: 'NoExecute' });
      await t.podsUntil('pod evicted', { app: 'lingering' }, (ps) => ps.length === 0, 120);
      pods.stop();
      const gone = pods.events.find((e) => e.object.metadata.deletionTimestamp);
      expect(gone, 'the pod was deleted').toBeDefined();
      const after = secondsBetween(taintedAt, gone!.object.metadata.deletionTimestamp!);
      expect(after).toBeGreaterThanOrEqual(29);
    },
  },
];
