import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { TwinError } from '../../core/errors.ts';
import { waitUntil } from '../../core/wait.ts';
import type { KubeObject } from '../../kube/object.ts';
import type { ObjectStore, WatchEvent } from '../store/object-store.ts';
import {
  ALB_ACTION_PREFIX,
  type AlbAction,
  parseAlbAction,
  SmoothWeightedRoundRobin,
  type TargetGroup,
  USE_ANNOTATION,
} from './alb-actions.ts';
import type { Endpoint, EndpointTable } from './endpoint-table.ts';
import type { HttpForwarder } from './http-forwarder.ts';
import { compileIngress, type IngressBackend, type IngressRoutes, routeRequest } from './ingress-routing.ts';
import { closeServer, listen } from './listen.ts';
import type { ConnectionPolicy } from './network-policy-enforcer.ts';

export interface IngressProxyOptions {
  /** Address the listeners bind (default 127.0.0.1). */
  host?: string;
  /** Fixed host ports by "namespace/name"; others get an ephemeral port. */
  ports?: Record<string, number>;
  log?: (message: string) => void;
  /** NetworkPolicy: which endpoints the load balancer's addresses may reach. */
  policy?: ConnectionPolicy;
  /**
   * The addresses the load balancer connects to pods from (one per subnet it sits in, used in turn);
   * the host's address when none is given.
   */
  sources?: () => string[];
  /** Why no controller of the cluster serves an Ingress (it then gets no listener), or undefined when served. */
  unserved?: (ingress: KubeObject) => string | undefined;
}

/**
 * The ALB's target connection timeout: "The load balancer failed to establish a connection to the
 * target before the connection timeout expired (10 seconds)" → 504.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html
 */
const TARGET_CONNECT_TIMEOUT_MS = 10_000;

interface IngressListener {
  key: string;
  namespace: string;
  name: string;
  ingress: KubeObject;
  routes: IngressRoutes;
  server: Server;
  sockets: Set<Socket>;
  bound: Promise<number>;
  /** Weighted pickers by backend action name, rebuilt when the annotation text changes. */
  actions: Map<string, { text: string; action: AlbAction; wrr?: SmoothWeightedRoundRobin<TargetGroup> }>;
}

/**
 * The Ingress controller of the twin, modelled on the AWS Load Balancer Controller with target-type
 * ip: every Ingress gets a listener on the host's loopback and its address in
 * status.loadBalancer.ingress; requests are routed by host and path to Service endpoints, with
 * weighted forward actions from `alb.ingress.kubernetes.io/actions.*` annotations.
 *
 * NetworkPolicy: the load balancer connects to pods from its own addresses (`sources`), which the
 * policies see as the ALB's addresses in its subnets (on k3s: Traefik's pod in kube-system). As an
 * ALB's health checks fail on targets the policies close to it, requests go only to targets it may
 * reach; when it may reach none it fails open and the connection times out: 504 after the target
 * connection timeout (10 s).
 *
 * It serves the Ingresses of every class whose controller the cluster runs (the profile's Traefik,
 * the AWS Load Balancer Controller add-on): one that no controller serves gets no address, as on a
 * cluster, and its URL is refused with the reason.
 *
 * Twin simplification: targets the policies close to the load balancer are left out at once; an ALB
 * marks them unhealthy only after its health-check thresholds.
 * Twin simplification: each served Ingress has its own port whatever its class (no IngressGroups, no
 * Traefik entrypoints), HTTP only (no TLS, no listen-ports annotation).
 */
