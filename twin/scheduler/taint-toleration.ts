import type { KubeObject } from '../../kube/object.ts';
import { type CycleState, defaultNormalizeScore, type Plugin, unresolvable } from './framework.ts';
import type { NodeInfo } from './node-info.ts';

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | string;
}

export interface Toleration {
  key?: string;
  operator?: 'Equal' | 'Exists' | string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** v1.Toleration.ToleratesTaint: an empty effect matches every effect; an empty key with Exists matches every key. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return Boolean(t.key) && (t.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

export function tolerations(pod: KubeObject): Toleration[] {
  return pod.spec?.tolerations ?? [];
}

export function taints(node: KubeObject): Taint[] {
  return node.spec?.taints ?? [];
}

/** The first NoSchedule or NoExecute taint of the node that the pod does not tolerate. */
export function untoleratedTaint(pod: KubeObject, node: KubeObject): Taint | undefined {
  const tols = tolerations(pod);
  return taints(node).find(
    (taint) =>
      (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') &&
      !tols.some((t) => toleratesTaint(t, taint)),
  );
}

/** TaintToleration: untolerated NoSchedule/NoExecute taints filter; untolerated PreferNoSchedule taints lower the score. */
export function taintToleration(state: CycleState): Plugin {
  const pod = state.pod;
  const preferTolerations = tolerations(pod).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
  return {
    name: 'TaintToleration',
    weight: 3,
    filter(node: NodeInfo) {
      const taint = untoleratedTaint(pod, node.node);
      if (!taint) return undefined;
      return unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
    },
    score(feasible: NodeInfo[]) {
      const raw = feasible.map(
        (n) =>
          taints(n.node).filter(
            (taint) =>
              taint.effect === 'PreferNoSchedule' && !preferTolerations.some((t) => toleratesTaint(t, taint)),
          ).length,
      );
      return defaultNormalizeScore(raw, true);
    },
  };
}
