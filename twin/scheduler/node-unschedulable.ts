import { type CycleState, type Plugin, unresolvable } from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import { toleratesTaint, tolerations } from './taint-toleration.ts';

const UNSCHEDULABLE_TAINT = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/** NodeUnschedulable: a cordoned node (spec.unschedulable) takes only pods that tolerate its unschedulable taint. */
export function nodeUnschedulable(state: CycleState): Plugin {
  const tolerated = tolerations(state.pod).some((t) => toleratesTaint(t, UNSCHEDULABLE_TAINT));
  return {
    name: 'NodeUnschedulable',
    filter(node: NodeInfo) {
      if (!node.node.spec?.unschedulable || tolerated) return undefined;
      return unresolvable('node(s) were unschedulable');
    },
  };
}
