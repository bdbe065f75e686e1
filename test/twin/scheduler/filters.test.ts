import { describe, expect, it } from 'vitest';
import { diagnose, schedule } from '../../../twin/scheduler/schedule.ts';
import { toleratesTaint } from '../../../twin/scheduler/taint-toleration.ts';
import { node, pod, productionNodes } from './fixtures.ts';

const reasonsOf = (
  p: ReturnType<typeof pod>,
  nodes: ReturnType<typeof node>[],
  pods: ReturnType<typeof pod>[] = [],
) => Object.fromEntries([...diagnose(p, nodes, pods).rejections].map(([n, r]) => [n, r.reasons]));

describe('NodeResourcesFit', () => {
  it('rejects nodes without room for cpu and memory, counting bound non-terminal pods', () => {
    const nodes = [node('a', { cpu: '2', memory: '4Gi' }), node('b', { cpu: '2', memory: '4Gi' })];
    const pods = [
      pod('x', { cpu: '1500m', memory: '2Gi', nodeName: 'a' }),
      pod('done', { cpu: '2', memory: '4Gi', nodeName: 'b', phase: 'Succeeded' }),
      pod('pending', { cpu: '2', memory: '4Gi' }),
    ];
    expect(reasonsOf(pod('p', { cpu: '1', memory: '3Gi' }), nodes, pods)).toEqual({
      a: ['Insufficient cpu', 'Insufficient memory'],
    });
    expect(schedule(pod('p', { cpu: '1', memory: '3Gi' }), nodes, pods)).toEqual({ nodeName: 'b' });
  });

  it('treats a resource the node lacks as insufficient', () => {
    expect(reasonsOf(pod('p', { gpu: 1 }), [node('cpu-only')])).toEqual({
      'cpu-only': ['Insufficient nvidia.com/gpu'],
    });
    expect(schedule(pod('p', { gpu: 1 }), [node('cpu-only'), node('gpu', { gpu: 1 })], [])).toEqual({
      nodeName: 'gpu',
    });
  });

  it('counts pods against allocatable pods', () => {
    const nodes = [node('a', { pods: 1 })];
    expect(reasonsOf(pod('p'), nodes, [pod('x', { nodeName: 'a' })])).toEqual({ a: ['Too many pods'] });
  });
});

describe('NodeUnschedulable and NodeName', () => {
  it('skips cordoned nodes unless the pod tolerates node.kubernetes.io/unschedulable', () => {
    const nodes = [node('a', { unschedulable: true })];
    expect(reasonsOf(pod('p'), nodes)).toEqual({ a: ['node(s) were unschedulable'] });
    const tolerant = pod('p', {
      spec: {
        tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }],
      },
    });
    expect(schedule(tolerant, nodes, [])).toEqual({ nodeName: 'a' });
  });

  it('keeps a pod that names a node to that node', () => {
    expect(reasonsOf(pod('p', { spec: { nodeName: 'b' } }), [node('a'), node('b')])).toEqual({
      a: ["node(s) didn't match the requested node name"],
    });
  });
});

describe('NodeAffinity', () => {
  const nodes = [
    node('a', { zone: 'z1', labels: { tier: 'app', size: '4' } }),
    node('b', { zone: 'z2', labels: { tier: 'batch', size: '16' } }),
    node('c', { zone: 'z3', labels: { size: '64' } }),
  ];
  const affinity = (required: unknown, preferred?: unknown) => ({
    spec: {
      affinity: {
        nodeAffinity: {
          ...(required
            ? { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: required } }
            : {}),
          ...(preferred ? { preferredDuringSchedulingIgnoredDuringExecution: preferred } : {}),
        },
      },
    },
  });
  const feasible = (p: ReturnType<typeof pod>) =>
    ['a', 'b', 'c'].filter((n) => !diagnose(p, nodes, []).rejections.has(n));

  it('matches spec.nodeSelector', () => {
    expect(feasible(pod('p', { spec: { nodeSelector: { tier: 'batch' } } }))).toEqual(['b']);
    expect(reasonsOf(pod('p', { spec: { nodeSelector: { tier: 'batch' } } }), nodes)['a']).toEqual([
      "node(s) didn't match Pod's node affinity/selector",
    ]);
  });

  it('ORs terms and ANDs expressions with every operator', () => {
    expect(
      feasible(
        pod(
          'p',
          affinity([
            { matchExpressions: [{ key: 'tier', operator: 'In', values: ['app'] }] },
            { matchExpressions: [{ key: 'size', operator: 'Gt', values: ['32'] }] },
          ]),
        ),
      ),
    ).toEqual(['a', 'c']);
    expect(
      feasible(
        pod(
          'p',
          affinity([
            {
              matchExpressions: [
                { key: 'tier', operator: 'Exists' },
                { key: 'size', operator: 'Lt', values: ['8'] },
              ],
            },
          ]),
        ),
      ),
    ).toEqual(['a']);
    expect(
      feasible(pod('p', affinity([{ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }]))),
    ).toEqual(['c']);
    expect(
      feasible(
        pod('p', affinity([{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['app'] }] }])),
      ),
    ).toEqual(['b', 'c']);
  });

  it('pins DaemonSet pods with matchFields on metadata.name', () => {
    const p = pod(
      'ds',
      affinity([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] }]),
    );
    expect(feasible(p)).toEqual(['b']);
  });

  it('prefers nodes by the weights of preferred terms', () => {
    const p = pod(
      'p',
      affinity(undefined, [
        {
          weight: 10,
          preference: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['batch'] }] },
        },
        { weight: 80, preference: { matchExpressions: [{ key: 'size', operator: 'In', values: ['64'] }] } },
      ]),
    );
    expect(schedule(p, nodes, [])).toEqual({ nodeName: 'c' });
  });
});

