import { type CycleState, defaultNormalizeScore, type Plugin, unresolvable } from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import {
  matchesNodeSelectorTerm,
  type NodeSelectorTerm,
  podMatchesNodeSelectorAndAffinity,
} from './node-selector.ts';

interface PreferredSchedulingTerm {
  weight: number;
  preference: NodeSelectorTerm;
}

/** NodeAffinity: spec.nodeSelector and required node affinity filter; preferred terms add their weights. */
export function nodeAffinity(state: CycleState): Plugin {
  const pod = state.pod;
  const preferred: PreferredSchedulingTerm[] =
    pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  return {
    name: 'NodeAffinity',
    weight: 2,
    filter(node: NodeInfo) {
      if (podMatchesNodeSelectorAndAffinity(pod, node.node)) return undefined;
      return unresolvable("node(s) didn't match Pod's node affinity/selector");
    },
    score(feasible: NodeInfo[]) {
      const raw = feasible.map((n) =>
        preferred.reduce(
          (sum, t) => sum + (t.weight && matchesNodeSelectorTerm(t.preference, n.node) ? t.weight : 0),
          0,
        ),
      );
      return defaultNormalizeScore(raw, false);
    },
  };
}
