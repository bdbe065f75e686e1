import type { KubeObject } from '../../kube/object.ts';
import type { ObjectStore, WatchEvent } from '../store/object-store.ts';
import { versionOf } from './pod-version.ts';

/** One ready address of a Service port, as kube-proxy would program it. */
export interface Endpoint {
  ip: string;
  port: number;
  /** "namespace/name" of the pod behind the address ('' when the address has no Pod targetRef). */
  pod: string;
}

interface PortPool {
  endpoints: Endpoint[];
  next: number;
}

interface ServiceEntry {
  service: KubeObject | undefined;
  endpoints: KubeObject | undefined;
  pools: Map<string, PortPool>;
}

/**
 * Ready endpoints of every Service port, from the Service and its v1 Endpoints object, kept current
 * by watches, with a round-robin cursor per port and the version of each pod behind them.
 */
export class EndpointTable {
  private readonly entries = new Map<string, ServiceEntry>();
  private readonly versions = new Map<string, string>();
  private readonly unwatch: Array<() => void> = [];

  constructor(private readonly store: ObjectStore) {}

  start(): void {
    this.unwatch.push(
      this.store.watch({ kind: 'Service' }, (e) => this.invalidate(e)),
      this.store.watch({ kind: 'Endpoints' }, (e) => this.invalidate(e)),
      this.store.watch({ kind: 'Pod' }, (e) => this.onPod(e)),
    );
    for (const pod of this.store.list({ kind: 'Pod' })) this.versions.set(podKey(pod), versionOf(pod));
  }

  stop(): void {
    for (const u of this.unwatch.splice(0)) u();
    this.entries.clear();
  }

  /** Ready endpoints of a Service port given by number or name (the first port when omitted). */
  endpoints(namespace: string, service: string, port?: number | string): Endpoint[] {
    return this.pool(namespace, service, port).endpoints;
  }

  /**
   * The next ready endpoint, round-robin, among those `accept` takes (the ones NetworkPolicy lets the
   * client reach); undefined when there is none.
   */
  pick(
    namespace: string,
    service: string,
    port?: number | string,
    accept?: (ep: Endpoint) => boolean,
  ): Endpoint | undefined {
    const pool = this.pool(namespace, service, port);
    const n = pool.endpoints.length;
    for (let i = 0; i < n; i++) {
      const ep = pool.endpoints[(pool.next + i) % n]!;
      if (accept && !accept(ep)) continue;
      pool.next = (pool.next + i + 1) % n;
      return ep;
    }
    return undefined;
  }

  /** Version label of the pod ("namespace/name") behind an endpoint. */
  versionOf(pod: string): string {
    return this.versions.get(pod) ?? 'unknown';
  }

  private pool(namespace: string, service: string, port: number | string | undefined): PortPool {
    const key = `${namespace}/${service}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = {
        service: this.store.get({ kind: 'Service', namespace, name: service }),
        endpoints: this.store.get({ kind: 'Endpoints', namespace, name: service }),
        pools: new Map(),
      };
      this.entries.set(key, entry);
    }
    const portKey = String(port ?? '');
    let pool = entry.pools.get(portKey);
    if (!pool) {
      pool = { endpoints: readyEndpoints(entry.service, entry.endpoints, port), next: 0 };
      entry.pools.set(portKey, pool);
    }
    return pool;
  }

  private invalidate(e: WatchEvent): void {
    const key = `${e.object.metadata.namespace ?? ''}/${e.object.metadata.name}`;
    const entry = this.entries.get(key);
    if (!entry) return;
    if (e.object.kind === 'Service') entry.service = e.type === 'DELETED' ? undefined : e.object;
    else entry.endpoints = e.type === 'DELETED' ? undefined : e.object;
    // Keep each cursor so that a change does not send the next request back to the first address.
    for (const [portKey, pool] of entry.pools) {
      pool.endpoints = readyEndpoints(
        entry.service,
        entry.endpoints,
        portKey === '' ? undefined : parsePort(portKey),
      );
    }
  }

  private onPod(e: WatchEvent): void {
    if (e.type === 'DELETED') this.versions.delete(podKey(e.object));
    else this.versions.set(podKey(e.object), versionOf(e.object));
  }
}

function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;
}

function parsePort(s: string): number | string {
  return /^\d+$/.test(s) ? Number(s) : s;
}

/** The Service port a backend names, by number or name; the first port when none is given. */
export function servicePortOf(
  service: KubeObject | undefined,
  port: number | string | undefined,
): any | undefined {
  const ports: any[] = service?.spec?.ports ?? [];
  if (port === undefined || port === '') return ports[0];
  return typeof port === 'number' ? ports.find((p) => p.port === port) : ports.find((p) => p.name === port);
}

/**
 * Ready addresses × the Endpoints port named like the Service port. The Endpoints controller has
 * already resolved named targetPorts, so the port numbers here are the pods' container ports.
 */
export function readyEndpoints(
  service: KubeObject | undefined,
  endpoints: KubeObject | undefined,
  port: number | string | undefined,
): Endpoint[] {
  if (!endpoints) return [];
  const sp = servicePortOf(service, port);
  if (service && !sp) return [];
  const wantName: string = sp?.name ?? (typeof port === 'string' ? port : '');
  const out: Endpoint[] = [];
  for (const subset of (endpoints.subsets ?? []) as any[]) {
    const ports: any[] = subset.ports ?? [];
    let ep = ports.find((p) => (p.name ?? '') === wantName);
    if (!ep && ports.length === 1 && (!service || (service.spec?.ports ?? []).length <= 1)) ep = ports[0];
    if (!ep && !service && typeof port === 'number') ep = ports.find((p) => p.port === port);
    if (!ep || (ep.protocol !== undefined && ep.protocol !== 'TCP')) continue;
    for (const a of (subset.addresses ?? []) as any[]) {
      if (!a.ip) continue;
      const ref = a.targetRef;
      const pod =
        ref?.kind === 'Pod' ? `${ref.namespace ?? endpoints.metadata.namespace ?? ''}/${ref.name}` : '';
      out.push({ ip: a.ip, port: ep.port, pod });
    }
  }
  return out;
}
