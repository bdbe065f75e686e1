import { describeObject, type KubeObject, typeKey } from '../../kube/object.ts';
import type { RenderedObject } from './rendered-object.ts';

/**
 * Kinds the twin acts on (by group-qualified type key, as the store keys them): controllers
 * reconcile them, or live pods and proxies consume them. Anything else is stored, listed and
 * watched like on a real API server, and reported as "stored, not reconciled".
 */
export const RECONCILED_KINDS: ReadonlySet<string> = new Set([
  '/Namespace',
  '/Node',
  '/Pod',
  '/Service',
  '/Endpoints',
  '/ConfigMap',
  '/Secret',
  '/Event',
  '/PersistentVolumeClaim',
  '/PersistentVolume',
  'storage.k8s.io/StorageClass',
  'apps/Deployment',
  'apps/ReplicaSet',
  'apps/StatefulSet',
  'apps/DaemonSet',
  'autoscaling/HorizontalPodAutoscaler',
  'batch/Job',
  'batch/CronJob',
  'policy/PodDisruptionBudget',
  'networking.k8s.io/Ingress',
  'networking.k8s.io/NetworkPolicy',
  'argoproj.io/Rollout',
  'postgresql.cnpg.io/Cluster',
  'postgresql.cnpg.io/Pooler',
  'redis.redis.opstreelabs.in/RedisCluster',
  'argoproj.io/AnalysisTemplate',
  'argoproj.io/ClusterAnalysisTemplate',
  'argoproj.io/AnalysisRun',
  // played by the Service proxy's traffic-policy engine where Istio is installed (twin/traffic-policy/istio)
  'networking.istio.io/VirtualService',
  'networking.istio.io/DestinationRule',
  'networking.istio.io/Gateway',
]);

export interface KindClassification {
  /** Count per reconciled type key. */
  reconciled: Array<{ kind: string; type: string; count: number }>;
  /** Kinds only stored, with the objects ("production/api-netpol"), in first-seen order. */
  storedOnly: Array<{ kind: string; type: string; count: number; objects: string[] }>;
}

/** Sorts objects by whether the twin reconciles their kind; unknown kinds are kept and listed. */
export function classifyKinds(
  objects: Array<KubeObject | RenderedObject>,
  reconciledKinds: ReadonlySet<string> = RECONCILED_KINDS,
): KindClassification {
  const reconciled = new Map<string, { kind: string; type: string; count: number }>();
  const storedOnly = new Map<string, { kind: string; type: string; count: number; objects: string[] }>();
  for (const item of objects) {
    const obj = 'object' in item && 'source' in item ? (item as RenderedObject).object : (item as KubeObject);
    const type = typeKey(obj);
    if (reconciledKinds.has(type)) {
      const entry = reconciled.get(type) ?? { kind: obj.kind, type, count: 0 };
      entry.count++;
      reconciled.set(type, entry);
    } else {
      const entry = storedOnly.get(type) ?? { kind: obj.kind, type, count: 0, objects: [] };
      entry.count++;
      entry.objects.push(describeObject(obj).slice(obj.kind.length + 1));
      storedOnly.set(type, entry);
    }
  }
  return { reconciled: [...reconciled.values()], storedOnly: [...storedOnly.values()] };
}

/** "stored, not reconciled: Role ×4 (production/a, production/b, production/c, …), …", or '' */
export function describeStoredOnly(classification: KindClassification, maxNames = 3): string {
  if (classification.storedOnly.length === 0) return '';
  const parts = classification.storedOnly.map(({ kind, count, objects }) => {
    const shown = objects.slice(0, maxNames).join(', ') + (objects.length > maxNames ? ', …' : '');
    return `${kind} ×${count} (${shown})`;
  });
  return `stored, not reconciled: ${parts.join(', ')}`;
}
