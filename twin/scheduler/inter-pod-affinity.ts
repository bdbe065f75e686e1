import { type LabelSelector, matchesSelector } from '../../kube/labels.ts';
import type { KubeObject } from '../../kube/object.ts';
import { type CycleState, MAX_NODE_SCORE, type Plugin, unresolvable, unschedulable } from './framework.ts';
import type { NodeInfo } from './node-info.ts';

export interface PodAffinityTerm {
  labelSelector?: LabelSelector;
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
  topologyKey: string;
}

interface WeightedPodAffinityTerm {
  weight: number;
  podAffinityTerm: PodAffinityTerm;
}

/** Weight of an existing pod's required affinity towards the incoming pod (hardPodAffinityWeight default). */
const HARD_POD_AFFINITY_WEIGHT = 1;

type NamespaceLabels = CycleState['namespaceLabels'];

/**
 * Whether a term of `owner` (a pod in namespace owner.metadata.namespace) selects `pod`: namespaces and
 * namespaceSelector are ORed, both empty meaning the owner's own namespace; the labelSelector must match.
 */
export function termMatches(
  term: PodAffinityTerm,
  owner: KubeObject,
  pod: KubeObject,
  namespaceLabels: NamespaceLabels,
): boolean {
  const ns = pod.metadata.namespace ?? 'default';
  const namespaces = term.namespaces ?? [];
  let inNamespace: boolean;
  if (namespaces.length === 0 && !term.namespaceSelector)
    inNamespace = ns === (owner.metadata.namespace ?? 'default');
  else
    inNamespace =
      namespaces.includes(ns) ||
      (term.namespaceSelector !== undefined && matchesSelector(term.namespaceSelector, namespaceLabels(ns)));
  return inNamespace && matchesSelector(term.labelSelector, pod.metadata.labels ?? {});
}

function affinity(pod: KubeObject) {
  const a = pod.spec?.affinity ?? {};
  return {
    requiredAffinity: (a.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ??
      []) as PodAffinityTerm[],
    requiredAntiAffinity: (a.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ??
      []) as PodAffinityTerm[],
    preferredAffinity: (a.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ??
      []) as WeightedPodAffinityTerm[],
    preferredAntiAffinity: (a.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ??
      []) as WeightedPodAffinityTerm[],
  };
}

const domainKey = (key: string, value: string) => `${key}=${value}`;

/**
 * InterPodAffinity: the pod's required affinity and anti-affinity, and the required anti-affinity of
 * pods already placed, filter by topology domain; preferred terms (both ways) score.
 */
