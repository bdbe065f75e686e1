import type { KubeObject } from '../../kube/object.ts';
import { resourceValue } from '../../kube/quantity.ts';

/** Resource amounts by name: millicores for cpu, base units (bytes, counts) otherwise. */
export type Amounts = Record<string, number>;

/** Pods the manifests will ask the cluster to run: one pod template and how many of it. */
export interface PodDemand {
  /** "Deployment shop/web" (the object that makes the pods). */
  source: string;
  namespace: string;
  replicas: number;
  /** Runs on every node its selector and tolerations allow (a DaemonSet). */
  everyNode: boolean;
  labels: Record<string, string>;
  spec: any;
}

/**
 * What each pod-making object of the manifests asks for, as the controllers that make its pods would
 * (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs, Argo Rollouts, CloudNativePG
 * Clusters and Poolers, Opstree Redis clusters, replications and sentinels). Replicas are the larger
 * of spec.replicas and the minReplicas of an HPA that targets the object. Kinds it does not know are
 * returned in `unknown` (they may make pods it cannot see).
 */
export function podDemands(objects: KubeObject[]): { demands: PodDemand[]; notes: string[] } {
  const demands: PodDemand[] = [];
  const notes: string[] = [];
  const hpaMin = new Map<string, number>();
  for (const o of objects)
    if (o.kind === 'HorizontalPodAutoscaler') {
      const t = o.spec?.scaleTargetRef ?? {};
      hpaMin.set(`${o.metadata.namespace ?? 'default'}/${t.kind}/${t.name}`, o.spec?.minReplicas ?? 1);
      notes.push(
        `HorizontalPodAutoscaler ${o.metadata.namespace ?? 'default'}/${o.metadata.name} may scale ${t.kind} ${t.name} to ${o.spec?.maxReplicas} replicas: the topology holds its minReplicas (${o.spec?.minReplicas ?? 1}) and the replicas of the manifest; add nodes for the peak you test`,
      );
    }
  const add = (
    o: KubeObject,
    replicas: number,
    spec: any,
    labels: Record<string, string>,
    everyNode = false,
  ) =>
    demands.push({
      source: `${o.kind} ${o.metadata.namespace ?? 'default'}/${o.metadata.name}`,
      namespace: o.metadata.namespace ?? 'default',
      replicas,
      everyNode,
      labels,
      spec: spec ?? {},
    });
  for (const o of objects) {
    const ns = o.metadata.namespace ?? 'default';
    const scaled = (r: number | undefined) =>
      Math.max(r ?? 1, hpaMin.get(`${ns}/${o.kind}/${o.metadata.name}`) ?? 0);
    const template = o.spec?.template;
    switch (o.kind) {
      case 'Deployment':
      case 'ReplicaSet':
      case 'StatefulSet':
        add(o, scaled(o.spec?.replicas), template?.spec, template?.metadata?.labels ?? {});
        break;
      case 'Rollout':
        if (template) add(o, scaled(o.spec?.replicas), template.spec, template.metadata?.labels ?? {});
        else
          notes.push(
            `Rollout ${ns}/${o.metadata.name}: a workloadRef Rollout; its pods are counted with the workload it names`,
          );
        break;
      case 'DaemonSet':
        add(o, 0, template?.spec, template?.metadata?.labels ?? {}, true);
        break;
      case 'Job':
        add(o, o.spec?.parallelism ?? 1, template?.spec, template?.metadata?.labels ?? {});
        break;
      case 'CronJob': {
        const job = o.spec?.jobTemplate?.spec;
        add(o, job?.parallelism ?? 1, job?.template?.spec, job?.template?.metadata?.labels ?? {});
        break;
      }
      case 'Cluster':
        if (o.apiVersion.startsWith('postgresql.cnpg.io/'))
          add(o, o.spec?.instances ?? 1, cnpgPod(o), cnpgLabels(o));
        break;
      case 'Pooler':
        if (o.apiVersion.startsWith('postgresql.cnpg.io/'))
          add(
            o,
            o.spec?.instances ?? 1,
            o.spec?.template?.spec ?? {},
            o.spec?.template?.metadata?.labels ?? {},
          );
        break;
      case 'RedisCluster':
      case 'RedisReplication':
      case 'RedisSentinel':
        if (o.apiVersion.startsWith('redis.redis.opstreelabs.in/')) addRedis(o, add);
        break;
      default:
        break;
    }
  }
  return { demands, notes };
}

