import type { KubeObject } from '../../kube/object.ts';
import type { StatusCause } from '../../kube/schema/index.ts';

/**
 * What the twin can model on one machine, beyond which it stops rather than try: replicas per
 * workload. The API's own bound is int32 (2147483647); a real cluster would accept 999999999 and its
 * ReplicaSet controller would create pods until quotas or capacity stop it. Raise with
 * TWIN_MAX_REPLICAS when a topology really needs more.
 */
// Twin simplification: a bound of its own on replicas, far below the API's int32.
export const DEFAULT_MAX_REPLICAS = 5000;

const REPLICATED = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'Rollout', 'Job']);

export function maxReplicasFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = env['TWIN_MAX_REPLICAS'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : DEFAULT_MAX_REPLICAS;
}

export function twinLimitCauses(obj: KubeObject, maxReplicas: number): StatusCause[] {
  const spec = obj.spec;
  if (!REPLICATED.has(obj.kind) || typeof spec !== 'object' || spec === null) return [];
  const out: StatusCause[] = [];
  const fields =
    obj.kind === 'Job'
      ? ['parallelism', 'completions']
      : obj.kind === 'HorizontalPodAutoscaler'
        ? []
        : ['replicas'];
  for (const f of fields) {
    const v = spec[f];
    if (typeof v === 'number' && v > maxReplicas)
      out.push({
        reason: 'FieldValueInvalid',
        field: `spec.${f}`,
        message: `Invalid value: ${v}: the twin models at most ${maxReplicas} replicas per workload (the API allows up to 2147483647); set TWIN_MAX_REPLICAS to raise the bound`,
      });
  }
  return out;
}
