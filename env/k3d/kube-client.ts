import {
  CoreV1Api,
  HttpMethod,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type V1APIResource,
  Watch,
} from '@kubernetes/client-node';
import { TwinError } from '../../core/errors.ts';
import { waitUntil } from '../../core/wait.ts';
import type { LabelSelector } from '../../kube/labels.ts';
import type { KubeObject, ObjectRef } from '../../kube/object.ts';
import type { KubeApi, KubeWaitOptions, KubeWatchEvent } from '../environment.ts';
import { FIELD_MANAGER, type JsonPatchOp } from './k3d-steps.ts';
import { forApply, isClusterScoped } from './k3d-up-plan.ts';

/** apiVersion of kinds that scenarios name without one (as the twin's object store allows). */
const DEFAULT_API_VERSIONS: Record<string, string> = {
  Pod: 'v1',
  Service: 'v1',
  Endpoints: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  Namespace: 'v1',
  Node: 'v1',
  Event: 'v1',
  ServiceAccount: 'v1',
  PersistentVolumeClaim: 'v1',
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
  Ingress: 'networking.k8s.io/v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  PodDisruptionBudget: 'policy/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  Rollout: 'argoproj.io/v1alpha1',
  AnalysisRun: 'argoproj.io/v1alpha1',
  AnalysisTemplate: 'argoproj.io/v1alpha1',
};

export function apiVersionOf(ref: { apiVersion?: string; kind: string }): string {
  const v = ref.apiVersion ?? DEFAULT_API_VERSIONS[ref.kind];
  if (!v)
    throw new TwinError('TWIN_INVALID', `${ref.kind}: give its apiVersion (the kind alone is ambiguous)`);
  return v;
}

/** The label selector as the API's query string ("a=b,c in (d,e)"). */
export function selectorString(s: LabelSelector | undefined): string | undefined {
  if (!s) return undefined;
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const r of s.matchExpressions ?? []) {
    if (r.operator === 'In') parts.push(`${r.key} in (${(r.values ?? []).join(',')})`);
    else if (r.operator === 'NotIn') parts.push(`${r.key} notin (${(r.values ?? []).join(',')})`);
    else if (r.operator === 'Exists') parts.push(r.key);
    else if (r.operator === 'DoesNotExist') parts.push(`!${r.key}`);
  }
  return parts.length ? parts.join(',') : undefined;
}

