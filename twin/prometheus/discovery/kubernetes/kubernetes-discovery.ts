import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type {
  CoreV1Api,
  KubeConfig,
  KubernetesListObject,
  KubernetesObject,
  ListWatch,
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

type ClientNode = typeof import('@kubernetes/client-node');

/**
 * @kubernetes/client-node, loaded when a kubernetes_sd_config starts. The specifier is not a
 * literal so the workload bundler leaves it to Node's resolution: bundled, the client makes the
 * binary ten times larger and it would not answer its probes within their initial delay at the
 * twin's time scale.
 */
const CLIENT_NODE = ['@kubernetes', 'client-node'].join('/');
let clientNode: Promise<ClientNode> | undefined;
export function loadClientNode(): Promise<ClientNode> {
  clientNode ??= import(CLIENT_NODE) as Promise<ClientNode>;
  return clientNode;
}

export class KubernetesDiscoveryError extends Error {
  override name = 'KubernetesDiscoveryError';
}

export interface KubernetesDiscoveryOptions {
  env: NodeJS.ProcessEnv;
  /**
   * Where /var/run/secrets/kubernetes.io/serviceaccount (the in-cluster token, ca.crt and
   * namespace) is on this machine: that path itself in a real container, the pod's volume in the twin.
   */
  serviceAccountDir: string;
  log(message: string): void;
}

/** The client configuration for one kubernetes_sd_config (rest.InClusterConfig when nothing is given). */
export function kubeConfigFor(
  config: KubernetesSdConfig,
  options: KubernetesDiscoveryOptions,
  k8s: ClientNode,
): KubeConfig {
  const kc = new k8s.KubeConfig();
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
  // What KubeConfig.loadFromCluster builds, with the service-account files where the pod has them.
  const { host, port } = inClusterEndpoint(options);
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  const server = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  kc.loadFromClusterAndUser(
    {
      name: 'inCluster',
      server,
      skipTLSVerify: false,
      caFile: path.join(options.serviceAccountDir, 'ca.crt'),
    },
    {
      name: 'inClusterUser',
      authProvider: {
        name: 'tokenFile',
        config: { tokenFile: path.join(options.serviceAccountDir, 'token') },
      },
    },
  );
  return kc;
}

/**
 * rest.InClusterConfig's checks, made before the client is loaded: the service host and port in
 * the environment and the service-account token on disk.
 */
export function inClusterEndpoint(options: KubernetesDiscoveryOptions): { host: string; port: string } {
  const host = options.env['KUBERNETES_SERVICE_HOST'];
  const port = options.env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port)
    throw new KubernetesDiscoveryError(
      'unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined',
    );
  const tokenFile = path.join(options.serviceAccountDir, 'token');
  if (!existsSync(tokenFile))
    throw new KubernetesDiscoveryError(`open ${SERVICE_ACCOUNT_DIR}/token: no such file or directory`);
  return { host, port };
}

function readPassword(file: string | undefined): string | undefined {
  return file ? readFileSync(file, 'utf8').trim() : undefined;
}

/** The namespaces to watch: [] means all (cluster-wide list and watch). */
export function namespacesFor(config: KubernetesSdConfig, options: KubernetesDiscoveryOptions): string[] {
  const names = [...config.namespaces.names];
  if (config.namespaces.ownNamespace) {
    const file = path.join(options.serviceAccountDir, 'namespace');
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
    k8s: ClientNode,
    kc: KubeConfig,
    resource: Resource,
    namespaces: string[],
    config: KubernetesSdConfig,
    private readonly onChange: (obj: KubeObject, deleted: boolean) => void,
    private readonly log: (m: string) => void,
  ) {
    const api = kc.makeApiClient(k8s.CoreV1Api);
    const selector = config.selectors.find((s) => s.role === SELECTOR_ROLE[resource]);
    const scopes = resource === 'nodes' || namespaces.length === 0 ? [undefined] : namespaces;
    for (const ns of scopes) {
      const informer = new k8s.ListWatch(
        resourcePath(resource, ns),
        new k8s.Watch(kc),
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

/**
 * Starts the discovery of one kubernetes_sd_config; groups go to `sink` as objects change. A
 * configuration that cannot reach the API (no in-cluster environment) is logged, as Prometheus
 * logs it, and discovers nothing.
 */
export function startKubernetesDiscovery(
  config: KubernetesSdConfig,
  sink: TargetGroupSink,
  options: KubernetesDiscoveryOptions,
): Discoverer {
  if (!config.apiServer && !config.kubeconfigFile) inClusterEndpoint(options);
  let stopped = false;
  let running: Discoverer | undefined;
  void loadClientNode()
    .then((k8s) => {
      if (stopped) return;
      running = runDiscovery(k8s, config, sink, options);
    })
    .catch((err) => options.log(`Cannot create service discovery: ${(err as Error).message}`));
  return {
    stop() {
      stopped = true;
      running?.stop();
    },
  };
}

function runDiscovery(
  k8s: ClientNode,
  config: KubernetesSdConfig,
  sink: TargetGroupSink,
  options: KubernetesDiscoveryOptions,
): Discoverer {
  const kc = kubeConfigFor(config, options, k8s);
  const namespaces = namespacesFor(config, options);
  const caches: ResourceCache[] = [];
  const cache = (resource: Resource, onChange: (o: KubeObject, deleted: boolean) => void) => {
    const c = new ResourceCache(k8s, kc, resource, namespaces, config, onChange, options.log);
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
