import { describeObject } from '../../kube/object.ts';
import type { RenderedObject } from '../render/rendered-object.ts';

/** The pods an object makes: a pod template of the manifests, or the pods an operator makes from a custom resource. */
export interface PodTemplate {
  r: RenderedObject;
  /** "Deployment production/web" */
  owner: string;
  namespace: string;
  /** Where the pod spec is in the object ("spec.template.spec"); undefined for an operator's pods. */
  specPath: string | undefined;
  labels: Record<string, string>;
  /** The pod spec as written; undefined for an operator's pods (only their labels are known). */
  spec: any;
  /** The replicas the object asks for (undefined: one per node, or run to completion). */
  replicas: number | undefined;
}

const TEMPLATE_KINDS: Record<string, { path: string; replicas: boolean }> = {
  'apps/v1 Deployment': { path: 'spec.template', replicas: true },
  'apps/v1 StatefulSet': { path: 'spec.template', replicas: true },
  'apps/v1 ReplicaSet': { path: 'spec.template', replicas: true },
  'apps/v1 DaemonSet': { path: 'spec.template', replicas: false },
  'argoproj.io/v1alpha1 Rollout': { path: 'spec.template', replicas: true },
  'batch/v1 Job': { path: 'spec.template', replicas: false },
  'batch/v1 CronJob': { path: 'spec.jobTemplate.spec.template', replicas: false },
  'v1 ReplicationController': { path: 'spec.template', replicas: true },
};

function get(obj: any, path: string): any {
  return path.split('.').reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), obj);
}

/**
 * Every pod the objects would make, with its labels: the pod templates of the workload kinds, bare
 * Pods, and the pods of the operators the twin knows (CloudNativePG Cluster instances and Pooler
 * pods, OT redis-operator RedisCluster leaders and followers, labelled as those operators label them).
 */
export function podTemplates(rendered: readonly RenderedObject[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const r of rendered) {
    const o = r.object;
    const namespace = o.metadata?.namespace ?? 'default';
    const owner = describeObject(o);
    const kind = TEMPLATE_KINDS[`${o.apiVersion} ${o.kind}`];
    if (kind) {
      const template = get(o, kind.path);
      out.push({
        r,
        owner,
        namespace,
        specPath: `${kind.path}.spec`,
        labels: template?.metadata?.labels ?? {},
        spec: template?.spec,
        replicas: kind.replicas ? (typeof o.spec?.replicas === 'number' ? o.spec.replicas : 1) : undefined,
      });
    } else if (o.apiVersion === 'v1' && o.kind === 'Pod') {
      out.push({
        r,
        owner,
        namespace,
        specPath: 'spec',
        labels: o.metadata.labels ?? {},
        spec: o.spec,
        replicas: 1,
      });
    } else if (o.apiVersion === 'postgresql.cnpg.io/v1' && o.kind === 'Cluster') {
      const instances: number = o.spec?.instances ?? 1;
      for (const role of ['primary', 'replica'])
        out.push(
          operatorPods(
            r,
            owner,
            namespace,
            {
              'cnpg.io/cluster': o.metadata.name,
              'cnpg.io/podRole': 'instance',
              'cnpg.io/instanceRole': role,
              role,
            },
            role === 'primary' ? 1 : instances - 1,
          ),
        );
    } else if (o.apiVersion === 'postgresql.cnpg.io/v1' && o.kind === 'Pooler') {
      out.push(
        operatorPods(
          r,
          owner,
          namespace,
          {
            'cnpg.io/poolerName': o.metadata.name,
            'cnpg.io/podRole': 'pooler',
            'cnpg.io/cluster': String(o.spec?.cluster?.name ?? ''),
          },
          o.spec?.instances ?? 1,
        ),
      );
    } else if (o.apiVersion?.startsWith('redis.redis.opstreelabs.in/') && o.kind === 'RedisCluster') {
      for (const role of ['leader', 'follower'])
        out.push(
          operatorPods(
            r,
            owner,
            namespace,
            {
              app: `${o.metadata.name}-${role}`,
              redis_setup_type: 'cluster',
              role,
              ...(o.metadata.labels ?? {}),
            },
            o.spec?.[role === 'leader' ? 'redisLeader' : 'redisFollower']?.replicas ??
              o.spec?.clusterSize ??
              1,
          ),
        );
    }
  }
  return out;
}

function operatorPods(
  r: RenderedObject,
  owner: string,
  namespace: string,
  labels: Record<string, string>,
  replicas: number,
): PodTemplate {
  return { r, owner, namespace, specPath: undefined, labels, spec: undefined, replicas };
}

/** The containers of a pod spec with their field paths (init containers included). */
export function containersOf(t: PodTemplate): { c: any; path: string; init: boolean }[] {
  if (!t.spec || !t.specPath) return [];
  return [
    ...((t.spec.initContainers ?? []) as any[]).map((c, i) => ({
      c,
      path: `${t.specPath}.initContainers[${i}]`,
      init: true,
    })),
    ...((t.spec.containers ?? []) as any[]).map((c, i) => ({
      c,
      path: `${t.specPath}.containers[${i}]`,
      init: false,
    })),
  ];
}