/** The URL path of a collection, for watches ("/apis/apps/v1/namespaces/x/deployments"). */
export function collectionPath(apiVersion: string, plural: string, namespace?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${base}${namespace ? `/namespaces/${namespace}` : ''}/${plural}`;
}

class ObjectApi extends KubernetesObjectApi {
  static forConfig(kc: KubeConfig): ObjectApi {
    const api = kc.makeApiClient(ObjectApi);
    api.setDefaultNamespace(kc);
    return api;
  }
  resourceOf(apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
    return this.resource(apiVersion, kind);
  }
  /** PUT of the status subresource (…/<name>/status): only the object's status is taken. */
  async replaceStatus(spec: KubernetesObject): Promise<KubernetesObject> {
    const path = `${await this.specUriPath(spec, 'replace')}/status`;
    const request = this.configuration.baseServer.makeRequestContext(path, HttpMethod.PUT);
    request.setHeaderParam('Accept', 'application/json, */*;q=0.8');
    request.setHeaderParam('Content-Type', 'application/json');
    request.setBody(JSON.stringify(spec));
    return this.requestPromise(request);
  }
}

const isNotFound = (err: unknown) => (err as { code?: number })?.code === 404;
const isConflict = (err: unknown) => (err as { code?: number })?.code === 409;

/** The Environment's KubeApi on a real API server through @kubernetes/client-node. */
export class ClientNodeKubeApi implements KubeApi {
  private readonly objects: ObjectApi;
  private readonly core: CoreV1Api;

  /** `beforeWrite` sees every object before it is applied or replaced (the k3d environment builds and imports new images there). */
  constructor(
    private readonly kc: KubeConfig,
    private readonly beforeWrite: (obj: KubeObject) => Promise<void> = async () => {},
  ) {
    this.objects = ObjectApi.forConfig(kc);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Server-side apply (field manager infra-twin, conflicts forced), as `kubectl apply --server-side`. */
  async apply(objects: KubeObject | KubeObject[]): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const o of Array.isArray(objects) ? objects : [objects]) {
      await this.beforeWrite(o);
      const body = forApply(o) as KubernetesObject;
      const applied = await this.objects.patch(
        body,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
      out.push(applied as KubeObject);
    }
    return out;
  }

  /** Applies a manifest's objects, placing namespaced objects without a namespace in `namespace`. */
  async applyManifest(objects: KubeObject[], namespace?: string): Promise<void> {
    for (const o of objects) {
      if (namespace && !o.metadata.namespace && !isClusterScoped(o.kind)) o.metadata.namespace = namespace;
      await this.apply(o);
    }
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      return (await this.objects.read({
        apiVersion: apiVersionOf(ref),
        kind: ref.kind,
        metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
      })) as KubeObject;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list(
    type: { apiVersion?: string; kind: string },
    options: { namespace?: string; labelSelector?: LabelSelector } = {},
  ): Promise<KubeObject[]> {
    const apiVersion = apiVersionOf(type);
    const list = await this.objects.list(
      apiVersion,
      type.kind,
      options.namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      selectorString(options.labelSelector),
    );
    return list.items.map((i) => ({ ...i, apiVersion, kind: type.kind }) as KubeObject);
  }

  /**
   * Read-modify-write with the resourceVersion read (optimistic concurrency); retried on a conflict.
   * With `subresource: 'status'` the result goes to the status subresource.
   */
  async patch(
    ref: ObjectRef,
    mutate: (obj: KubeObject) => void,
    options: { subresource?: 'status' } = {},
  ): Promise<KubeObject | undefined> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(ref);
      if (!current) return undefined;
      mutate(current);
      try {
        if (options.subresource === 'status')
          return (await this.objects.replaceStatus(current as KubernetesObject)) as KubeObject;
        await this.beforeWrite(current);
        return (await this.objects.replace(current as KubernetesObject)) as KubeObject;
      } catch (err) {
        if (!isConflict(err) || attempt >= 5) throw err;
      }
    }
  }

  async delete(ref: ObjectRef): Promise<void> {
    try {
      await this.objects.delete({
        apiVersion: apiVersionOf(ref),
        kind: ref.kind,
        metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** A watch that re-establishes itself when the server ends it (watches time out), until stopped. */
  watch(
    type: { apiVersion?: string; kind: string; namespace?: string },
    handler: (e: KubeWatchEvent) => void,
  ): () => void {
    let stopped = false;
    let current: AbortController | undefined;
    const apiVersion = apiVersionOf(type);
    const start = async (): Promise<void> => {
      if (stopped) return;
      const resource = await this.objects.resourceOf(apiVersion, type.kind).catch(() => undefined);
      if (!resource) {
        if (!stopped) setTimeout(() => void start(), 1000);
        return;
      }
      const ns = resource.namespaced ? type.namespace : undefined;
      current = await new Watch(this.kc)
        .watch(
          collectionPath(apiVersion, resource.name, ns),
          { allowWatchBookmarks: false },
          (phase, obj) => {
            if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED')
              handler({ type: phase, object: { ...obj, apiVersion, kind: type.kind } });
          },
          () => {
            if (!stopped) setTimeout(() => void start(), 500);
          },
        )
        .catch(() => {
          if (!stopped) setTimeout(() => void start(), 1000);
          return undefined;
        });
      if (stopped) current?.abort();
    };
    void start();
    return () => {
      stopped = true;
      current?.abort();
    };
  }

  async waitFor(
    ref: ObjectRef,
    predicate: (obj: KubeObject | undefined) => boolean,
    options: KubeWaitOptions,
  ): Promise<KubeObject | undefined> {
    // Re-checked on every change, and every 2 s (a watch may be re-establishing).
    const found = await waitUntil(
      async (progress) => {
        const last = await this.get(ref);
        if (predicate(last)) return { last };
        progress.status(`status: ${JSON.stringify(last?.status ?? null).slice(0, 400)}`);
        return undefined;
      },
      {
        ...options,
        interval: 2000,
        wake: (recheck) =>
          this.watch({ ...ref, namespace: ref.namespace }, (e) => {
            if (e.object.metadata?.name === ref.name) recheck();
          }),
      },
    );
    return found.last;
  }

  async logs(
    ref: { namespace: string; name: string },
    options: { tailLines?: number } = {},
  ): Promise<string> {
    return this.core.readNamespacedPodLog({
      name: ref.name,
      namespace: ref.namespace,
      ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {}),
    });
  }

  /** Evicts a pod through the Eviction API (PodDisruptionBudgets are honoured; 429 when one forbids it). */
  async evict(ref: { namespace: string; name: string }): Promise<void> {
    await this.core.createNamespacedPodEviction({
      name: ref.name,
      namespace: ref.namespace,
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: ref.name, namespace: ref.namespace },
      },
    });
  }

  /** Deletes a pod at once (grace period 0), as a crash or `kubectl delete pod --grace-period=0 --force`. */
  async killPod(ref: { namespace: string; name: string }): Promise<void> {
    await this.core.deleteNamespacedPod({ name: ref.name, namespace: ref.namespace, gracePeriodSeconds: 0 });
  }

  /** JSON Patch of a node's status subresource (emulated extended resources). */
  async patchNodeStatus(node: string, patch: JsonPatchOp[]): Promise<void> {
    await this.core.patchNodeStatus(
      { name: node, body: patch },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
  }
}
