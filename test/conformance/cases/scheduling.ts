import { expect } from 'vitest';
import type { ConformanceCase } from '../conformance-case.ts';
import {
  deployment,
  freeCpu,
  generalNode,
  HOSTNAME,
  milliCpu,
  nodeLabel,
  nodesOfPool,
  pod,
  running,
  scheduledMessage,
  unschedulable,
  ZONE,
  zonesOf,
} from '../objects.ts';

const RESOURCES = 'https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/';
const ASSIGN = 'https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/';

export const schedulingCases: ConformanceCase[] = [
  {
    area: 'Scheduling',
    title: 'a pod whose CPU request no node can hold stays Pending, Unschedulable with "Insufficient cpu"',
    docs: `${RESOURCES}#my-pods-are-pending-with-event-message-failedscheduling`,
    async run(t) {
      const most = Math.max(...(await t.nodes()).map((n) => milliCpu(n.status?.allocatable?.cpu)));
      await t.apply(pod(t, 'huge', { labels: { app: 'huge' }, requests: { cpu: `${most + 1000}m` } }));
      const [p] = await t.podsUntil(
        'pod huge Unschedulable',
        { app: 'huge' },
        (ps) => unschedulable(ps).length === 1,
      );
      expect(scheduledMessage(p!)).toMatch(/Insufficient cpu/);
    },
  },
  {
    area: 'Scheduling',
    title:
      'the requests of the pods scheduled to a node never exceed its allocatable CPU: the pod that would overfill it stays Pending',
    docs: `${RESOURCES}#how-pods-with-resource-requests-are-scheduled`,
    async run(t) {
      const node = await generalNode(t, 'ap-northeast-1a');
      const each = Math.floor((await freeCpu(t, node)) * 0.4);
      const host = { [HOSTNAME]: nodeLabel(node, HOSTNAME)! };
      for (const name of ['fill-a', 'fill-b'])
        await t.apply(
          pod(t, name, { labels: { app: 'fill' }, nodeSelector: host, requests: { cpu: `${each}m` } }),
        );
      await t.podsUntil('two pods running on the node', { app: 'fill' }, (ps) => running(ps).length === 2);
      await t.apply(
        pod(t, 'fill-c', { labels: { app: 'fill' }, nodeSelector: host, requests: { cpu: `${each}m` } }),
      );
      const pods = await t.podsUntil(
        'the third pod Unschedulable',
        { app: 'fill' },
        (ps) => unschedulable(ps).length === 1,
      );
      expect(unschedulable(pods).map((p) => p.metadata.name)).toEqual(['fill-c']);
      expect(scheduledMessage(unschedulable(pods)[0]!)).toMatch(/Insufficient cpu/);
      expect(running(pods).every((p) => p.spec.nodeName === node.metadata.name)).toBe(true);
    },
  },
  {
    area: 'Scheduling',
    title:
      'a pod requesting an extended resource that no node advertises is not scheduled ("Insufficient example.com/dongle")',
    docs: 'https://kubernetes.io/docs/tasks/configure-pod-container/extended-resource/',
    async run(t) {
      const r = { 'example.com/dongle': '1' };
      await t.apply(pod(t, 'dongle', { labels: { app: 'dongle' }, requests: r, limits: r }));
      const [p] = await t.podsUntil(
        'pod dongle Unschedulable',
        { app: 'dongle' },
        (ps) => unschedulable(ps).length === 1,
      );
      expect(scheduledMessage(p!)).toMatch(/Insufficient example\.com\/dongle/);
    },
  },
  {
    area: 'Scheduling',
    title:
      'GPUs are an extended resource: a pod asking for nvidia.com/gpu runs on the node that has one, and a second pod wanting the same GPU stays Pending',
    docs: 'https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/',
    async run(t) {
      const gpuNodes = nodesOfPool(await t.nodes(), 'gpu');
      expect(gpuNodes.map((n) => n.status?.allocatable?.['nvidia.com/gpu'])).toEqual(['1']);
      const o = {
        labels: { app: 'cuda' },
        limits: { 'nvidia.com/gpu': '1' },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      };
      await t.apply(pod(t, 'cuda-1', o));
      const [first] = await t.podsUntil('cuda-1 running', { app: 'cuda' }, (ps) => running(ps).length === 1);
      expect(first!.spec.nodeName).toBe(gpuNodes[0]!.metadata.name);
      await t.apply(pod(t, 'cuda-2', o));
      const pods = await t.podsUntil(
        'cuda-2 Unschedulable',
        { app: 'cuda' },
        (ps) => unschedulable(ps).length === 1,
      );
      expect(scheduledMessage(unschedulable(pods)[0]!)).toMatch(/Insufficient nvidia\.com\/gpu/);
    },
  },
  {
    area: 'Scheduling',
    title: 'nodeSelector: the pod is placed only on a node that has every label it lists',
    docs: `${ASSIGN}#nodeselector`,
    async run(t) {
      await t.apply(
        deployment(t, 'picky', 3, {
          nodeSelector: { [ZONE]: 'ap-northeast-1c', 'workload-tier': 'general' },
        }),
      );
      const pods = await t.podsUntil('3 pods running', { app: 'picky' }, (ps) => running(ps).length === 3);
      const node = await generalNode(t, 'ap-northeast-1c');
      expect(new Set(pods.map((p) => p.spec.nodeName))).toEqual(new Set([node.metadata.name]));
    },
  },
  {
    area: 'Scheduling',
    title:
      'nodeSelector that no node matches: the pod stays Pending ("didn\'t match Pod\'s node affinity/selector")',
    docs: `${ASSIGN}#nodeselector`,
    async run(t) {
      await t.apply(
        pod(t, 'lost', { labels: { app: 'lost' }, nodeSelector: { 'workload-tier': 'mainframe' } }),
      );
      const [p] = await t.podsUntil(
        'pod lost Unschedulable',
        { app: 'lost' },
        (ps) => unschedulable(ps).length === 1,
      );
      expect(scheduledMessage(p!)).toMatch(/didn't match Pod's node affinity\/selector/);
    },
  },
  {
    area: 'Scheduling',
    title: 'required node affinity (operator In): every pod lands in one of the listed zones',
    docs: `${ASSIGN}#node-affinity`,
    async run(t) {
      await t.apply(
        deployment(t, 'two-zones', 6, {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: ZONE, operator: 'In', values: ['ap-northeast-1a', 'ap-northeast-1c'] },
                    ],
                  },
                ],
              },
            },
          },
        }),
      );
      const pods = await t.podsUntil(
        '6 pods running',
        { app: 'two-zones' },
        (ps) => running(ps).length === 6,
      );
      for (const z of await zonesOf(t, pods)) expect(['ap-northeast-1a', 'ap-northeast-1c']).toContain(z);
    },
  },
  {
    area: 'Scheduling',
    title: 'required node affinity (operator NotIn): no pod lands in the excluded zone',
    docs: `${ASSIGN}#node-affinity`,
    async run(t) {
      await t.apply(
        deployment(t, 'not-1a', 6, {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: ZONE, operator: 'NotIn', values: ['ap-northeast-1a'] }] },
                ],
              },
            },
          },
        }),
      );
      const pods = await t.podsUntil('6 pods running', { app: 'not-1a' }, (ps) => running(ps).length === 6);
      expect(await zonesOf(t, pods)).not.toContain('ap-northeast-1a');
    },
  },
  {
    area: 'Scheduling',
    title: 'nodeSelectorTerms are ORed: a pod whose first term matches no node is placed by its second term',
    docs: `${ASSIGN}#node-affinity`,
    async run(t) {
      await t.apply(
        pod(t, 'either', {
          labels: { app: 'either' },
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: 'workload-tier', operator: 'In', values: ['mainframe'] }] },
                  {
                    matchExpressions: [
                      { key: ZONE, operator: 'In', values: ['ap-northeast-1d'] },
                      { key: 'workload-tier', operator: 'In', values: ['general'] },
                    ],
                  },
                ],
              },
            },
          },
        }),
      );
      const [p] = await t.podsUntil(
        'pod either running',
        { app: 'either' },
        (ps) => running(ps).length === 1,
      );
      expect(p!.spec.nodeName).toBe((await generalNode(t, 'ap-northeast-1d')).metadata.name);
    },
  },
  {
    area: 'Scheduling',
    title: 'preferred node affinity: the scheduler picks the node that matches the preference',
    docs: `${ASSIGN}#node-affinity`,
    async run(t) {
      await t.apply(
        pod(t, 'prefers-1d', {
          labels: { app: 'prefers-1d' },
          affinity: {
            nodeAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  preference: {
                    matchExpressions: [{ key: ZONE, operator: 'In', values: ['ap-northeast-1d'] }],
                  },
                },
              ],
            },
          },
        }),
      );
      const [p] = await t.podsUntil('pod running', { app: 'prefers-1d' }, (ps) => running(ps).length === 1);
      expect(p!.spec.nodeName).toBe((await generalNode(t, 'ap-northeast-1d')).metadata.name);
    },
  },
  {
    area: 'Scheduling',
    title: 'preferred node affinity that no node matches does not keep the pod from being scheduled',
    docs: `${ASSIGN}#node-affinity`,
    async run(t) {
      await t.apply(
        pod(t, 'wishful', {
          labels: { app: 'wishful' },
          affinity: {
            nodeAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 50,
                  preference: {
                    matchExpressions: [{ key: 'workload-tier', operator: 'In', values: ['mainframe'] }],
                  },
                },
              ],
            },
          },
        }),
      );
      await t.podsUntil('pod running', { app: 'wishful' }, (ps) => running(ps).length === 1);
    },
  },
  {
    area: 'Scheduling',
    title: 'a cordoned node (spec.unschedulable) gets no new pods while the pods already on it keep running',
    docs: 'https://kubernetes.io/docs/concepts/architecture/nodes/#manual-node-administration',
    async run(t) {
      const node = await generalNode(t, 'ap-northeast-1a');
      const host = { [HOSTNAME]: nodeLabel(node, HOSTNAME)! };
      await t.apply(pod(t, 'before', { labels: { app: 'before' }, nodeSelector: host }));
      await t.podsUntil('pod before running', { app: 'before' }, (ps) => running(ps).length === 1);
      t.defer(async () => {
        await t.patch({ kind: 'Node', name: node.metadata.name }, (n) => {
          delete n.spec.unschedulable;
        });
      });
      await t.patch({ kind: 'Node', name: node.metadata.name }, (n) => {
        n.spec.unschedulable = true;
      });
      await t.apply(pod(t, 'after', { labels: { app: 'after' }, nodeSelector: host }));
      const [p] = await t.podsUntil(
        'pod after Unschedulable',
        { app: 'after' },
        (ps) => unschedulable(ps).length === 1,
      );
      expect(scheduledMessage(p!)).toMatch(/unschedulable/);
      const [before] = await t.pods({ app: 'before' });
      expect(before!.status.phase).toBe('Running');
      expect(before!.spec.nodeName).toBe(node.metadata.name);
    },
  },
];
