import { waitUntil } from '../core/wait.ts';
import { describeObject, type KubeObject, typeKey } from '../kube/object.ts';
import type { ObjectStore } from './store/object-store.ts';

/** Why a workload is not ready yet, or undefined when it is (the `kubectl rollout status` rules). */
export function workloadNotReady(obj: KubeObject): string | undefined {
  const s = obj.status ?? {};
  const want = obj.spec?.replicas ?? 1;
  switch (typeKey(obj)) {
    case 'apps/Deployment':
    case 'apps/StatefulSet':
      if ((s.readyReplicas ?? 0) < want) return `${s.readyReplicas ?? 0}/${want} ready`;
      if (obj.kind === 'Deployment' && (s.updatedReplicas ?? 0) < want)
        return `${s.updatedReplicas ?? 0}/${want} updated`;
      return undefined;
    case 'apps/DaemonSet':
      if (s.desiredNumberScheduled === undefined) return 'not observed yet';
      return (s.numberReady ?? 0) < s.desiredNumberScheduled
        ? `${s.numberReady ?? 0}/${s.desiredNumberScheduled} ready`
        : undefined;
    case 'argoproj.io/Rollout':
      if ((s.readyReplicas ?? 0) < want) return `${s.readyReplicas ?? 0}/${want} ready`;
      return s.phase === 'Healthy' ? undefined : `phase ${s.phase ?? 'unknown'}`;
    // CloudNativePG: `kubectl wait --for=condition=Ready cluster/<name>` (the Ready condition follows the phase).
    case 'postgresql.cnpg.io/Cluster':
      return conditionNotTrue(obj, 'Ready', s.phase);
    // CloudNativePG Pooler: status.instances counts the PgBouncer pods available.
    case 'postgresql.cnpg.io/Pooler': {
      const wantInstances = obj.spec?.instances ?? 1;
      return (s.instances ?? 0) < wantInstances
        ? `${s.instances ?? 0}/${wantInstances} instances`
        : undefined;
    }
    // OT redis-operator v1beta2: status.state Ready once the cluster is created and healthy.
    case 'redis.redis.opstreelabs.in/RedisCluster':
      return s.state === 'Ready'
        ? undefined
        : `state ${s.state ?? 'unknown'}${s.reason ? ` (${s.reason})` : ''}`;
    default:
      return undefined;
  }
}

function conditionNotTrue(obj: KubeObject, type: string, detail?: string): string | undefined {
  const c = (obj.status?.conditions ?? []).find((x: { type?: string }) => x.type === type);
  if (c?.status === 'True') return undefined;
  return `condition ${type} ${c?.status ?? 'not set'}${detail ? ` (${detail})` : c?.message ? ` (${c.message})` : ''}`;
}

/** The kinds whose readiness `twin up` waits for: the workloads and the custom resources the twin reconciles. */
export const READINESS_KINDS: ReadonlyArray<{ apiVersion?: string; kind: string }> = [
  { kind: 'Deployment' },
  { kind: 'StatefulSet' },
  { kind: 'DaemonSet' },
  { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' },
  { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster' },
  { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Pooler' },
  { apiVersion: 'redis.redis.opstreelabs.in/v1beta2', kind: 'RedisCluster' },
];

/** Every object of READINESS_KINDS that is not ready, with why ("Cluster data/pg (condition Ready False …)"). */
export function notReady(store: ObjectStore): string[] {
  const pending: string[] = [];
  const seen = new Set<string>();
  for (const type of READINESS_KINDS) {
    for (const obj of store.list(type)) {
      const key = `${typeKey(obj)}:${obj.metadata.namespace}/${obj.metadata.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const why = workloadNotReady(obj);
      if (why) pending.push(`${describeObject(obj)} (${why})`);
    }
  }
  return pending;
}

/**
 * Waits until every workload and reconciled custom resource is ready (Deployments, StatefulSets,
 * DaemonSets, Rollouts, CloudNativePG Clusters and Poolers, RedisClusters); progress and the timeout
 * name the ones still waited for.
 */
export async function waitForWorkloadsReady(
  store: ObjectStore,
  options: { timeoutMs: number; progress?: (m: string) => void; signal?: AbortSignal },
): Promise<void> {
  let statusAt = Number.NEGATIVE_INFINITY;
  await waitUntil(
    (progress) => {
      const pending = notReady(store);
      if (pending.length === 0) return true;
      // The status (and its list of pods) only when a progress line or a timeout may show it.
      if (progress.elapsed() - statusAt < 1000 && progress.remaining() > 100) return false;
      statusAt = progress.elapsed();
      const pendingPods = store
        .listShared('/Pod')
        .filter((p) => p.status?.phase === 'Pending')
        .map(
          (p) =>
            `${describeObject(p)}: ${(p.status?.conditions ?? []).find((c: any) => c.status === 'False')?.message ?? 'Pending'}`,
        );
      progress.status(
        `${pending.length} not ready: ${pending.slice(0, 4).join(', ')}${pending.length > 4 ? ', …' : ''}${pendingPods.length ? `; pending pods: ${pendingPods.slice(0, 3).join('; ')}` : ''}`,
      );
      return false;
    },
    {
      what: 'every workload to become ready',
      timeout: options.timeoutMs,
      interval: 20,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.progress ? { log: options.progress } : {}),
    },
  );
}
