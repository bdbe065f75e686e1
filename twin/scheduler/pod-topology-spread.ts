import { type LabelSelector, matchesSelector } from '../../kube/labels.ts';
import { controllerOf, type KubeObject } from '../../kube/object.ts';
import { type CycleState, MAX_NODE_SCORE, type Plugin, unresolvable, unschedulable } from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import { podMatchesNodeSelectorAndAffinity } from './node-selector.ts';
import { untoleratedTaint } from './taint-toleration.ts';

const HOSTNAME = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway' | string;
  labelSelector?: LabelSelector;
  minDomains?: number;
  nodeAffinityPolicy?: 'Honor' | 'Ignore';
  nodeTaintsPolicy?: 'Honor' | 'Ignore';
  matchLabelKeys?: string[];
}

/** The scheduler's default constraints (PodTopologySpread defaultingType System), for pods that state none. */
export const SYSTEM_DEFAULT_CONSTRAINTS: ReadonlyArray<
  Pick<TopologySpreadConstraint, 'maxSkew' | 'topologyKey' | 'whenUnsatisfiable'>
> = [
  { topologyKey: HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: ZONE, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
];

interface Constraint {
  maxSkew: number;
  topologyKey: string;
  minDomains: number;
  honorAffinity: boolean;
  honorTaints: boolean;
  selects(pod: KubeObject): boolean;
  /** Set when the constraint selects the pods of one controller: the node's count by controller answers it. */
  controllerUid?: string;
}

function fromSpec(pod: KubeObject, c: TopologySpreadConstraint): Constraint {
  const labels: Record<string, string> = pod.metadata.labels ?? {};
  let selector = c.labelSelector;
  const keys = (c.matchLabelKeys ?? []).filter((k) => Object.hasOwn(labels, k));
  if (selector && keys.length > 0) {
    selector = {
      ...selector,
      matchExpressions: [
        ...(selector.matchExpressions ?? []),
        ...keys.map((k) => ({ key: k, operator: 'In', values: [labels[k]!] })),
      ],
    };
  }
  return {
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    minDomains: c.minDomains ?? 1,
    honorAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
    honorTaints: (c.nodeTaintsPolicy ?? 'Ignore') === 'Honor',
    selects: (p) => matchesSelector(selector, p.metadata.labels ?? {}),
  };
}

/**
 * Twin simplification: the default constraints select the pods of the same controller (ReplicaSet,
 * StatefulSet, …); kube-scheduler builds the selector from the Services, ReplicaSets and StatefulSets that select the pod.
 */
function systemDefaults(pod: KubeObject): Constraint[] {
  const owner = controllerOf(pod);
  if (!owner?.uid) return [];
  return SYSTEM_DEFAULT_CONSTRAINTS.map((c) => ({
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    minDomains: 1,
    honorAffinity: true,
    honorTaints: false,
    selects: (p: KubeObject) => controllerOf(p)?.uid === owner.uid,
    controllerUid: owner.uid,
  }));
}

function countMatching(node: NodeInfo, c: Constraint, namespace: string | undefined): number {
  // A controller's pods are in its namespace (owner references never cross namespaces).
  if (c.controllerUid !== undefined) return node.byController.get(c.controllerUid) ?? 0;
  let n = 0;
  for (const p of node.pods) {
    if (p.metadata.namespace === namespace && !p.metadata.deletionTimestamp && c.selects(p)) n++;
  }
  return n;
}

function hasAllKeys(node: NodeInfo, constraints: Constraint[]): boolean {
  return constraints.every((c) => Object.hasOwn(node.labels, c.topologyKey));
}

function passesPolicies(pod: KubeObject, node: NodeInfo, c: Constraint): boolean {
  if (c.honorAffinity && !podMatchesNodeSelectorAndAffinity(pod, node.node)) return false;
  if (c.honorTaints && untoleratedTaint(pod, node.node)) return false;
  return true;
}

/** PodTopologySpread: DoNotSchedule constraints filter by skew; ScheduleAnyway (or the system defaults) score. */
export function podTopologySpread(state: CycleState): Plugin {
  const pod = state.pod;
  const specs: TopologySpreadConstraint[] = pod.spec?.topologySpreadConstraints ?? [];
  const hard = specs.filter((c) => c.whenUnsatisfiable === 'DoNotSchedule').map((c) => fromSpec(pod, c));
  const soft =
    specs.length === 0
      ? systemDefaults(pod)
      : specs.filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway').map((c) => fromSpec(pod, c));
  const ns = pod.metadata.namespace;

  // PreFilter: matching pods per domain over the nodes each constraint counts, and the global minimum.
  const counts = hard.map(() => new Map<string, number>());
  for (const node of state.nodes) {
    if (!hasAllKeys(node, hard)) continue;
    hard.forEach((c, i) => {
      if (!passesPolicies(pod, node, c)) return;
      const value = node.labels[c.topologyKey]!;
      counts[i]!.set(value, (counts[i]!.get(value) ?? 0) + countMatching(node, c, ns));
    });
  }
  const minimums = hard.map((c, i) => {
    const domains = counts[i]!;
    if (domains.size < c.minDomains) return 0;
    return domains.size === 0 ? Number.POSITIVE_INFINITY : Math.min(...domains.values());
  });

  return {
    name: 'PodTopologySpread',
    weight: 2,
    filter(node: NodeInfo) {
      for (const [i, c] of hard.entries()) {
        const value = node.labels[c.topologyKey];
        if (value === undefined) {
          return unresolvable(
            "node(s) didn't match pod topology spread constraints (missing required label)",
          );
        }
        const self = c.selects(pod) ? 1 : 0;
        const skew = (counts[i]!.get(value) ?? 0) + self - minimums[i]!;
        if (skew > c.maxSkew) return unschedulable("node(s) didn't match pod topology spread constraints");
      }
      return undefined;
    },
    score(feasible: NodeInfo[]) {
      if (soft.length === 0) return feasible.map(() => 0);
      const ignored = new Set(feasible.filter((n) => !hasAllKeys(n, soft)).map((n) => n.name));
      const scored = feasible.filter((n) => !ignored.has(n.name));
      // Domains of the feasible nodes; each constraint's weight grows with the log of its number of domains.
      const domains = soft.map((c) => new Set(scored.map((n) => n.labels[c.topologyKey]!)));
      const weights = soft.map((c, i) =>
        Math.log((c.topologyKey === HOSTNAME ? scored.length : domains[i]!.size) + 2),
      );
      const domainCounts = soft.map(() => new Map<string, number>());
      for (const node of state.nodes) {
        soft.forEach((c, i) => {
          if (c.topologyKey === HOSTNAME) return;
          if (!hasAllKeys(node, soft) || !passesPolicies(pod, node, c)) return;
          const value = node.labels[c.topologyKey]!;
          if (!domains[i]!.has(value)) return;
          domainCounts[i]!.set(value, (domainCounts[i]!.get(value) ?? 0) + countMatching(node, c, ns));
        });
      }
      const raw = feasible.map((n) => {
        if (ignored.has(n.name)) return 0;
        let s = 0;
        soft.forEach((c, i) => {
          const cnt =
            c.topologyKey === HOSTNAME
              ? countMatching(n, c, ns)
              : (domainCounts[i]!.get(n.labels[c.topologyKey]!) ?? 0);
          s += cnt * weights[i]! + (c.maxSkew - 1);
        });
        return Math.round(s);
      });
      let min = Number.POSITIVE_INFINITY;
      let max = 0;
      feasible.forEach((n, i) => {
        if (ignored.has(n.name)) return;
        min = Math.min(min, raw[i]!);
        max = Math.max(max, raw[i]!);
      });
      return feasible.map((n, i) => {
        if (ignored.has(n.name)) return 0;
        if (max === 0) return MAX_NODE_SCORE;
        return Math.trunc((MAX_NODE_SCORE * (max + min - raw[i]!)) / max);
      });
    },
  };
}