/** CloudNativePG instance pods: spec.resources, spec.affinity's placement, instance anti-affinity on by default. */
function cnpgPod(cluster: KubeObject): any {
  const a = cluster.spec?.affinity ?? {};
  const term = {
    topologyKey: a.topologyKey ?? 'kubernetes.io/hostname',
    labelSelector: { matchLabels: cnpgLabels(cluster) },
  };
  const podAntiAffinity =
    a.enablePodAntiAffinity === false
      ? undefined
      : a.podAntiAffinityType === 'required'
        ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
        : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] };
  return {
    containers: [
      {
        name: 'postgres',
        image: cluster.spec?.imageName ?? 'ghcr.io/cloudnative-pg/postgresql:16',
        ...(cluster.spec?.resources ? { resources: cluster.spec.resources } : {}),
      },
    ],
    ...(a.nodeSelector ? { nodeSelector: a.nodeSelector } : {}),
    ...(a.tolerations ? { tolerations: a.tolerations } : {}),
    ...(podAntiAffinity || a.nodeAffinity
      ? {
          affinity: {
            ...(podAntiAffinity ? { podAntiAffinity } : {}),
            ...(a.nodeAffinity ? { nodeAffinity: a.nodeAffinity } : {}),
          },
        }
      : {}),
  };
}

function cnpgLabels(cluster: KubeObject): Record<string, string> {
  return { 'cnpg.io/cluster': cluster.metadata.name, 'cnpg.io/podRole': 'instance' };
}

/** Opstree Redis: a cluster has leader and follower StatefulSets of clusterSize each; the others clusterSize pods. */
function addRedis(
  o: KubeObject,
  add: (o: KubeObject, replicas: number, spec: any, labels: Record<string, string>) => void,
): void {
  const size = o.spec?.clusterSize ?? 3;
  const resources = o.spec?.kubernetesConfig?.resources;
  const image = o.spec?.kubernetesConfig?.image ?? 'quay.io/opstree/redis';
  const pod = (role: any, app: string) => ({
    containers: [{ name: 'redis', image, ...(resources ? { resources } : {}) }],
    ...(role?.nodeSelector ? { nodeSelector: role.nodeSelector } : {}),
    ...(role?.tolerations ? { tolerations: role.tolerations } : {}),
    ...(role?.affinity ? { affinity: role.affinity } : {}),
    _app: app,
  });
  const strip = (p: any) => {
    const { _app, ...rest } = p;
    return rest;
  };
  if (o.kind === 'RedisCluster')
    for (const role of ['leader', 'follower'] as const) {
      const r = role === 'leader' ? o.spec?.redisLeader : o.spec?.redisFollower;
      const app = `${o.metadata.name}-${role}`;
      add(o, r?.replicas ?? size, strip(pod(r, app)), { app });
    }
  else add(o, size, strip(pod(o.spec, o.metadata.name)), { app: o.metadata.name });
}

/** What one pod requests of a node: its containers' requests (a limit alone counts as the request), or its largest init container. */
export function podRequests(spec: any): Amounts {
  const sum: Amounts = {};
  for (const c of spec?.containers ?? []) addInto(sum, containerRequests(c));
  for (const c of spec?.initContainers ?? []) {
    const r = containerRequests(c);
    if (c.restartPolicy === 'Always') addInto(sum, r);
    else for (const [k, v] of Object.entries(r)) sum[k] = Math.max(sum[k] ?? 0, v);
  }
  for (const [k, q] of Object.entries(spec?.overhead ?? {}))
    sum[k] = (sum[k] ?? 0) + resourceValue(k, q as string);
  return sum;
}

function containerRequests(c: any): Amounts {
  const out: Amounts = {};
  for (const [k, q] of Object.entries(c?.resources?.limits ?? {})) out[k] = resourceValue(k, q as string);
  for (const [k, q] of Object.entries(c?.resources?.requests ?? {})) out[k] = resourceValue(k, q as string);
  return out;
}

function addInto(into: Amounts, r: Amounts): void {
  for (const [k, v] of Object.entries(r)) into[k] = (into[k] ?? 0) + v;
}
