import {
  ApiException,
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
import { TwinError } from '../core/errors.ts';
import { waitUntil } from '../core/wait.ts';
import type { LabelSelector } from '../kube/labels.ts';
import type { KubeObject, ObjectRef } from '../kube/object.ts';
import type { KubeApi, KubeWaitOptions, KubeWatchEvent } from './environment.ts';

/** The field manager of every environment's server-side applies. */
export const FIELD_MANAGER = 'infra-twin';

/** A JSON Patch operation (RFC 6902). */
export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

/** What server-side apply is sent: the object as written, without status or server-owned metadata. */
export function forApply(o: KubeObject): KubeObject {
  const { status: _status, ...rest } = o;
  const {
    resourceVersion: _rv,
    uid: _uid,
    creationTimestamp: _ct,
    generation: _g,
    managedFields: _mf,
    deletionTimestamp: _dt,
    deletionGracePeriodSeconds: _dg,
    ...metadata
  } = o.metadata;
  return { ...rest, metadata } as KubeObject;
}

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

/**
 * client-node's KubernetesObjectApi, with every body sent and received as plain JSON. Its own methods
 * pass objects through the generated models, which drop fields the models do not know (a custom
 * resource's, a newer API's), rename reserved words (`from` of a NetworkPolicy rule becomes `_from`,
 * so it is lost on the way in) and turn timestamps into Date objects: the Environment's objects must
 * be the API's JSON as it is.
 */
class ObjectApi extends KubernetesObjectApi {
  static forConfig(kc: KubeConfig): ObjectApi {
    const api = kc.makeApiClient(ObjectApi);
    api.setDefaultNamespace(kc);
    return api;
  }
  resourceOf(apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
    return this.resource(apiVersion, kind);
  }

  private async send(
    method: HttpMethod,
    path: string,
    options: { body?: unknown; contentType?: string; query?: Record<string, string | undefined> } = {},
  ): Promise<any> {
    const request = this.configuration.baseServer.makeRequestContext(path, method);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) request.setQueryParam(k, v);
    request.setHeaderParam('Accept', 'application/json, */*;q=0.8');
    if (options.body !== undefined) {
      request.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      request.setBody(JSON.stringify(options.body));
    }
    // Sent as requestPromise sends it (authentication, middleware), but the answer is parsed here: its
    // processResponse turns any Kubernetes object into client-node's classes.
    const auth = this.configuration.authMethods as Record<
      string,
      { applySecurityAuthentication?(r: unknown): unknown } | undefined
    >;
    await auth['BearerToken']?.applySecurityAuthentication?.(request);
    await auth['default']?.applySecurityAuthentication?.(request);
    let ctx = request;
    for (const m of this.configuration.middleware) ctx = await m.pre(ctx).toPromise();
    let response = await this.configuration.httpApi.send(ctx).toPromise();
    for (const m of this.configuration.middleware) response = await m.post(response).toPromise();
    const text = await response.body.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299)
      throw new ApiException(response.httpStatusCode, 'Unsuccessful HTTP Request', parsed, response.headers);
    return parsed;
  }

  /** Server-side apply of the object (a JSON body is valid apply YAML). */
  async applyObject(spec: KubernetesObject, fieldManager: string, force: boolean): Promise<KubernetesObject> {
    return this.send(HttpMethod.PATCH, await this.specUriPath(spec, 'patch'), {
      body: spec,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager, force: String(force) },
    });
  }

  async readObject(spec: KubernetesObject): Promise<KubernetesObject> {
    return this.send(HttpMethod.GET, await this.specUriPath(spec, 'read'));
  }

  async replaceObject(spec: KubernetesObject, subresource?: 'status'): Promise<KubernetesObject> {
    const path = await this.specUriPath(spec, 'replace');
    return this.send(HttpMethod.PUT, subresource ? `${path}/${subresource}` : path, { body: spec });
  }

  async deleteObject(spec: KubernetesObject): Promise<void> {
    await this.send(HttpMethod.DELETE, await this.specUriPath(spec, 'delete'));
  }

  async listObjects(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    labelSelector: string | undefined,
  ): Promise<{ items: KubernetesObject[] }> {
    // client-node answers a group/version the server does not serve with a 404, a kind it lacks with undefined
    const resource = await this.resource(apiVersion, kind).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!resource)
      throw new TwinError('TWIN_NOT_FOUND', `no matches for kind "${kind}" in version "${apiVersion}"`);
    const path = collectionPath(apiVersion, resource.name, resource.namespaced ? namespace : undefined);
    return this.send(HttpMethod.GET, path, { query: { labelSelector } });
  }
}

const isNotFound = (err: unknown) => (err as { code?: number })?.code === 404;
const isConflict = (err: unknown) => (err as { code?: number })?.code === 409;

/**
 * The Environment's KubeApi on an API server through @kubernetes/client-node: a real cluster's (k3d)
 * or the twin's (local), the same client and the same requests on both.
 */
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
      const applied = await this.objects.applyObject(body, FIELD_MANAGER, true);
      out.push(applied as KubeObject);
    }
    return out;
  }

  /** Applies a manifest's objects, placing namespaced objects without a namespace in `namespace` (scope from discovery). */
  async applyManifest(objects: KubeObject[], namespace?: string): Promise<void> {
    for (const o of objects) {
      if (namespace && !o.metadata.namespace) {
        const resource = await this.objects.resourceOf(o.apiVersion, o.kind).catch(() => undefined);
        if (resource?.namespaced ?? true) o.metadata.namespace = namespace;
      }
      await this.apply(o);
    }
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      return (await this.objects.readObject({
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
    const list = await this.objects.listObjects(
      apiVersion,
      type.kind,
      options.namespace,
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
          return (await this.objects.replaceObject(current as KubernetesObject, 'status')) as KubeObject;
        await this.beforeWrite(current);
        return (await this.objects.replaceObject(current as KubernetesObject)) as KubeObject;
      } catch (err) {
        if (!isConflict(err) || attempt >= 5) throw err;
      }
    }
  }

  async delete(ref: ObjectRef): Promise<void> {
    try {
      await this.objects.deleteObject({
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

  /** The last lines of each of the pod's containers (one after another, as the interface promises one text). */
  async logs(
    ref: { namespace: string; name: string },
    options: { tailLines?: number } = {},
  ): Promise<string> {
    const pod = await this.get({ apiVersion: 'v1', kind: 'Pod', namespace: ref.namespace, name: ref.name });
    const containers: string[] = (pod?.spec?.containers ?? []).map((c: { name: string }) => c.name);
    const texts: string[] = [];
    for (const container of containers.length > 0 ? containers : [undefined]) {
      texts.push(
        await this.core.readNamespacedPodLog({
          name: ref.name,
          namespace: ref.namespace,
          ...(container ? { container } : {}),
          ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {}),
        }),
      );
    }
    return texts.join('');
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
