import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import { diagnose, schedule } from '../../../twin/scheduler/schedule.ts';
import { node, pod, productionNodes } from './fixtures.ts';

const zoneSpread = (extra: Record<string, unknown> = {}, when = 'DoNotSchedule') => ({
  topologySpreadConstraints: [
    {
      maxSkew: 1,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: when,
      labelSelector: { matchLabels: { app: 'web' } },
      ...extra,
    },
  ],
});
const web = (name: string, o: Parameters<typeof pod>[1] = {}) =>
  pod(name, { labels: { app: 'web' }, cpu: '500m', ...o });
const bound = (p: KubeObject, nodeName: string) => ({
  ...p,
  spec: { ...p.spec, nodeName },
  status: { phase: 'Running' },
});

describe('PodTopologySpread filter', () => {
  it('keeps a pod Pending when the only domain with room would exceed maxSkew', () => {
    const nodes = [node('a', { zone: 'zone-a' }), node('b', { zone: 'zone-b', cpu: '1' })];
    const pods = [web('w1', { nodeName: 'a' }), pod('filler', { cpu: '1', nodeName: 'b' })];
    expect(schedule(web('w2', { spec: zoneSpread() }), nodes, pods)).toEqual({
      unschedulable:
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match pod topology spread constraints. " +
        'preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
    });
  });

  it('places replicas to keep the skew within maxSkew', () => {
    const nodes = [
      node('a1', { zone: 'zone-a' }),
      node('a2', { zone: 'zone-a' }),
      node('b1', { zone: 'zone-b' }),
    ];
    const pods = [web('w1', { nodeName: 'a1' })];
    expect(schedule(web('w2', { spec: zoneSpread() }), nodes, pods)).toEqual({ nodeName: 'b1' });
  });

  it('counts only pods the labelSelector selects, in the pod namespace', () => {
    const nodes = [node('a', { zone: 'zone-a' }), node('b', { zone: 'zone-b' })];
    const pods = [
      pod('other', { labels: { app: 'db' }, nodeName: 'b' }),
      web('elsewhere', { namespace: 'other', nodeName: 'b' }),
    ];
    const d = diagnose(web('w', { spec: zoneSpread() }), nodes, pods);
    expect(d.rejections.size).toBe(0);
  });

  it('treats domains as zero when fewer than minDomains exist', () => {
    const nodes = [node('a', { zone: 'zone-a' }), node('b', { zone: 'zone-b' })];
    const pods = [web('w1', { nodeName: 'a' }), web('w2', { nodeName: 'b' })];
    expect(schedule(web('w3', { spec: zoneSpread() }), nodes, pods)).toHaveProperty('nodeName');
    expect(schedule(web('w3', { spec: zoneSpread({ minDomains: 3 }) }), nodes, pods)).toHaveProperty(
      'unschedulable',
    );
  });

  it('honours node affinity when finding domains (nodeAffinityPolicy Honor by default)', () => {
    const nodes = [
      node('a', { zone: 'zone-a' }),
      node('b', { zone: 'zone-b' }),
      node('c', { zone: 'zone-c', labels: { pool: 'batch' } }),
    ];
    const pods = [web('w1', { nodeName: 'a' }), web('w2', { nodeName: 'b' })];
    const selector = { nodeSelector: { 'kubernetes.io/hostname': 'a' } };
    expect(schedule(web('w3', { spec: { ...selector, ...zoneSpread() } }), nodes, pods)).toEqual({
      nodeName: 'a',
    });
    expect(
      schedule(
        web('w3', { spec: { ...selector, ...zoneSpread({ nodeAffinityPolicy: 'Ignore' }) } }),
        nodes,
        pods,
      ),
    ).toHaveProperty('unschedulable');
  });

  it('ignores taints when finding domains unless nodeTaintsPolicy is Honor', () => {
    const nodes = [
      node('a', { zone: 'zone-a' }),
      node('b', { zone: 'zone-b' }),
      node('c', { zone: 'zone-c', taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] }),
    ];
    const pods = [web('w1', { nodeName: 'a' }), web('w2', { nodeName: 'b' })];
    expect(schedule(web('w3', { spec: zoneSpread() }), nodes, pods)).toHaveProperty('unschedulable');
    expect(
      schedule(web('w3', { spec: zoneSpread({ nodeTaintsPolicy: 'Honor' }) }), nodes, pods),
    ).toHaveProperty('nodeName');
  });

  it('rejects nodes without the topology key as unresolvable', () => {
    const bare = node('bare');
    delete bare.metadata.labels!['topology.kubernetes.io/zone'];
    const d = diagnose(web('w', { spec: zoneSpread() }), [bare], []);
    expect(d.rejections.get('bare')).toEqual({
      code: 'UnschedulableAndUnresolvable',
      reasons: ["node(s) didn't match pod topology spread constraints (missing required label)"],
    });
  });

  it('narrows the selector with matchLabelKeys', () => {
    const nodes = [node('a', { zone: 'zone-a' }), node('b', { zone: 'zone-b' })];
    const old = (name: string, n: string) =>
      pod(name, { labels: { app: 'web', 'pod-template-hash': 'old' }, nodeName: n });
    const pods = [old('o1', 'a'), old('o2', 'a')];
    const p = pod('new', {
      labels: { app: 'web', 'pod-template-hash': 'new' },
      spec: zoneSpread({ matchLabelKeys: ['pod-template-hash'] }),
    });
    expect(diagnose(p, nodes, pods).rejections.size).toBe(0);
    const plain = pod('new', { labels: { app: 'web', 'pod-template-hash': 'new' }, spec: zoneSpread() });
    expect([...diagnose(plain, nodes, pods).rejections.keys()]).toEqual(['a']);
  });
});

describe('PodTopologySpread score', () => {
  it('prefers the emptier domain for ScheduleAnyway', () => {
    const nodes = [node('a', { zone: 'zone-a' }), node('b', { zone: 'zone-b' })];
    const pods = [web('w1', { nodeName: 'a' }), web('w2', { nodeName: 'a' })];
    expect(schedule(web('w3', { spec: zoneSpread({}, 'ScheduleAnyway') }), nodes, pods)).toEqual({
      nodeName: 'b',
    });
  });

  it('spreads a ReplicaSet over zones and nodes by the system default constraints', () => {
    const nodes = productionNodes();
    const placed: KubeObject[] = [];
    for (let i = 0; i < 6; i++) {
      const p = pod(`api-${i}`, { labels: { app: 'api' }, owner: 'api-7d9', cpu: '100m', memory: '128Mi' });
      const r = schedule(p, nodes, placed);
      placed.push(bound(p, (r as { nodeName: string }).nodeName));
    }
    const names = placed.map((p) => p.spec.nodeName);
    expect(new Set(names).size).toBe(6);
    expect(names.filter((n) => n.includes('-1a-')).length).toBe(3);
    expect(
      names
        .slice(0, 2)
        .map((n) => n.split('-')[1])
        .sort(),
    ).toEqual(['1a', '1c']);
  });
});
