import type { KubeObject } from '../../kube/object.ts';

/** A pod that ended: the RS/Job/StatefulSet controllers treat it as gone. */
export function isPodTerminal(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

export function isPodTerminating(pod: KubeObject): boolean {
  return pod.metadata.deletionTimestamp !== undefined;
}

/** controller.IsPodActive: not ended and not being deleted. */
export function isPodActive(pod: KubeObject): boolean {
  return !isPodTerminal(pod) && !isPodTerminating(pod);
}

function readyCondition(pod: KubeObject): { status?: string; lastTransitionTime?: string } | undefined {
  return (
    pod.status?.conditions as
      | Array<{ type: string; status?: string; lastTransitionTime?: string }>
      | undefined
  )?.find((c) => c.type === 'Ready');
}

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: KubeObject): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** When the pod last became Ready (epoch ms), or undefined when it is not ready. */
export function podReadySince(pod: KubeObject): number | undefined {
  const c = readyCondition(pod);
  if (c?.status !== 'True') return undefined;
  const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** podutil.IsPodAvailable: ready for at least minReadySeconds at `now`. */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  const since = podReadySince(pod);
  if (since === undefined) return false;
  return minReadySeconds <= 0 || since + minReadySeconds * 1000 <= now;
}

/** Milliseconds until the first ready-but-not-yet-available pod becomes available (for requeueAfter). */
export function nextAvailableIn(
  pods: KubeObject[],
  minReadySeconds: number,
  now: number,
): number | undefined {
  if (minReadySeconds <= 0) return undefined;
  let next: number | undefined;
  for (const pod of pods) {
    const since = podReadySince(pod);
    if (since === undefined) continue;
    const wait = since + minReadySeconds * 1000 - now;
    if (wait > 0 && (next === undefined || wait < next)) next = wait;
  }
  return next === undefined ? undefined : next + 1;
}

export function isPodRunningAndReady(pod: KubeObject): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod);
}
