import { type CycleState, type Plugin, unresolvable } from './framework.ts';
import type { NodeInfo } from './node-info.ts';

/** NodeName: a pod that names its node (spec.nodeName) fits only that node. */
export function nodeName(state: CycleState): Plugin {
  const wanted: string | undefined = state.pod.spec?.nodeName;
  return {
    name: 'NodeName',
    filter(node: NodeInfo) {
      if (!wanted || wanted === node.name) return undefined;
      return unresolvable("node(s) didn't match the requested node name");
    },
  };
}
