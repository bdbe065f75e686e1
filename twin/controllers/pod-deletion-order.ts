import type { KubeObject } from '../../kube/object.ts';
import { creationTime } from './ownership.ts';
import { isPodReady, podReadySince } from './pod-state.ts';

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function restarts(pod: KubeObject): number {
  return ((pod.status?.containerStatuses ?? []) as Array<{ restartCount?: number }>).reduce(
    (n, c) => n + (c.restartCount ?? 0),
    0,
  );
}

function deletionCost(pod: KubeObject): number {
  const v = Number(pod.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? 0);
  return Number.isFinite(v) ? v : 0;
}

/**
 * controller.ActivePods ordering, the pods to delete first when scaling down: unscheduled before
 * scheduled, Pending before Unknown before Running, not ready before ready, lower
 * pod-deletion-cost first, ready for less time before longer, more restarts before fewer, newer
 * before older.
 * Twin simplification: the rank by co-located pods of the same controller is left out.
 */
export function comparePodsForDeletion(a: KubeObject, b: KubeObject): number {
  const scheduled = (p: KubeObject) => (p.spec?.nodeName ? 1 : 0);
  if (scheduled(a) !== scheduled(b)) return scheduled(a) - scheduled(b);
  const phase = (p: KubeObject) => PHASE_RANK[p.status?.phase ?? 'Pending'] ?? 0;
  if (phase(a) !== phase(b)) return phase(a) - phase(b);
  const ready = (p: KubeObject) => (isPodReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  if (deletionCost(a) !== deletionCost(b)) return deletionCost(a) - deletionCost(b);
  if (ready(a) && ready(b)) {
    const sa = podReadySince(a) ?? 0;
    const sb = podReadySince(b) ?? 0;
    if (sa !== sb) return sb - sa;
  }
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  return creationTime(b) - creationTime(a);
}

export function podsToDelete(pods: KubeObject[], count: number): KubeObject[] {
  return [...pods].sort(comparePodsForDeletion).slice(0, Math.max(0, count));
}