export function interPodAffinity(state: CycleState): Plugin {
  const pod = state.pod;
  const own = affinity(pod);
  const nsLabels = state.namespaceLabels;
  const existingAnti = new Set<string>();
  const antiDomains = own.requiredAntiAffinity.map(() => new Set<string>());
  const affinityCounts = own.requiredAffinity.map(() => new Map<string, number>());
  const scores = new Map<string, number>();
  const addScore = (key: string, node: NodeInfo, weight: number) => {
    const value = node.labels[key];
    if (value === undefined || weight === 0) return;
    scores.set(domainKey(key, value), (scores.get(domainKey(key, value)) ?? 0) + weight);
  };

  // Without terms of its own, only the placed pods with affinity terms can matter to the pod (as
  // kube-scheduler's PreFilter walks NodeInfo.PodsWithAffinity then).
  const ownTerms =
    own.requiredAffinity.length +
      own.requiredAntiAffinity.length +
      own.preferredAffinity.length +
      own.preferredAntiAffinity.length >
    0;
  for (const node of state.nodes) {
    for (const existing of ownTerms ? node.pods : node.podsWithAffinity) {
      if (existing.metadata.uid !== undefined && existing.metadata.uid === pod.metadata.uid) continue;
      const theirs = affinity(existing);
      for (const term of theirs.requiredAntiAffinity) {
        const value = node.labels[term.topologyKey];
        if (value !== undefined && termMatches(term, existing, pod, nsLabels))
          existingAnti.add(domainKey(term.topologyKey, value));
      }
      own.requiredAntiAffinity.forEach((term, i) => {
        const value = node.labels[term.topologyKey];
        if (value !== undefined && termMatches(term, pod, existing, nsLabels))
          antiDomains[i]!.add(domainKey(term.topologyKey, value));
      });
      own.requiredAffinity.forEach((term, i) => {
        const value = node.labels[term.topologyKey];
        if (value === undefined || !termMatches(term, pod, existing, nsLabels)) return;
        affinityCounts[i]!.set(value, (affinityCounts[i]!.get(value) ?? 0) + 1);
      });
      for (const t of own.preferredAffinity) {
        if (termMatches(t.podAffinityTerm, pod, existing, nsLabels))
          addScore(t.podAffinityTerm.topologyKey, node, t.weight);
      }
      for (const t of own.preferredAntiAffinity) {
        if (termMatches(t.podAffinityTerm, pod, existing, nsLabels))
          addScore(t.podAffinityTerm.topologyKey, node, -t.weight);
      }
      for (const term of theirs.requiredAffinity) {
        if (termMatches(term, existing, pod, nsLabels))
          addScore(term.topologyKey, node, HARD_POD_AFFINITY_WEIGHT);
      }
      for (const t of theirs.preferredAffinity) {
        if (termMatches(t.podAffinityTerm, existing, pod, nsLabels))
          addScore(t.podAffinityTerm.topologyKey, node, t.weight);
      }
      for (const t of theirs.preferredAntiAffinity) {
        if (termMatches(t.podAffinityTerm, existing, pod, nsLabels))
          addScore(t.podAffinityTerm.topologyKey, node, -t.weight);
      }
    }
  }
  const noMatchAnywhere = affinityCounts.every((m) => m.size === 0);
  // A pod whose affinity selects only itself may go anywhere when no other pod matches yet (the first replica).
  const selfAffine = own.requiredAffinity.every((t) => termMatches(t, pod, pod, nsLabels));

  return {
    name: 'InterPodAffinity',
    weight: 2,
    filter(node: NodeInfo) {
      if (
        own.requiredAffinity.length === 0 &&
        own.requiredAntiAffinity.length === 0 &&
        existingAnti.size === 0
      )
        return undefined;
      const hasKeys = own.requiredAffinity.every((term) => node.labels[term.topologyKey] !== undefined);
      const podsExist = own.requiredAffinity.every(
        (term, i) => (affinityCounts[i]!.get(node.labels[term.topologyKey]!) ?? 0) > 0,
      );
      if (!hasKeys || (!podsExist && !(noMatchAnywhere && selfAffine))) {
        return unresolvable("node(s) didn't match pod affinity rules");
      }
      const violatesAnti = own.requiredAntiAffinity.some((term, i) => {
        const value = node.labels[term.topologyKey];
        return value !== undefined && antiDomains[i]!.has(domainKey(term.topologyKey, value));
      });
      if (violatesAnti) return unschedulable("node(s) didn't match pod anti-affinity rules");
      for (const [key, value] of Object.entries(node.labels)) {
        if (existingAnti.has(domainKey(key, value)))
          return unschedulable("node(s) didn't satisfy existing pods anti-affinity rules");
      }
      return undefined;
    },
    score(feasible: NodeInfo[]) {
      if (scores.size === 0) return feasible.map(() => 0);
      const raw = feasible.map((n) =>
        Object.entries(n.labels).reduce((s, [k, v]) => s + (scores.get(domainKey(k, v)) ?? 0), 0),
      );
      const max = Math.max(...raw);
      const min = Math.min(...raw);
      if (max === min) return raw.map(() => 0);
      return raw.map((s) => Math.trunc((MAX_NODE_SCORE * (s - min)) / (max - min)));
    },
  };
}
