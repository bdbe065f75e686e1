import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeObject, type KubeObject } from '../../../kube/object.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import { PolicyRouter, type RoutedResult } from '../policy-router.ts';
import type { Route, RouteTable, Upstream } from '../route-table.ts';
import { UpstreamCluster } from '../upstream-cluster.ts';
import { clusterPolicy } from './destination-rule.ts';
import { INGRESS_GATEWAY_LABELS } from './ingress-gateway.ts';
import { hostMatches, hostOfAuthority, serviceFqdn, serviceOfHost } from './istio-host.ts';
import { type IstioDestination, istioRetry, virtualServiceRoutes } from './virtual-service.ts';

const GROUP = 'networking.istio.io';

/** A Service port the twin's Service proxy listens on. */
export interface ServicePort {
  namespace: string;
  name: string;
  port: number;
}

export interface IstioRoutingOptions {
  store: ObjectStore;
  /** Ready endpoints of a Service port (EndpointTable). */
  endpoints: (namespace: string, service: string, port: number) => Upstream[];
  log: (message: string) => void;
  /** Counts a request the engine routed (traffic metrics). */
  record?: (listener: ServicePort, r: RoutedResult, latencyMs: number) => void;
  random?: () => number;
}

/**
 * Istio's traffic rules on the twin: VirtualServices, DestinationRules and Gateways from the store,
 * played with the traffic-policy engine. Two places apply them, as Istio's proxies do:
 * - the ingress gateway Service (istio-system/istio-ingressgateway): Gateways whose selector matches
 *   it open their servers' ports and hosts; VirtualServices bound to those Gateways route them;
 * - mesh traffic: a VirtualService without `gateways` (or naming `mesh`) applies to requests to its
 *   hosts' Services from clients with a sidecar (namespace label istio-injection=enabled, or the pod
 *   annotation/label sidecar.istio.io/inject=true); a client without a sidecar is not routed by Istio.
 * A rule the engine cannot play (an unimplemented field) is logged with its field and not applied;
 * requests it would have routed are answered 500 with the reason, so it never passes silently.
 *
 * Twin simplification: the rules act in the Service proxy (one place for every client), not in a
 * sidecar per pod, and mesh rules go to the endpoints without the destination's own sidecar.
 */
export class IstioRouting {
  private readonly router: PolicyRouter;
  private readonly clusters = new Map<string, { key: string; cluster: UpstreamCluster }>();
  private readonly unwatch: Array<() => void> = [];
  private readonly reported = new Set<string>();
  /** The Istio objects by kind, oldest first, as last read (dropped on every change of that kind). */
  private readonly cache = new Map<string, KubeObject[]>();
  /** Pods by address, for the sidecar check of mesh clients. */
  private readonly podsByIp = new Map<string, KubeObject>();

  constructor(private readonly o: IstioRoutingOptions) {
    this.router = new PolicyRouter({
      clusters: (name) => this.clusters.get(name)?.cluster,
      ...(o.random ? { random: o.random } : {}),
      localAddress: (req) => {
        const ip = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
        return ip.startsWith('127.10.') ? ip : undefined;
      },
    });
  }

  start(): void {
    for (const kind of ['VirtualService', 'DestinationRule', 'Gateway']) {
      this.unwatch.push(
        this.o.store.watch({ apiVersion: `${GROUP}/v1`, kind }, () => {
          this.cache.delete(kind);
          this.reported.clear();
        }),
      );
    }
    const track = (pod: KubeObject, gone: boolean) => {
      for (const [ip, p] of this.podsByIp) if (p.metadata.uid === pod.metadata.uid) this.podsByIp.delete(ip);
      const ip = pod.status?.podIP;
      if (!gone && ip) this.podsByIp.set(ip, pod);
    };
    this.unwatch.push(this.o.store.watch({ kind: 'Pod' }, (e) => track(e.object, e.type === 'DELETED')));
    for (const pod of this.o.store.list({ kind: 'Pod' })) track(pod, false);
  }

  stop(): void {
    for (const u of this.unwatch.splice(0)) u();
    for (const c of this.clusters.values()) c.cluster.close();
    this.clusters.clear();
  }

