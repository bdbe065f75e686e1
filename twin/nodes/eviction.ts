import type { DrainReport } from '../../kube/drain.ts';
import { matchesSelector } from '../../kube/labels.ts';
import { controllerOf, type KubeObject, type ObjectRef, refOf } from '../../kube/object.ts';
import type { ControllerContext } from '../controllers/controller.ts';
import { isPodReady } from '../controllers/pod-state.ts';

export interface EvictionResult {
  /** The HTTP status the eviction subresource answers: 200 evicted, 404, 429 blocked by a PDB, 500 misconfigured. */
  code: 200 | 404 | 429 | 500;
  reason: 'Evicted' | 'NotFound' | 'TooManyRequests' | 'InternalError';
  message: string;
}

const PDB_TYPE = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' };

/**
 * POST pods/<name>/eviction (policy/v1 Eviction), as the API server answers it:
 * - Pending, Succeeded and Failed pods, and pods no PodDisruptionBudget selects, are deleted (200);
 * - more than one PDB selecting the pod is a misconfiguration (500);
 * - a pod that is not Ready is deleted when its PDB's unhealthyPodEvictionPolicy is AlwaysAllow, or
 *   (IfHealthyBudget, the default) when the budget is met (currentHealthy ≥ desiredHealthy > 0);
 * - otherwise the PDB must have observed its latest generation and allow a disruption: then
 *   disruptionsAllowed is decremented, the pod recorded in disruptedPods, and the pod deleted (200);
 *   if not, 429 Too Many Requests, and the caller retries later.
 */
export function evictPod(
  ctx: Pick<ControllerContext, 'store' | 'clock' | 'events'>,
  ref: ObjectRef,
): EvictionResult {
  const { store, clock } = ctx;
  const pod = store.get({ ...ref, kind: 'Pod' });
  const name = `${ref.namespace}/${ref.name}`;
  if (!pod) return { code: 404, reason: 'NotFound', message: `pods "${ref.name}" not found` };
  const evicted = (why: string): EvictionResult => {
    ctx.events.record(pod, 'Normal', 'Evicted', `Evicted pod ${name}: ${why}`, 'eviction-api');
    store.delete(refOf(pod));
    return { code: 200, reason: 'Evicted', message: `pod ${name} evicted (${why})` };
  };
  const phase = pod.status?.phase ?? 'Pending';
  if (phase === 'Pending' || phase === 'Succeeded' || phase === 'Failed')
    return evicted(`phase ${phase} needs no disruption budget`);
  const pdbs = store
    .list(PDB_TYPE, { namespace: pod.metadata.namespace ?? '' })
    .filter((p) => p.spec?.selector && matchesSelector(p.spec.selector, pod.metadata.labels ?? {}));
  if (pdbs.length === 0) return evicted('no PodDisruptionBudget selects it');
  if (pdbs.length > 1)
    return {
      code: 500,
      reason: 'InternalError',
      message:
        'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    };
  const pdb = pdbs[0]!;
  const st = pdb.status ?? {};
  if (!isPodReady(pod)) {
    const policy = pdb.spec?.unhealthyPodEvictionPolicy ?? 'IfHealthyBudget';
    if (policy === 'AlwaysAllow') return evicted('not Ready, and the PDB allows evicting unhealthy pods');
    if ((st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0)
      return evicted('not Ready, and the PDB has its healthy budget');
  }
  const blocked = (cause: string): EvictionResult => ({
    code: 429,
    reason: 'TooManyRequests',
    message: `Cannot evict pod as it would violate the pod's disruption budget. ${cause}`,
  });
  if ((st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1))
    return blocked('The disruption budget has not observed its latest generation.');
  const allowed: number = st.disruptionsAllowed ?? 0;
  if (allowed <= 0)
    return blocked(
      `The disruption budget ${pdb.metadata.name} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`,
    );
  const iso = new Date(clock.now()).toISOString();
  store.patch(refOf(pdb), (p) => {
    p.status = {
      ...(p.status ?? {}),
      disruptionsAllowed: allowed - 1,
      disruptedPods: { ...(p.status?.disruptedPods ?? {}), [pod.metadata.name]: iso },
    };
  });
  return evicted(`PodDisruptionBudget ${pdb.metadata.name} allowed it`);
}

export interface DrainOptions {
  /** Give up after this much control-plane time (kubectl drain --timeout); default: no limit. */
  timeoutSeconds?: number;
  /** Seconds between retries of a 429 (kubectl drain waits 5 s). */
  retrySeconds?: number;
  signal?: AbortSignal;
}

/** kubectl cordon: marks the node unschedulable. */
export function cordon(
  ctx: Pick<ControllerContext, 'store'>,
  nodeName: string,
  unschedulable = true,
): KubeObject {
  const node = ctx.store.patch({ kind: 'Node', name: nodeName }, (n) => {
    n.spec = n.spec ?? {};
    if (unschedulable) n.spec.unschedulable = true;
    else delete n.spec.unschedulable;
  });
  if (!node) throw new Error(`node ${nodeName} not found`);
  return node;
}

/**
 * kubectl drain --ignore-daemonsets: cordons the node, then evicts each of its pods through the
 * eviction API, retrying those a PodDisruptionBudget refuses (429) until they go or the timeout ends.
 */
export async function drain(
  ctx: Pick<ControllerContext, 'store' | 'clock' | 'events'>,
  nodeName: string,
  options: DrainOptions = {},
): Promise<DrainReport> {
  const { store, clock } = ctx;
  const t0 = clock.now();
  cordon(ctx, nodeName);
  const onNode = store.list({ kind: 'Pod' }).filter((p) => p.spec?.nodeName === nodeName);
  const ignored = onNode.filter((p) => controllerOf(p)?.kind === 'DaemonSet');
  let todo = onNode.filter((p) => controllerOf(p)?.kind !== 'DaemonSet');
  const evicted: string[] = [];
  let refused = 0;
  const deadline = options.timeoutSeconds === undefined ? Infinity : t0 + options.timeoutSeconds * 1000;
  for (;;) {
    const next: KubeObject[] = [];
    for (const pod of todo) {
      const r = evictPod(ctx, refOf(pod));
      if (r.code === 200 || r.code === 404) evicted.push(`${pod.metadata.namespace}/${pod.metadata.name}`);
      else {
        if (r.code === 429) refused++;
        next.push(pod);
      }
    }
    todo = next;
    if (todo.length === 0 || clock.now() >= deadline) break;
    await clock.sleep(
      Math.min((options.retrySeconds ?? 5) * 1000, Math.max(0, deadline - clock.now())),
      options.signal,
    );
  }
  return {
    node: nodeName,
    evicted,
    ignored: ignored.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
    refused,
    remaining: todo.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
    durationMs: clock.now() - t0,
  };
}
