import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CoreV1Api,
  KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import type { KubeObject } from '../../../../kube/object.ts';
import type { KubernetesSdConfig } from '../../config/prometheus-config.ts';
import type { Discoverer, TargetGroup, TargetGroupSink } from '../target-group.ts';
import {
  endpointsSource,
  endpointsTargetGroup,
  nodeSource,
  nodeTargetGroup,
  podSource,
  podTargetGroup,
  serviceSource,
  serviceTargetGroup,
} from './kubernetes-targets.ts';

/**
 * kubernetes_sd_configs through the Kubernetes API, as Prometheus does it: list+watch (informers)
 * of the role's objects in the configured namespaces with the configured selectors, each change
 * turned into the role's target group. The API is reached, in this order, through `api_server`
 * (with the config's tls_config and authorization), `kubeconfig_file`, or in-cluster
 * configuration: KUBERNETES_SERVICE_HOST/_PORT and the service-account token and ca.crt under
 * /var/run/secrets/kubernetes.io/serviceaccount.
 */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export class KubernetesDiscoveryError extends Error {
  override name = 'KubernetesDiscoveryError';
}

export interface KubernetesDiscoveryOptions {
  env: NodeJS.ProcessEnv;
  /**
   * Where the container's filesystem root is on this machine: the in-cluster token, ca.crt and
   * namespace are read under it ('' in a real container).
   */
  rootfs: string;
  log(message: string): void;
}

/** The client configuration for one kubernetes_sd_config (rest.InClusterConfig when nothing is given). */
export function kubeConfigFor(config: KubernetesSdConfig, options: KubernetesDiscoveryOptions): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfigFile) {
    kc.loadFromFile(config.kubeconfigFile);
    return kc;
  }
  if (config.apiServer) {
    const tls = config.http.tls;
    const auth = config.http.authorization;
    const token =
      auth?.credentials ??
      (auth?.credentialsFile ? readFileSync(auth.credentialsFile, 'utf8').trim() : undefined);
    const basic = config.http.basicAuth;
    kc.loadFromClusterAndUser(
      {
        name: 'prometheus',
        server: config.apiServer,
        skipTLSVerify: tls.insecureSkipVerify,
        ...(tls.caFile ? { caFile: tls.caFile } : {}),
        ...(tls.ca ? { caData: Buffer.from(tls.ca).toString('base64') } : {}),
        ...(tls.serverName ? { tlsServerName: tls.serverName } : {}),
      },
      {
        name: 'prometheus',
        ...(token ? { token } : {}),
        ...(basic
          ? { username: basic.username, password: basic.password ?? readPassword(basic.passwordFile) }
          : {}),
        ...(tls.certFile ? { certFile: tls.certFile } : {}),
        ...(tls.keyFile ? { keyFile: tls.keyFile } : {}),
      },
    );
    return kc;
  }
  const host = options.env['KUBERNETES_SERVICE_HOST'];
  const port = options.env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port)
    throw new KubernetesDiscoveryError(
      'unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined',
    );
  const tokenFile = path.join(options.rootfs, SERVICE_ACCOUNT_DIR, 'token');
  if (!existsSync(tokenFile))
    throw new KubernetesDiscoveryError(`open ${SERVICE_ACCOUNT_DIR}/token: no such file or directory`);
  const previous = {
    host: process.env['KUBERNETES_SERVICE_HOST'],
    port: process.env['KUBERNETES_SERVICE_PORT'],
  };
  process.env['KUBERNETES_SERVICE_HOST'] = host;
  process.env['KUBERNETES_SERVICE_PORT'] = port;
  try {
    kc.loadFromCluster(options.rootfs);
  } finally {
    restoreEnv('KUBERNETES_SERVICE_HOST', previous.host);
    restoreEnv('KUBERNETES_SERVICE_PORT', previous.port);
  }
  return kc;
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

function readPassword(file: string | undefined): string | undefined {
  return file ? readFileSync(file, 'utf8').trim() : undefined;
}

/** The namespaces to watch: [] means all (cluster-wide list and watch). */
export function namespacesFor(config: KubernetesSdConfig, options: KubernetesDiscoveryOptions): string[] {
  const names = [...config.namespaces.names];
  if (config.namespaces.ownNamespace) {
    const file = path.join(options.rootfs, SERVICE_ACCOUNT_DIR, 'namespace');
    names.push(readFileSync(file, 'utf8').trim());
  }
  return [...new Set(names)];
}

type Resource = 'pods' | 'services' | 'endpoints' | 'nodes';
const SELECTOR_ROLE: Record<Resource, string> = {
  pods: 'pod',
  services: 'service',
  endpoints: 'endpoints',
  nodes: 'node',
};

function lister(
  api: CoreV1Api,
  resource: Resource,
  namespace: string | undefined,
  labelSelector?: string,
  fieldSelector?: string,
) {
  const q = { ...(labelSelector ? { labelSelector } : {}), ...(fieldSelector ? { fieldSelector } : {}) };
  const call = (): Promise<KubernetesListObject<KubernetesObject>> => {
    switch (resource) {
      case 'pods':
        return namespace ? api.listNamespacedPod({ namespace, ...q }) : api.listPodForAllNamespaces(q);
      case 'services':
        return namespace
          ? api.listNamespacedService({ namespace, ...q })
          : api.listServiceForAllNamespaces(q);
      case 'endpoints':
        return namespace
          ? api.listNamespacedEndpoints({ namespace, ...q })
          : api.listEndpointsForAllNamespaces(q);
      case 'nodes':
        return api.listNode(q);
    }
  };
  return call;
}

