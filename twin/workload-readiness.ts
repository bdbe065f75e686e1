import { TwinError } from '../core/errors.ts';
import { describeObject, type KubeObject } from '../kube/object.ts';
import type { ObjectStore } from './store/object-store.ts';

/** Why a workload is not ready yet, or undefined when it is (the `kubectl rollout status` rules). */
export function workloadNotReady(obj: KubeObject): string | undefined {
  const s = obj.status ?? {};
  const want = obj.spec?.replicas ?? 1;
  switch (obj.kind) {
    case 'Deployment':
    case 'StatefulSet':
      if ((s.readyReplicas ?? 0) < want) return `${s.readyReplicas ?? 0}/${want} ready`;
      if (obj.kind === 'Deployment' && (s.updatedReplicas ?? 0) < want)
        return `${s.updatedReplicas ?? 0}/${want} updated`;
      return undefined;
    case 'DaemonSet':
      if (s.desiredNumberScheduled === undefined) return 'not observed yet';
      return (s.numberReady ?? 0) < s.desiredNumberScheduled
        ? `${s.numberReady ?? 0}/${s.desiredNumberScheduled} ready`
        : undefined;
    case 'Rollout':
      if ((s.readyReplicas ?? 0) < want) return `${s.readyReplicas ?? 0}/${want} ready`;
      return s.phase === 'Healthy' ? undefined : `phase ${s.phase ?? 'unknown'}`;
    default:
      return undefined;
  }
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'];

/** Waits until every Deployment, StatefulSet, DaemonSet and Rollout is ready; names the laggards on timeout. */
export async function waitForWorkloadsReady(
  store: ObjectStore,
  options: { timeoutMs: number; progress?: (m: string) => void; signal?: AbortSignal },
): Promise<void> {
  const deadline = performance.now() + options.timeoutMs;
  let lastReport = performance.now();
  for (;;) {
    const pending: string[] = [];
    for (const kind of WORKLOAD_KINDS) {
      for (const obj of store.list({ kind })) {
        const why = workloadNotReady(obj);
        if (why) pending.push(`${describeObject(obj)} (${why})`);
      }
    }
    if (pending.length === 0) return;
    if (options.signal?.aborted)
      throw new TwinError('TWIN_ABORTED', 'aborted while waiting for workloads to become ready');
    if (performance.now() > deadline) {
      const pendingPods = store
        .list({ kind: 'Pod' })
        .filter((p) => p.status?.phase === 'Pending')
        .map(
          (p) =>
            `${describeObject(p)}: ${(p.status?.conditions ?? []).find((c: any) => c.status === 'False')?.message ?? 'Pending'}`,
        );
      throw new TwinError(
        'TWIN_TIMEOUT',
        `workloads not ready after ${(options.timeoutMs / 1000).toFixed(0)} s: ${pending.slice(0, 8).join(', ')}${pendingPods.length ? `; pending pods: ${pendingPods.slice(0, 5).join('; ')}` : ''}`,
      );
    }
    if (performance.now() - lastReport > 2000) {
      options.progress?.(
        `waiting for ${pending.length} workloads: ${pending.slice(0, 3).join(', ')}${pending.length > 3 ? ', …' : ''}`,
      );
      lastReport = performance.now();
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
