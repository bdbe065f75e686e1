import { type CycleState, MAX_NODE_SCORE, type Plugin } from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import { podRequests } from './resource-requests.ts';

/** NodeResourcesBalancedAllocation: favours nodes whose cpu and memory would be used in equal fractions. */
export function nodeResourcesBalancedAllocation(state: CycleState): Plugin {
  const request = podRequests(state.pod, true);
  return {
    name: 'NodeResourcesBalancedAllocation',
    weight: 1,
    score(feasible: NodeInfo[]) {
      return feasible.map((n) => {
        const fractions = ['cpu', 'memory'].map((name) => {
          const allocatable = n.allocatable[name] ?? 0;
          if (allocatable === 0) return 1;
          return Math.min(1, ((n.nonZeroRequested[name] ?? 0) + (request[name] ?? 0)) / allocatable);
        });
        const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
        const std = Math.sqrt(fractions.reduce((a, f) => a + (f - mean) ** 2, 0) / fractions.length);
        return Math.trunc((1 - std) * MAX_NODE_SCORE);
      });
    },
  };
}
