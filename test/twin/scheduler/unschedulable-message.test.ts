import { describe, expect, it } from 'vitest';
import { parseTopology, topologyToNodes } from '../../../system/topology/topology.ts';
import { fitErrorMessage } from '../../../twin/scheduler/fit-error.ts';
import { schedule } from '../../../twin/scheduler/schedule.ts';
import { pod } from './fixtures.ts';

const NINE_NODES = `apiVersion: twin.dev/v1alpha1
kind: Topology
metadata: { name: nine }
region: ap-northeast-1
zones: [ap-northeast-1a, ap-northeast-1c, ap-northeast-1d]
nodePools:
  - name: general
    instanceType: t3.large
    nodesPerZone: 1
  - name: gpu
    instanceType: g4dn.xlarge
    nodesPerZone: 2
    taints: [{ key: nvidia.com/gpu, value: "true", effect: NoSchedule }]
`;

describe('the FailedScheduling message', () => {
  const nodes = topologyToNodes(parseTopology(NINE_NODES, 'nine.yaml'));

  it('counts reasons over nodes, sorted as kube-scheduler sorts them, then what preemption found', () => {
    expect(schedule(pod('big', { cpu: '3' }), nodes, [])).toEqual({
      unschedulable:
        '0/9 nodes are available: 3 Insufficient cpu, 6 node(s) had untolerated taint {nvidia.com/gpu: true}. ' +
        'preemption: 0/9 nodes are available: 3 No preemption victims found for incoming pod, 6 Preemption is not helpful for scheduling.',
    });
  });

  it('says preemption is not helpful when no node can be helped', () => {
    expect(schedule(pod('p', { spec: { nodeSelector: { disk: 'ssd' } } }), nodes, [])).toEqual({
      unschedulable:
        "0/9 nodes are available: 3 node(s) didn't match Pod's node affinity/selector, 6 node(s) had untolerated taint {nvidia.com/gpu: true}. " +
        'preemption: 0/9 nodes are available: 9 Preemption is not helpful for scheduling.',
    });
  });

  it('lists every insufficient resource of a node', () => {
    expect(
      fitErrorMessage(2, [
        { code: 'Unschedulable', reasons: ['Insufficient cpu', 'Insufficient memory'] },
        { code: 'UnschedulableAndUnresolvable', reasons: ['node(s) were unschedulable'] },
      ]),
    ).toBe(
      '0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) were unschedulable. ' +
        'preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
    );
  });

  it('says so when there are no nodes', () => {
    expect(schedule(pod('p'), [], [])).toEqual({ unschedulable: 'no nodes available to schedule pods' });
  });
});
