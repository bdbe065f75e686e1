import type { Rejection } from './framework.ts';

/** kube-scheduler's message when a cluster has no nodes at all (ErrNoNodesAvailable). */
export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';

/** "3 Insufficient cpu, 6 node(s) had …": reasons counted over nodes and sorted as strings, as FitError does. */
function histogram(reasons: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts]
    .map(([r, n]) => `${n} ${r}`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .join(', ');
}

/**
 * The FailedScheduling message (FitError.Error): the PreFilter plugin's message when one rejected the
 * pod, else every node's filter reasons; then what preemption found.
 *
 * Twin simplification: there is no preemption; nodes that preemption could help report that no victims were found.
 */
export function fitErrorMessage(
  numAllNodes: number,
  rejections: Rejection[],
  preemptionPolicy?: string,
  preFilterMessage?: string,
): string {
  if (numAllNodes === 0) return NO_NODES_AVAILABLE;
  let msg = `0/${numAllNodes} nodes are available: ${preFilterMessage ?? histogram(rejections.flatMap((r) => r.reasons))}.`;
  if (preemptionPolicy === 'Never') return `${msg} preemption: not eligible due to preemptionPolicy=Never.`;
  const preemption = rejections.map((r) =>
    r.code === 'UnschedulableAndUnresolvable'
      ? 'Preemption is not helpful for scheduling'
      : 'No preemption victims found for incoming pod',
  );
  msg += ` preemption: 0/${numAllNodes} nodes are available: ${histogram(preemption)}.`;
  return msg;
}