export class IngressProxy {
  private readonly listeners = new Map<string, IngressListener>();
  /** Ingresses no controller serves, with why. */
  private readonly unserved = new Map<string, string>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private unwatch: (() => void) | undefined;
  private readonly host: string;
  private readonly log: (message: string) => void;
  private nextSource = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly table: EndpointTable,
    private readonly forwarder: HttpForwarder,
    private readonly options: IngressProxyOptions = {},
  ) {
    this.host = options.host ?? '127.0.0.1';
    this.log = options.log ?? (() => {});
  }

  start(): void {
    const ingresses = { kind: 'Ingress', apiVersion: 'networking.k8s.io/v1' };
    const unwatchIngresses = this.store.watch(ingresses, (e) => this.onIngress(e));
    // a class created, changed or deleted may change which Ingresses a controller serves
    const unwatchClasses = this.options.unserved
      ? this.store.watch({ kind: 'IngressClass', apiVersion: 'networking.k8s.io/v1' }, () => {
          for (const ing of this.store.list(ingresses)) this.upsert(ing);
        })
      : () => {};
    this.unwatch = () => {
      unwatchIngresses();
      unwatchClasses();
    };
    for (const ing of this.store.list({ kind: 'Ingress', apiVersion: 'networking.k8s.io/v1' }))
      this.upsert(ing);
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map((l) => this.close(l)));
  }

  /** Base URL of an Ingress, once its listener is up; waits up to `timeoutMs` for the Ingress to appear. */
  async url(ref: { namespace: string; name: string }, timeoutMs = 30_000): Promise<string> {
    const key = `${ref.namespace}/${ref.name}`;
    const why = this.unserved.get(key);
    if (why !== undefined)
      throw new TwinError(
        'TWIN_INVALID',
        `Ingress ${key} has no address: no Ingress controller of this cluster serves it (${why})`,
      );
    const l = await waitUntil(() => this.listeners.get(key), {
      what: `Ingress ${key} (apply it, apiVersion networking.k8s.io/v1, before asking for its URL)`,
      timeout: timeoutMs,
      interval: 1000,
      wake: (recheck) => {
        const list = this.waiters.get(key) ?? [];
        list.push(recheck);
        this.waiters.set(key, list);
        return () => {
          const left = this.waiters.get(key)?.filter((w) => w !== recheck) ?? [];
          if (left.length) this.waiters.set(key, left);
          else this.waiters.delete(key);
        };
      },
    });
    return `http://${this.host}:${await l.bound}`;
  }

  private onIngress(e: WatchEvent): void {
    const key = `${e.object.metadata.namespace ?? 'default'}/${e.object.metadata.name}`;
    if (e.type === 'DELETED') {
      this.unserved.delete(key);
      const l = this.listeners.get(key);
      if (l) {
        this.listeners.delete(key);
        void this.close(l);
      }
      return;
    }
    this.upsert(e.object);
  }

  private upsert(ing: KubeObject): void {
    const namespace = ing.metadata.namespace ?? 'default';
    const key = `${namespace}/${ing.metadata.name}`;
    const why = this.options.unserved?.(ing);
    if (why !== undefined) {
      if (!this.unserved.has(key)) this.log(`ingress proxy: Ingress ${key} is not served: ${why}`);
      this.unserved.set(key, why);
      const l = this.listeners.get(key);
      if (l) {
        this.listeners.delete(key);
        void this.close(l);
      }
      return;
    }
    this.unserved.delete(key);
    const existing = this.listeners.get(key);
    if (existing) {
      existing.ingress = ing;
      existing.routes = compileIngress(ing);
      return;
    }
    const server = createServer({ keepAlive: true }, (req, res) => this.handle(l, req, res));
    server.on('clientError', (_err, socket) => socket.destroy());
    server.on('upgrade', (req, socket, head) => {
      const target = this.resolveTarget(l, req);
      const source = this.source();
      const picked =
        target && 'service' in target
          ? this.pickEndpoint(namespace, target.service, target.port, source)
          : undefined;
      if (picked?.unreachable && this.options.policy?.mode !== 'kernel') {
        const timer = setTimeout(
          () => socket.end('HTTP/1.1 504 Gateway Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n'),
          TARGET_CONNECT_TIMEOUT_MS,
        );
        socket.once('close', () => clearTimeout(timer));
        return;
      }
      this.forwarder.tunnel(req, socket, head, picked?.endpoint, source);
    });
    const l: IngressListener = {
      key,
      namespace,
      name: ing.metadata.name,
      ingress: ing,
      routes: compileIngress(ing),
      server,
      sockets: new Set(),
      bound: Promise.resolve(0),
      actions: new Map(),
    };
    server.on('connection', (s: Socket) => {
      l.sockets.add(s);
      s.once('close', () => l.sockets.delete(s));
    });
    l.bound = listen(server, this.host, this.options.ports?.[key] ?? 0, this.log);
    l.bound.then(
      (port) => this.publish(l, port),
      (err) => this.log(`ingress proxy: cannot listen for Ingress ${key}: ${err.message}`),
    );
    this.listeners.set(key, l);
    for (const w of this.waiters.get(key)?.splice(0) ?? []) w();
  }

  private publish(l: IngressListener, port: number): void {
    if (this.listeners.get(l.key) !== l) return;
    const lb = { ingress: [{ ip: this.host, ports: [{ port, protocol: 'TCP' }] }] };
    const current = this.store.get({
      kind: 'Ingress',
      apiVersion: 'networking.k8s.io/v1',
      namespace: l.namespace,
      name: l.name,
    });
    if (!current || JSON.stringify(current.status?.loadBalancer) === JSON.stringify(lb)) return;
    current.status = { ...(current.status ?? {}), loadBalancer: lb };
    delete current.metadata.resourceVersion;
    this.store.updateStatus(current);
  }

  /** Where a request goes: a Service port, a fixed response, or nowhere (404). */
  private resolveTarget(
    l: IngressListener,
    req: IncomingMessage,
  ):
    | { service: string; port: number | string }
    | { fixed: AlbAction & { type: 'fixed-response' } }
    | undefined {
    const backend: IngressBackend | undefined = routeRequest(l.routes, req.headers.host, req.url ?? '/');
    if (!backend?.service) return undefined;
    if (backend.service.port !== USE_ANNOTATION)
      return { service: backend.service.name, port: backend.service.port };
    const name = backend.service.name;
    const text = l.ingress.metadata.annotations?.[`${ALB_ACTION_PREFIX}${name}`];
    if (text === undefined) return undefined;
    let entry = l.actions.get(name);
    if (!entry || entry.text !== text) {
      const action = parseAlbAction(text, `Ingress ${l.key}: annotation ${ALB_ACTION_PREFIX}${name}`);
      entry = {
        text,
        action,
        ...(action.type === 'forward'
          ? {
              wrr: new SmoothWeightedRoundRobin(
                action.targetGroups.map((g) => ({ item: g, weight: g.weight })),
              ),
            }
          : {}),
      };
      l.actions.set(name, entry);
    }
    if (entry.action.type === 'fixed-response') return { fixed: entry.action };
    const group = entry.wrr?.next();
    return group ? { service: group.serviceName, port: group.servicePort } : undefined;
  }

  private handle(l: IngressListener, req: IncomingMessage, res: ServerResponse): void {
    const at = this.forwarder.now();
    let target: ReturnType<IngressProxy['resolveTarget']>;
    try {
      target = this.resolveTarget(l, req);
    } catch (err) {
      this.log(`ingress proxy: ${(err as Error).message}`);
      req.resume();
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
      return;
    }
    if (!target) {
      req.resume();
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end(`no rule of Ingress ${l.key} matches ${req.headers.host ?? ''}${req.url}\n`);
      return;
    }
    if ('fixed' in target) {
      req.resume();
      res
        .writeHead(target.fixed.statusCode, { 'content-type': target.fixed.contentType })
        .end(target.fixed.messageBody);
      return;
    }
    const source = this.source();
    const picked = this.pickEndpoint(l.namespace, target.service, target.port, source);
    const policy = this.options.policy;
    if (picked?.unreachable && policy?.mode === 'kernel') {
      // The verdict is the store's as of now: let the kernel's rules catch up before its SYN leaves.
      void policy.synced().then(() => this.forwardTo(l, req, res, target, picked, source, at));
      return;
    }
    this.forwardTo(l, req, res, target, picked, source, at);
  }

  private forwardTo(
    l: IngressListener,
    req: IncomingMessage,
    res: ServerResponse,
    target: { service: string; port: number | string },
    picked: { endpoint: Endpoint; unreachable: boolean } | undefined,
    source: string | undefined,
    at: { receivedAt: number; t: number },
  ): void {
    const ep = picked?.endpoint;
    this.forwarder.forward(req, res, ep, {
      countAs: [...new Set([`${l.namespace}/${target.service}`, l.key])],
      version: ep ? this.table.versionOf(ep.pod) : 'unknown',
      ...at,
      noEndpointMessage: `no ready endpoints for Service ${l.namespace}/${target.service} port ${target.port} (Ingress ${l.key})\n`,
      ...(source ? { localAddress: source } : {}),
      connectTimeoutMs: TARGET_CONNECT_TIMEOUT_MS,
      // A new connection meets the kernel's rules; without them the timeout it would meet is played here.
      ...(picked?.unreachable
        ? {
            unreachable: this.options.policy?.mode === 'kernel' ? ('connect' as const) : ('emulate' as const),
          }
        : {}),
    });
  }

  /** The address this request leaves from: the load balancer's addresses in turn. */
  private source(): string | undefined {
    const all = this.options.sources?.() ?? [];
    if (all.length === 0) return undefined;
    return all[this.nextSource++ % all.length];
  }

  /**
   * A target the load balancer may reach; when the policies close every target to it, any target
   * (an ALB routes to all targets when none is healthy), marked unreachable.
   */
  private pickEndpoint(
    namespace: string,
    service: string,
    port: number | string,
    source: string | undefined,
  ): { endpoint: Endpoint; unreachable: boolean } | undefined {
    const policy = this.options.policy;
    if (!policy) {
      const endpoint = this.table.pick(namespace, service, port);
      return endpoint ? { endpoint, unreachable: false } : undefined;
    }
    const from = source ?? this.host;
    const allowed = this.table.pick(namespace, service, port, (e) => policy.allows(from, e));
    if (allowed) return { endpoint: allowed, unreachable: false };
    const any = this.table.pick(namespace, service, port);
    return any ? { endpoint: any, unreachable: true } : undefined;
  }

  private async close(l: IngressListener): Promise<void> {
    for (const s of l.sockets) s.destroy();
    await closeServer(l.server);
  }
}