  /** Routes the request when Istio's rules apply to it at this Service port; false: kube-proxy forwards it. */
  handle(listener: ServicePort, req: IncomingMessage, res: ServerResponse): boolean {
    const svc = this.o.store.peek({
      apiVersion: 'v1',
      kind: 'Service',
      namespace: listener.namespace,
      name: listener.name,
    });
    if (!svc) return false;
    let table: RouteTable | undefined;
    try {
      table = isIngressGateway(svc) ? this.gatewayTable(svc, listener, req) : this.meshTable(listener, req);
    } catch (err) {
      const message = (err as Error).message;
      if (!this.reported.has(message)) {
        this.reported.add(message);
        this.o.log(`istio: ${message}; the rule is not applied`);
      }
      req.resume();
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`twin: Istio rule not applied: ${message}\n`);
      return true;
    }
    if (!table) return false;
    const t0 = performance.now();
    const record = this.o.record;
    this.router.handle(
      req,
      res,
      table,
      record ? (r) => record(listener, r, performance.now() - t0) : undefined,
    );
    return true;
  }

  private gatewayTable(svc: KubeObject, listener: ServicePort, req: IncomingMessage): RouteTable {
    const host = hostOfAuthority(req.headers.host ?? '');
    const targetPort = ((svc.spec?.ports ?? []) as any[]).find((p) => p.port === listener.port)?.targetPort;
    const gateways = this.list('Gateway').filter((gw) => {
      const sel = (gw.spec?.selector ?? {}) as Record<string, string>;
      const labels = svc.metadata.labels ?? {};
      if (!Object.entries(sel).every(([k, v]) => labels[k] === v)) return false;
      return ((gw.spec?.servers ?? []) as any[]).some(
        (s) =>
          (s.port?.number === listener.port || s.port?.number === targetPort) &&
          ((s.hosts ?? []) as string[]).some((h) =>
            hostMatches(h.includes('/') ? h.split('/')[1]! : h, host),
          ),
      );
    });
    const names = new Set(gateways.map((g) => `${g.metadata.namespace}/${g.metadata.name}`));
    for (const gw of gateways) {
      for (const s of (gw.spec?.servers ?? []) as any[]) {
        if (s.port?.number !== listener.port && s.port?.number !== targetPort) continue;
        if (s.tls?.httpsRedirect)
          return {
            source: describeObject(gw),
            routes: [
              {
                name: `${describeObject(gw)} httpsRedirect`,
                matches: [],
                action: { type: 'redirect', scheme: 'https', status: 301 },
              },
            ],
          };
        const protocol = String(s.port?.protocol ?? '').toUpperCase();
        if (!['HTTP', 'HTTP2'].includes(protocol))
          throw new Error(
            `${describeObject(gw)}: spec.servers[].port.protocol ${protocol}: only HTTP servers are implemented by the twin's gateway`,
          );
      }
    }
    const vs = this.list('VirtualService').find(
      (v) =>
        ((v.spec?.gateways ?? []) as string[]).some((g) =>
          names.has(g.includes('/') ? g : `${v.metadata.namespace}/${g}`),
        ) && ((v.spec?.hosts ?? []) as string[]).some((h) => hostMatches(h, host)),
    );
    const source = vs ? describeObject(vs) : `istio ingress gateway ${listener.port}`;
    return { source, routes: vs ? this.routesOf(vs) : [] };
  }

  private meshTable(listener: ServicePort, req: IncomingMessage): RouteTable | undefined {
    if (!this.hasSidecar((req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''))) return undefined;
    const vs = this.list('VirtualService').find((v) => {
      const gws = (v.spec?.gateways ?? []) as string[];
      if (gws.length > 0 && !gws.includes('mesh')) return false;
      return ((v.spec?.hosts ?? []) as string[]).some((h) => {
        const s = serviceOfHost(h, v.metadata.namespace ?? 'default');
        return s?.namespace === listener.namespace && s.name === listener.name;
      });
    });
    if (vs) return { source: describeObject(vs), routes: this.routesOf(vs) };
    // Without a VirtualService the sidecar still routes the Service with istiod's default retries.
    const dest: IstioDestination = { host: serviceFqdn(listener), port: listener.port };
    const name = this.cluster(dest, listener.namespace, 'default route');
    const retry = istioRetry(undefined, 'default route', 'retries');
    const route: Route = {
      name: `default route to ${serviceFqdn(listener)}`,
      matches: [],
      action: {
        type: 'route',
        clusters: [{ cluster: name, weight: 100 }],
        timeoutMs: 0,
        ...(retry ? { retry } : {}),
      },
    };
    return { source: route.name, routes: [route] };
  }

  private routesOf(vs: KubeObject): Route[] {
    const ns = vs.metadata.namespace ?? 'default';
    return virtualServiceRoutes(vs, (d, field) => this.cluster(d, ns, `${describeObject(vs)}: ${field}`));
  }

  /** The engine's cluster for a destination ("outbound|port|subset|fqdn", as istiod names it), made or refreshed. */
  private cluster(d: IstioDestination, namespace: string, field: string): string {
    const svc = serviceOfHost(d.host, namespace);
    if (!svc)
      throw new Error(
        `${field}.host: "${d.host}" names no Service of the cluster (ServiceEntry hosts are not implemented)`,
      );
    const service = this.o.store.peek({
      apiVersion: 'v1',
      kind: 'Service',
      namespace: svc.namespace,
      name: svc.name,
    });
    if (!service)
      throw new Error(
        `${field}.host: Service ${svc.namespace}/${svc.name} does not exist; Envoy answers 503 (no cluster)`,
      );
    const ports = (service.spec?.ports ?? []) as any[];
    const port = d.port ?? (ports.length === 1 ? ports[0].port : undefined);
    if (port === undefined || !ports.some((p) => p.port === port))
      throw new Error(
        `${field}.port: Service ${svc.namespace}/${svc.name} has ${ports.length} ports (${ports.map((p) => p.port).join(', ')}); name one of them`,
      );
    const fqdn = serviceFqdn(svc);
    const dr = this.list('DestinationRule').find((r) => {
      const s = serviceOfHost(r.spec?.host ?? '', r.metadata.namespace ?? 'default');
      return s?.namespace === svc.namespace && s.name === svc.name;
    });
    const policy = clusterPolicy(dr, d.subset, field);
    const name = `outbound|${port}|${d.subset ?? ''}|${fqdn}`;
    const key = JSON.stringify(policy);
    const known = this.clusters.get(name);
    if (known?.key === key) return name;
    known?.cluster.close();
    const store = this.o.store;
    const endpoints = this.o.endpoints;
    const labels = policy.labels;
    const cluster = new UpstreamCluster({
      name,
      hosts: () =>
        endpoints(svc.namespace, svc.name, port).filter((ep) => {
          if (Object.keys(labels).length === 0) return true;
          const [pns, pname] = ep.pod.split('/');
          const pod =
            pns && pname
              ? store.peek({ apiVersion: 'v1', kind: 'Pod', namespace: pns, name: pname })
              : undefined;
          const podLabels = pod?.metadata.labels ?? {};
          return Object.entries(labels).every(([k, v]) => podLabels[k] === v);
        }),
      thresholds: policy.thresholds,
      ...(policy.outlier ? { outlier: policy.outlier } : {}),
      connectTimeoutMs: policy.connectTimeoutMs,
      panicThresholdPercent: policy.panicThresholdPercent,
    });
    this.clusters.set(name, { key, cluster });
    return name;
  }

  /** Whether the client at this address has Istio's sidecar: its namespace is labelled for injection, or the pod asks for it. */
  private hasSidecar(ip: string): boolean {
    if (!ip.startsWith('127.10.')) return false;
    const pod = this.podsByIp.get(ip);
    if (!pod) return false;
    const inject =
      pod.metadata.annotations?.['sidecar.istio.io/inject'] ??
      pod.metadata.labels?.['sidecar.istio.io/inject'];
    if (inject === 'false') return false;
    if (inject === 'true') return true;
    const ns = this.o.store.peek({
      apiVersion: 'v1',
      kind: 'Namespace',
      name: pod.metadata.namespace ?? 'default',
    });
    return ns?.metadata.labels?.['istio-injection'] === 'enabled';
  }

  private list(kind: string): KubeObject[] {
    const cached = this.cache.get(kind);
    if (cached) return cached;
    const objects = this.o.store
      .list({ apiVersion: `${GROUP}/v1`, kind })
      .sort(
        (a, b) =>
          String(a.metadata.creationTimestamp ?? '').localeCompare(
            String(b.metadata.creationTimestamp ?? ''),
          ) ||
          `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
            `${b.metadata.namespace}/${b.metadata.name}`,
          ),
      );
    this.cache.set(kind, objects);
    return objects;
  }
}

function isIngressGateway(svc: KubeObject): boolean {
  const l = svc.metadata.labels ?? {};
  return svc.metadata.namespace === 'istio-system' && l.istio === INGRESS_GATEWAY_LABELS.istio;
}
