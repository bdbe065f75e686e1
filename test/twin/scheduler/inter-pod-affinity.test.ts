import { describe, expect, it } from 'vitest';
import { schedule } from '../../../twin/scheduler/schedule.ts';
import { node, pod } from './fixtures.ts';

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';
const nodes = [node('a', { zone: 'zone-a' }), node('b', { zone: 'zone-a' }), node('c', { zone: 'zone-b' })];
const term = (app: string, topologyKey: string, extra: Record<string, unknown> = {}) => ({
  labelSelector: { matchLabels: { app } },
  topologyKey,
  ...extra,
});
const antiAffinity = (...terms: unknown[]) => ({
  affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } },
});
const affinity = (...terms: unknown[]) => ({
  affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } },
});

describe('InterPodAffinity', () => {
  it('keeps replicas with required anti-affinity on separate hosts', () => {
    const existing = ['a', 'b', 'c'].map((n) => pod(`web-${n}`, { labels: { app: 'web' }, nodeName: n }));
    expect(
      schedule(
        pod('web-4', { labels: { app: 'web' }, spec: antiAffinity(term('web', HOST)) }),
        nodes,
        existing.slice(0, 2),
      ),
    ).toEqual({
      nodeName: 'c',
    });
    expect(
      schedule(
        pod('web-4', { labels: { app: 'web' }, spec: antiAffinity(term('web', HOST)) }),
        nodes,
        existing,
      ),
    ).toEqual({
      unschedulable:
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    });
  });

  it("respects existing pods' anti-affinity against the incoming pod", () => {
    const loner = pod('loner', {
      labels: { app: 'loner' },
      nodeName: 'a',
      spec: antiAffinity(term('noisy', ZONE)),
    });
    const r = schedule(pod('noisy', { labels: { app: 'noisy' }, cpu: '100m' }), nodes, [loner]);
    expect(r).toEqual({ nodeName: 'c' });
    expect(schedule(pod('noisy', { labels: { app: 'noisy' } }), nodes.slice(0, 2), [loner])).toEqual({
      unschedulable:
        "0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    });
  });

  it('places a pod with required affinity in the topology domain of the pods it follows', () => {
    const cache = pod('cache', { labels: { app: 'cache' }, nodeName: 'c' });
    expect(schedule(pod('api', { spec: affinity(term('cache', ZONE)) }), nodes, [cache])).toEqual({
      nodeName: 'c',
    });
    expect(schedule(pod('api', { spec: affinity(term('cache', ZONE)) }), nodes, [])).toEqual({
      unschedulable:
        "0/3 nodes are available: 3 node(s) didn't match pod affinity rules. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    });
  });

  it('lets the first pod of a self-affine group go anywhere', () => {
    expect(
      schedule(pod('first', { labels: { app: 'group' }, spec: affinity(term('group', ZONE)) }), nodes, []),
    ).toHaveProperty('nodeName');
  });

  it("defaults a term's namespaces to the pod's own and honours namespaces and namespaceSelector", () => {
    const cache = pod('cache', { labels: { app: 'cache' }, namespace: 'data', nodeName: 'c' });
    expect(schedule(pod('api', { spec: affinity(term('cache', ZONE)) }), nodes, [cache])).toHaveProperty(
      'unschedulable',
    );
    expect(
      schedule(pod('api', { spec: affinity(term('cache', ZONE, { namespaces: ['data'] })) }), nodes, [cache]),
    ).toEqual({ nodeName: 'c' });
    const dataNs = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'data', labels: { team: 'data' } },
    };
    const bySelector = pod('api', {
      spec: affinity(term('cache', ZONE, { namespaceSelector: { matchLabels: { team: 'data' } } })),
    });
    expect(schedule(bySelector, nodes, [cache], { namespaces: [dataNs] })).toEqual({ nodeName: 'c' });
    const all = pod('api', { spec: affinity(term('cache', ZONE, { namespaceSelector: {} })) });
    expect(schedule(all, nodes, [cache])).toEqual({ nodeName: 'c' });
  });

  it('scores preferred affinity and anti-affinity', () => {
    const cache = pod('cache', { labels: { app: 'cache' }, nodeName: 'b' });
    const near = pod('api', {
      spec: {
        affinity: {
          podAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 100, podAffinityTerm: term('cache', HOST) },
            ],
          },
        },
      },
    });
    expect(schedule(near, nodes, [cache])).toEqual({ nodeName: 'b' });
    const far = pod('api', {
      spec: {
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 100, podAffinityTerm: term('cache', ZONE) },
            ],
          },
        },
      },
    });
    expect(schedule(far, nodes, [cache])).toEqual({ nodeName: 'c' });
  });
});
