import { type CycleState, MAX_NODE_SCORE, type Plugin, unschedulable } from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import { podRequests, type Resources } from './resource-requests.ts';

/** Resources LeastAllocated scores, with their weights (the default profile's). */
const SCORED_RESOURCES: Array<[string, number]> = [
  ['cpu', 1],
  ['memory', 1],
];

/** The reasons a node cannot hold a pod's requests, in kube-scheduler's order; empty when it fits. */
export function insufficientResources(request: Resources, node: NodeInfo): string[] {
  const reasons: string[] = [];
  if (node.pods.length + 1 > (node.allocatable['pods'] ?? 0)) reasons.push('Too many pods');
  const free = (name: string) => (node.allocatable[name] ?? 0) - (node.requested[name] ?? 0);
  for (const name of ['cpu', 'memory', 'ephemeral-storage']) {
    const want = request[name] ?? 0;
    if (want > 0 && want > free(name)) reasons.push(`Insufficient ${name}`);
  }
  for (const [name, want] of Object.entries(request).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (name === 'cpu' || name === 'memory' || name === 'ephemeral-storage' || name === 'pods') continue;
    if (want > 0 && want > free(name)) reasons.push(`Insufficient ${name}`);
  }
  return reasons;
}

/** NodeResourcesFit: the pod's requests must fit the node's free allocatable; scored LeastAllocated. */
export function nodeResourcesFit(state: CycleState): Plugin {
  const request = podRequests(state.pod);
  const nonZero = podRequests(state.pod, true);
  return {
    name: 'NodeResourcesFit',
    weight: 1,
    filter(node: NodeInfo) {
      const reasons = insufficientResources(request, node);
      return reasons.length > 0 ? unschedulable(...reasons) : undefined;
    },
    score(feasible: NodeInfo[]) {
      return feasible.map((n) => leastAllocated(n, nonZero));
    },
  };
}

function leastAllocated(node: NodeInfo, request: Resources): number {
  let score = 0;
  let weights = 0;
  for (const [name, weight] of SCORED_RESOURCES) {
    const allocatable = node.allocatable[name] ?? 0;
    const requested = (node.nonZeroRequested[name] ?? 0) + (request[name] ?? 0);
    weights += weight;
    if (allocatable === 0 || requested > allocatable) continue;
    score += Math.trunc(((allocatable - requested) * MAX_NODE_SCORE) / allocatable) * weight;
  }
  return weights === 0 ? 0 : Math.trunc(score / weights);
}