describe('TaintToleration', () => {
  it('implements Toleration.ToleratesTaint', () => {
    const taint = { key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' };
    expect(
      toleratesTaint(
        { key: 'nvidia.com/gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
        taint,
      ),
    ).toBe(true);
    expect(toleratesTaint({ key: 'nvidia.com/gpu', value: 'true' }, taint)).toBe(true);
    expect(toleratesTaint({ key: 'nvidia.com/gpu', operator: 'Equal', value: 'false' }, taint)).toBe(false);
    expect(toleratesTaint({ key: 'nvidia.com/gpu', operator: 'Exists' }, taint)).toBe(true);
    expect(toleratesTaint({ operator: 'Exists' }, taint)).toBe(true);
    expect(toleratesTaint({ operator: 'Exists', effect: 'NoExecute' }, taint)).toBe(false);
    expect(toleratesTaint({ key: 'other', operator: 'Exists' }, taint)).toBe(false);
  });

  it('filters NoSchedule and NoExecute, scores PreferNoSchedule', () => {
    const nodes = [
      node('a', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] }),
      node('b', { taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] }),
      node('c'),
    ];
    expect(reasonsOf(pod('p'), nodes)).toEqual({ a: ['node(s) had untolerated taint {dedicated: db}'] });
    expect(
      schedule(pod('p', { cpu: '3' }), nodes.slice(0, 2).concat(node('c', { cpu: '3500m' })), []),
    ).toEqual({ nodeName: 'c' });
    expect(
      schedule(pod('p', { spec: { tolerations: [{ operator: 'Exists' }] } }), nodes.slice(0, 1), []),
    ).toEqual({ nodeName: 'a' });
  });
});

describe('GPU placement on the production topology', () => {
  const nodes = productionNodes();
  const gpuPod = (name: string) =>
    pod(name, {
      cpu: '1',
      memory: '4Gi',
      gpu: 1,
      spec: { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] },
    });

  it('puts GPU pods only on GPU nodes, one per GPU', () => {
    const placed: ReturnType<typeof pod>[] = [];
    for (const name of ['g1', 'g2']) {
      const r = schedule(gpuPod(name), nodes, placed);
      expect(r).toHaveProperty('nodeName');
      placed.push({
        ...gpuPod(name),
        spec: { ...gpuPod(name).spec, nodeName: (r as { nodeName: string }).nodeName },
      });
    }
    expect(placed.map((p) => p.spec.nodeName).sort()).toEqual(['gpu-1a-1', 'gpu-1c-1']);
    expect(schedule(gpuPod('g3'), nodes, placed)).toEqual({
      unschedulable:
        '0/8 nodes are available: 8 Insufficient nvidia.com/gpu. preemption: 0/8 nodes are available: 8 No preemption victims found for incoming pod.',
    });
  });

  it('keeps ordinary pods off the tainted GPU nodes', () => {
    const r = schedule(pod('web', { cpu: '100m', memory: '128Mi' }), nodes, []);
    expect((r as { nodeName: string }).nodeName).toMatch(/^general-/);
  });
});
