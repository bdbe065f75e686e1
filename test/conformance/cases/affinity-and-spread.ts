import { expect } from 'vitest';
import type { ConformanceCase } from '../conformance-case.ts';
import {
  cordonZones,
  countBy,
  deployment,
  generalNode,
  HOSTNAME,
  nodeLabel,
  pod,
  running,
  scheduledMessage,
  unschedulable,
  ZONE,
  zonesOf,
} from '../objects.ts';

const INTER_POD =
  'https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity';
const SPREAD = 'https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/';

function antiAffinity(app: string, topologyKey: string, kind: 'required' | 'preferred') {
  const term = { labelSelector: { matchLabels: { app } }, topologyKey };
  return {
    podAntiAffinity:
      kind === 'required'
        ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
        : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] },
  };
}

function zoneSpread(app: string, whenUnsatisfiable: string, extra: Record<string, unknown> = {}) {
  return [
    { maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable, labelSelector: { matchLabels: { app } }, ...extra },
  ];
}

export const affinityAndSpreadCases: ConformanceCase[] = [
  {
    area: 'Pod affinity and topology spread',
    title: 'required pod affinity (topologyKey hostname) places the pods on the node of the pod they select',
    docs: INTER_POD,
    async run(t) {
      const node = await generalNode(t, 'ap-northeast-1c');
      await t.apply(
        pod(t, 'anchor', {
          labels: { app: 'anchor' },
          nodeSelector: { [HOSTNAME]: nodeLabel(node, HOSTNAME)! },
        }),
      );
      await t.podsUntil('anchor running', { app: 'anchor' }, (ps) => running(ps).length === 1);
      await t.apply(
        deployment(t, 'follower', 3, {
          affinity: {
            podAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { labelSelector: { matchLabels: { app: 'anchor' } }, topologyKey: HOSTNAME },
              ],
            },
          },
        }),
      );
      const pods = await t.podsUntil(
        '3 followers running',
        { app: 'follower' },
        (ps) => running(ps).length === 3,
      );
      expect(new Set(pods.map((p) => p.spec.nodeName))).toEqual(new Set([node.metadata.name]));
    },
  },
  {
    area: 'Pod affinity and topology spread',
    title:
      'required pod affinity that no running pod satisfies keeps the pod Pending ("didn\'t match pod affinity rules")',
    docs: INTER_POD,
    async run(t) {
      await t.apply(
        pod(t, 'lonely', {
          labels: { app: 'lonely' },
          affinity: {
            podAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { labelSelector: { matchLabels: { app: 'nobody' } }, topologyKey: HOSTNAME },
              ],
            },
          },
        }),
      );
      const [p] = await t.podsUntil(
        'pod Unschedulable',
        { app: 'lonely' },
        (ps) => unschedulable(ps).length === 1,
      );
      expect(scheduledMessage(p!)).toMatch(/didn't match pod affinity rules/);
    },
  },
  {
    area: 'Pod affinity and topology spread',
    title:
      'required pod anti-affinity on hostname: at most one replica per node, the replica with no node left stays Pending',
    docs: INTER_POD,
    async run(t) {
      await t.apply(deployment(t, 'solo', 4, { affinity: antiAffinity('solo', HOSTNAME, 'required') }));
      const pods = await t.podsUntil(
        '3 replicas running and 1 Unschedulable',
        { app: 'solo' },
        (ps) => running(ps).length === 3 && unschedulable(ps).length === 1,
      );
      expect(new Set(running(pods).map((p) => p.spec.nodeName)).size).toBe(3);
      expect(scheduledMessage(unschedulable(pods)[0]!)).toMatch(/didn't match pod anti-affinity rules/);
    },
  },
  {
    area: 'Pod affinity and topology spread',
    title: 'required pod anti-affinity on the zone key puts each replica in a zone of its own',
    docs: INTER_POD,
    async run(t) {
      await t.apply(deployment(t, 'per-zone', 3, { affinity: antiAffinity('per-zone', ZONE, 'required') }));
      const pods = await t.podsUntil(
        '3 replicas running',
        { app: 'per-zone' },
        (ps) => running(ps).length === 3,
      );
      expect(new Set(await zonesOf(t, pods)).size).toBe(3);
    },
  },
  {
    area: 'Pod affinity and topology spread',
    title:
      'preferred pod anti-affinity spreads replicas over the nodes but schedules the replica that finds none free',
    docs: INTER_POD,
    async run(t) {
      await t.apply(deployment(t, 'polite', 4, { affinity: antiAffinity('polite', HOSTNAME, 'preferred') }));
      const pods = await t.podsUntil(
        '4 replicas running',
        { app: 'polite' },
        (ps) => running(ps).length === 4,
      );
      expect(new Set(pods.map((p) => p.spec.nodeName)).size).toBe(3);
    },
  },
  {
    area: 'Pod affinity and topology spread',
    title:
      'an existing pod\'s required anti-affinity keeps matching pods off its node ("didn\'t satisfy existing pods anti-affinity rules")',
    docs: INTER_POD,
    async run(t) {
      const node = await generalNode(t, 'ap-northeast-1a');
      const host = { [HOSTNAME]: nodeLabel(node, HOSTNAME)! };
      await t.apply(
        pod(t, 'hermit', {
          labels: { app: 'hermit' },
          nodeSelector: host,
          affinity: antiAffinity('visitor', HOSTNAME, 'required'),
        }),
      );
      await t.podsUntil('hermit running', { app: 'hermit' }, (ps) => running(ps).length === 1);
      await t.apply(pod(t, 'visitor', { labels: { app: 'visitor' }, nodeSelector: host }));
      const [p] = await t.podsUntil(
        'visitor Unschedulable',
        { app: 'visitor' },
        (ps) => unschedulable(ps).length === 1,
      );
      expect(scheduledMessage(p!)).toMatch(/didn't satisfy existing pods anti-affinity rules/);
    },
  },
  {
    area: 'Pod affinity and topology spread',
    title: 'topology spread with maxSkew 1 over zones (DoNotSchedule) places 6 replicas 2 per zone',
    docs: `${SPREAD}#spread-constraint-definition`,
    async run(t) {
      await t.apply(
        deployment(t, 'even', 6, { topologySpreadConstraints: zoneSpread('even', 'DoNotSchedule') }),
      );
      const pods = await t.podsUntil('6 replicas running', { app: 'even' }, (ps) => running(ps).length === 6);
      expect([...countBy(await zonesOf(t, pods)).values()]).toEqual([2, 2, 2]);
    },
  },
  {
    area: 'Pod affinity and topology spread',
    title:
      'whenUnsatisfiable DoNotSchedule: a pod that would raise the skew above maxSkew stays Pending ("didn\'t match pod topology spread constraints")',
    docs: `${SPREAD}#example-one-topologyspreadconstraint`,
    async run(t) {
      await cordonZones(t, ['ap-northeast-1c', 'ap-northeast-1d']);
      await t.apply(
        deployment(t, 'strict', 2, {
          nodeSelector: { 'workload-tier': 'general' },
          topologySpreadConstraints: zoneSpread('strict', 'DoNotSchedule'),
        }),
      );
      const pods = await t.podsUntil(
        '1 replica running, 1 Unschedulable',
        { app: 'strict' },
        (ps) => running(ps).length === 1 && unschedulable(ps).length === 1,
      );
      expect(scheduledMessage(unschedulable(pods)[0]!)).toMatch(
        /didn't match pod topology spread constraints/,
      );
    },
  },
  {
    area: 'Pod affinity and topology spread',
    title:
      'whenUnsatisfiable ScheduleAnyway: the pod is scheduled even where it raises the skew above maxSkew',
    docs: `${SPREAD}#spread-constraint-definition`,
    async run(t) {
      await cordonZones(t, ['ap-northeast-1c', 'ap-northeast-1d']);
      await t.apply(
        deployment(t, 'lenient', 2, {
          nodeSelector: { 'workload-tier': 'general' },
          topologySpreadConstraints: zoneSpread('lenient', 'ScheduleAnyway'),
        }),
      );
      const pods = await t.podsUntil(
        '2 replicas running',
        { app: 'lenient' },
        (ps) => running(ps).length === 2,
      );
      expect(await zonesOf(t, pods)).toEqual(['ap-northeast-1a', 'ap-northeast-1a']);
    },
  },
  {
    area: 'Pod affinity and topology spread',
    title:
      'minDomains: with fewer eligible zones than minDomains the global minimum is 0, so no zone takes a second pod',
    docs: `${SPREAD}#spread-constraint-definition`,
    async run(t) {
      await t.apply(
        deployment(t, 'min-domains', 3, {
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
          topologySpreadConstraints: zoneSpread('min-domains', 'DoNotSchedule', { minDomains: 3 }),
        }),
      );
      const pods = await t.podsUntil(
        '2 replicas running, 1 Unschedulable',
        { app: 'min-domains' },
        (ps) => running(ps).length === 2 && unschedulable(ps).length === 1,
      );
      expect((await zonesOf(t, running(pods))).sort()).toEqual(['ap-northeast-1a', 'ap-northeast-1c']);
    },
  },
  {
    area: 'Pod affinity and topology spread',
    title:
      "nodeAffinityPolicy Honor (default): zones the pod's node affinity excludes do not count as domains for the skew",
    docs: `${SPREAD}#spread-constraint-definition`,
    async run(t) {
      await t.apply(
        deployment(t, 'honor', 4, {
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
          topologySpreadConstraints: zoneSpread('honor', 'DoNotSchedule'),
        }),
      );
      const pods = await t.podsUntil(
        '4 replicas running',
        { app: 'honor' },
        (ps) => running(ps).length === 4,
      );
      expect([...countBy(await zonesOf(t, pods)).values()]).toEqual([2, 2]);
    },
  },
];