function resourcePath(resource: Resource, namespace: string | undefined): string {
  if (resource === 'nodes' || !namespace) return `/api/v1/${resource}`;
  return `/api/v1/namespaces/${namespace}/${resource}`;
}

/** A set of informers over one resource in the configured namespaces. */
class ResourceCache {
  private readonly informers: Array<ListWatch<KubernetesObject>> = [];
  private stopped = false;

  constructor(
    kc: KubeConfig,
    resource: Resource,
    namespaces: string[],
    config: KubernetesSdConfig,
    private readonly onChange: (obj: KubeObject, deleted: boolean) => void,
    private readonly log: (m: string) => void,
  ) {
    const api = kc.makeApiClient(CoreV1Api);
    const selector = config.selectors.find((s) => s.role === SELECTOR_ROLE[resource]);
    const scopes = resource === 'nodes' || namespaces.length === 0 ? [undefined] : namespaces;
    for (const ns of scopes) {
      const informer = new ListWatch(
        resourcePath(resource, ns),
        new Watch(kc),
        lister(api, resource, ns, selector?.label, selector?.field),
        false,
        selector?.label,
        selector?.field,
      );
      informer.on('add', (o) => this.onChange(o as KubeObject, false));
      informer.on('update', (o) => this.onChange(o as KubeObject, false));
      informer.on('delete', (o) => this.onChange(o as KubeObject, true));
      informer.on('error', (err) => {
        this.log(`failed to watch ${resourcePath(resource, ns)}: ${(err as Error)?.message ?? err}`);
        if (!this.stopped) setTimeout(() => void informer.start().catch(() => {}), 5000).unref();
      });
      this.informers.push(informer);
    }
  }

  async start(): Promise<void> {
    await Promise.all(
      this.informers.map((i) => i.start().catch((err) => this.log(`list failed: ${(err as Error).message}`))),
    );
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    for (const i of this.informers) {
      const o = i.get(name, namespace);
      if (o) return o as KubeObject;
    }
    return undefined;
  }

  list(): KubeObject[] {
    return this.informers.flatMap((i) => i.list() as KubeObject[]);
  }

  stop(): void {
    this.stopped = true;
    for (const i of this.informers) void i.stop();
  }
}

/** Starts the discovery of one kubernetes_sd_config; groups go to `sink` as objects change. */
export function startKubernetesDiscovery(
  config: KubernetesSdConfig,
  sink: TargetGroupSink,
  options: KubernetesDiscoveryOptions,
): Discoverer {
  const kc = kubeConfigFor(config, options);
  const namespaces = namespacesFor(config, options);
  const caches: ResourceCache[] = [];
  const cache = (resource: Resource, onChange: (o: KubeObject, deleted: boolean) => void) => {
    const c = new ResourceCache(kc, resource, namespaces, config, onChange, options.log);
    caches.push(c);
    return c;
  };
  const empty = (source: string): TargetGroup => ({ source, labels: {}, targets: [] });
  const ns = (o: KubeObject) => o.metadata.namespace ?? 'default';

  switch (config.role) {
    case 'pod':
      cache('pods', (o, deleted) =>
        sink([deleted ? empty(podSource(ns(o), o.metadata.name)) : podTargetGroup(o)]),
      );
      break;
    case 'service':
      cache('services', (o, deleted) =>
        sink([deleted ? empty(serviceSource(ns(o), o.metadata.name)) : serviceTargetGroup(o)]),
      );
      break;
    case 'node':
      cache('nodes', (o, deleted) =>
        sink([deleted ? empty(nodeSource(o.metadata.name)) : nodeTargetGroup(o)]),
      );
      break;
    case 'endpoints': {
      let services: ResourceCache | undefined;
      let pods: ResourceCache | undefined;
      let nodes: ResourceCache | undefined;
      const build = (eps: KubeObject) =>
        endpointsTargetGroup(eps, {
          service: services?.get(ns(eps), eps.metadata.name),
          pod: (namespace, name) => pods?.get(namespace, name),
          ...(nodes ? { node: (name: string) => nodes!.get(undefined, name) } : {}),
        });
      const endpoints = cache('endpoints', (o, deleted) =>
        sink([deleted ? empty(endpointsSource(ns(o), o.metadata.name)) : build(o)]),
      );
      // A Service change rebuilds its Endpoints' group; pod changes show at the next Endpoints update.
      services = cache('services', (svc) => {
        const eps = endpoints.get(ns(svc), svc.metadata.name);
        if (eps) sink([build(eps)]);
      });
      pods = cache('pods', () => {});
      if (config.attachMetadata.node) nodes = cache('nodes', () => {});
      break;
    }
    default:
      throw new KubernetesDiscoveryError(
        `the twin's Prometheus does not implement the Kubernetes SD role ${config.role}`,
      );
  }
  // Related caches first, so the first Endpoints groups already see their Service and pods.
  void (async () => {
    for (const c of caches.slice(1).reverse()) await c.start();
    await caches[0]!.start();
  })();
  return {
    stop() {
      for (const c of caches) c.stop();
    },
  };
}
