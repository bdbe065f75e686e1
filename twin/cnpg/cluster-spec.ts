import type { KubeObject } from '../../kube/object.ts';
import type { InstanceStatus } from './instance-protocol.ts';

/** The fields of a CloudNativePG `Cluster` (postgresql.cnpg.io/v1) the twin acts on, with CNPG's defaults. */
export interface ClusterSpec {
  instances: number;
  imageName: string;
  /** Seconds the primary may be unhealthy before a failover (CNPG default 0). */
  failoverDelay: number;
  parameters: Record<string, string>;
  sync:
    | { kind: 'none' }
    | { kind: 'legacy'; min: number; max: number }
    | { kind: 'synchronous'; method: 'any' | 'first'; number: number };
  database: string;
  owner: string;
  /** spec.bootstrap.initdb.secret.name: the owner's credentials (basic-auth Secret). */
  ownerSecret?: string;
  resources?: unknown;
  storageSize?: string;
  /** spec.storage.storageClass; unset: the cluster's default class. */
  storageClass?: string;
}

export const DEFAULT_IMAGE = 'ghcr.io/cloudnative-pg/postgresql:16';

export function clusterSpec(cluster: KubeObject): ClusterSpec {
  const spec = cluster.spec ?? {};
  const initdb = spec.bootstrap?.initdb ?? {};
  const synchronous = spec.postgresql?.synchronous;
  let sync: ClusterSpec['sync'] = { kind: 'none' };
  if (synchronous)
    sync = {
      kind: 'synchronous',
      method: synchronous.method === 'first' ? 'first' : 'any',
      number: Number(synchronous.number ?? 1),
    };
  else if (Number(spec.minSyncReplicas ?? 0) > 0 || Number(spec.maxSyncReplicas ?? 0) > 0)
    sync = { kind: 'legacy', min: Number(spec.minSyncReplicas ?? 0), max: Number(spec.maxSyncReplicas ?? 0) };
  const parameters: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.postgresql?.parameters ?? {})) parameters[k] = String(v);
  return {
    instances: Number(spec.instances ?? 1),
    imageName: spec.imageName ?? DEFAULT_IMAGE,
    failoverDelay: Number(spec.failoverDelay ?? 0),
    parameters,
    sync,
    database: initdb.database ?? 'app',
    owner: initdb.owner ?? initdb.database ?? 'app',
    ...(initdb.secret?.name ? { ownerSecret: initdb.secret.name } : {}),
    ...(spec.resources ? { resources: spec.resources } : {}),
    ...(spec.storage?.size ? { storageSize: spec.storage.size } : {}),
    ...(spec.storage?.storageClass ? { storageClass: spec.storage.storageClass } : {}),
  };
}

/** Instance pods are <cluster>-1 … <cluster>-N. */
export function instanceNames(cluster: string, instances: number): string[] {
  return Array.from({ length: instances }, (_, i) => `${cluster}-${i + 1}`);
}

/**
 * synchronous_standby_names as CNPG writes it. Legacy minSyncReplicas/maxSyncReplicas: quorum
 * `ANY q (standbys)` with q the number of ready standbys bounded to [min, max]. The
 * `postgresql.synchronous` stanza: `ANY|FIRST number (standbys)`. Standbys are named by pod
 * (their application_name).
 */
export function synchronousStandbyNames(
  spec: ClusterSpec,
  standbys: string[],
  readyStandbys: number,
): string {
  const list = standbys.map((s) => `"${s}"`).join(', ');
  if (spec.sync.kind === 'none' || standbys.length === 0) return '';
  if (spec.sync.kind === 'legacy') {
    const q = Math.max(spec.sync.min, Math.min(spec.sync.max, readyStandbys));
    return q > 0 ? `ANY ${q} (${list})` : '';
  }
  return `${spec.sync.method.toUpperCase()} ${spec.sync.number} (${list})`;
}

/**
 * The standby to promote on primary loss: CNPG promotes the most aligned replica (the highest
 * received/replayed WAL position); ties go to the lowest instance name.
 */
export function chooseFailoverTarget(candidates: InstanceStatus[]): InstanceStatus | undefined {
  return candidates
    .filter((s) => s.running && s.role === 'replica')
    .sort(
      (a, b) => (b.lsnBytes ?? 0) - (a.lsnBytes ?? 0) || a.pod.localeCompare(b.pod, 'en', { numeric: true }),
    )[0];
}
