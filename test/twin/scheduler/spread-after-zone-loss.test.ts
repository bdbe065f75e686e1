import { describe, expect, it } from 'vitest';
import { schedule } from '../../../twin/scheduler/schedule.ts';
import { node, pod } from './fixtures.ts';

const unreachable = [
  { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
];
const spread = (policy?: 'Honor' | 'Ignore') => ({
  topologySpreadConstraints: [
    {
      maxSkew: 1,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: 'DoNotSchedule',
      labelSelector: { matchLabels: { app: 'probe' } },
      ...(policy ? { nodeTaintsPolicy: policy } : {}),
    },
  ],
});

describe('PodTopologySpread after a zone loss', () => {
  // Zone a is down: its nodes carry the node lifecycle controller's unreachable taints and its pod was evicted.
  const nodes = [
    node('a-1', { zone: 'a', taints: unreachable }),
    node('a-2', { zone: 'a', taints: unreachable }),
    node('b-1', { zone: 'b' }),
    node('b-2', { zone: 'b' }),
  ];
  const survivor = pod('probe-1', { labels: { app: 'probe' }, nodeName: 'b-1' });

  it('keeps a DoNotSchedule replacement Pending by default (nodeTaintsPolicy Ignore: the tainted zone still counts, with 0 pods)', () => {
    const result = schedule(pod('probe-2', { labels: { app: 'probe' }, spec: spread() }), nodes, [survivor]);
    expect(result).toEqual({
      unschedulable:
        "0/4 nodes are available: 2 node(s) didn't match pod topology spread constraints, 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. preemption: 0/4 nodes are available: 2 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
    });
  });

  it('schedules it in the surviving zone with nodeTaintsPolicy Honor (the tainted zone is no domain)', () => {
    const result = schedule(pod('probe-2', { labels: { app: 'probe' }, spec: spread('Honor') }), nodes, [
      survivor,
    ]);
    expect(result).toEqual({ nodeName: 'b-2' });
  });
});
