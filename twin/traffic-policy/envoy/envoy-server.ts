import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { PolicyRouter } from '../policy-router.ts';
import type { RouteTable, Upstream } from '../route-table.ts';
import { UpstreamCluster } from '../upstream-cluster.ts';
import type {
  ClusterDefinition,
  DataSource,
  EnvoyBootstrap,
  ListenerSpec,
  VirtualHostSpec,
} from './envoy-bootstrap.ts';
import { LocalRateLimiter } from './local-rate-limit.ts';

type Lookup = (
  hostname: string,
  options: LookupAllOptions,
  cb: (err: Error | null, addresses: LookupAddress[]) => void,
) => void;

export interface EnvoyServerOptions {
  /** Reads a file the configuration names (a mounted certificate), as a path inside the container. */
  readFile: (path: string) => Buffer;
  /** The address to bind for 0.0.0.0 (the pod's own, on the twin). */
  wildcardHost?: string;
  lookup?: Lookup;
  log?: (message: string) => void;
  random?: () => number;
}

/** A cluster whose hosts come from its endpoints: as written (STATIC) or resolved through DNS every dns_refresh_rate. */
class ResolvedCluster {
  hosts: Upstream[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly def: ClusterDefinition,
    private readonly lookup: Lookup,
    private readonly log: (m: string) => void,
  ) {}

  async start(): Promise<void> {
    await this.resolve();
    if (this.def.type !== 'STATIC') {
      this.timer = setInterval(() => void this.resolve(), this.def.dnsRefreshMs);
      this.timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async resolve(): Promise<void> {
    if (this.def.type === 'STATIC') {
      this.hosts = this.def.endpoints.map((e) => ({ ip: e.address, port: e.port, pod: '' }));
      return;
    }
    const next: Upstream[] = [];
    for (const e of this.def.endpoints) {
      try {
        const addrs = await new Promise<LookupAddress[]>((resolve, reject) =>
          this.lookup(e.address, { all: true, family: 4 }, (err, a) => (err ? reject(err) : resolve(a))),
        );
        // LOGICAL_DNS uses the first address only; STRICT_DNS every address the name resolves to.
        for (const a of this.def.type === 'LOGICAL_DNS' ? addrs.slice(0, 1) : addrs)
          next.push({ ip: a.address, port: e.port, pod: '' });
      } catch (err) {
        this.log(
          `envoy: cluster ${this.def.name}: DNS resolution of ${e.address} failed: ${(err as Error).message}`,
        );
      }
    }
    // Envoy keeps the last good hosts when a resolution fails.
    if (next.length > 0 || this.hosts.length === 0) this.hosts = next;
  }
}

/**
 * Envoy as the twin runs it: the listeners, clusters and admin endpoint of a bootstrap, served with the
 * traffic-policy engine. Each listener picks the virtual host by the Host header (exact domain, then the
 * longest `*.suffix`, then the longest `prefix.*`, then `*`), redirects to https where the virtual host
 * requires TLS and the request came in plain, applies the local rate limit, then routes.
 */
export class EnvoyServer {
  private readonly clusters = new Map<string, { resolved: ResolvedCluster; runtime: UpstreamCluster }>();
  private readonly servers: Server[] = [];
  private readonly router: PolicyRouter;
  private readonly log: (m: string) => void;
  readonly addresses = new Map<string, { host: string; port: number }>();

  constructor(
    private readonly bootstrap: EnvoyBootstrap,
    private readonly o: EnvoyServerOptions,
  ) {
    this.log = o.log ?? (() => {});
    for (const def of bootstrap.clusters) {
      const resolved = new ResolvedCluster(def, o.lookup ?? (dnsLookup as unknown as Lookup), this.log);
      const runtime = new UpstreamCluster({
        name: def.name,
        hosts: () => resolved.hosts,
        thresholds: def.thresholds,
        ...(def.outlier ? { outlier: def.outlier } : {}),
        connectTimeoutMs: def.connectTimeoutMs,
        panicThresholdPercent: def.panicThresholdPercent,
      });
      this.clusters.set(def.name, { resolved, runtime });
    }
    this.router = new PolicyRouter({
      clusters: (n) => this.clusters.get(n)?.runtime,
      ...(o.random ? { random: o.random } : {}),
    });
  }

  async start(): Promise<void> {
    await Promise.all([...this.clusters.values()].map((c) => c.resolved.start()));
    for (const l of this.bootstrap.listeners)
      await this.listen(l.name, l.address, l.port, this.handlerFor(l), l);
    const admin = this.bootstrap.admin;
    if (admin)
      await this.listen('admin', admin.address, admin.port, (req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        if (path === '/ready') return reply(res, 200, 'LIVE\n');
        if (path === '/server_info')
          return reply(res, 200, JSON.stringify({ version: 'twin', state: 'LIVE' }));
        reply(res, 404, 'invalid path\n');
      });
  }

  async stop(): Promise<void> {
    for (const c of this.clusters.values()) {
      c.resolved.stop();
      c.runtime.close();
    }
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise((r) => {
            s.closeAllConnections();
            s.close(r);
          }),
      ),
    );
  }

  private handlerFor(l: ListenerSpec): (req: IncomingMessage, res: ServerResponse) => void {
    const limiter = l.rateLimit ? new LocalRateLimiter(l.rateLimit, undefined, this.o.random) : undefined;
    const tables = new Map<VirtualHostSpec, RouteTable>(
      l.virtualHosts.map((vh) => [vh, { source: `${l.name} ${vh.name}`, routes: vh.routes }]),
    );
    const tls = l.tls !== undefined;
    return (req, res) => {
      const vh = selectVirtualHost(l.virtualHosts, req.headers.host ?? '');
      if (!vh) {
        req.resume();
        return reply(res, 404, '');
      }
      if (vh.requireTls !== 'NONE' && !tls) {
        req.resume();
        const host = (req.headers.host ?? '').replace(/:\d+$/, '');
        res.writeHead(301, { location: `https://${host}${req.url ?? '/'}`, 'content-length': 0 });
        return res.end();
      }
      if (limiter && !limiter.admit()) {
        req.resume();
        for (const [k, v] of l.rateLimit!.responseHeaders) res.setHeader(k, v);
        return reply(res, 429, 'local_rate_limited');
      }
      this.router.handle(req, res, tables.get(vh)!);
    };
  }

  private async listen(
    name: string,
    address: string,
    port: number,
    handler: (req: IncomingMessage, res: ServerResponse) => void,
    l?: ListenerSpec,
  ): Promise<void> {
    const server = l?.tls
      ? createHttpsServer(
          {
            cert: this.source(l.tls.certificateChain),
            key: this.source(l.tls.privateKey),
            ...(l.tls.alpn.length > 0 ? { ALPNProtocols: l.tls.alpn.filter((p) => p === 'http/1.1') } : {}),
          },
          handler,
        )
      : createHttpServer({ keepAlive: true }, handler);
    const host = address === '0.0.0.0' || address === '::' ? (this.o.wildcardHost ?? address) : address;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address();
    this.addresses.set(name, { host, port: typeof a === 'object' && a ? a.port : port });
    this.servers.push(server);
  }

  private source(s: DataSource): Buffer {
    return 'inline' in s ? Buffer.from(s.inline) : this.o.readFile(s.filename);
  }
}

/** Envoy's virtual host selection by the Host header: exact, then the longest suffix wildcard, then the longest prefix wildcard, then "*". */
export function selectVirtualHost(
  hosts: readonly VirtualHostSpec[],
  authority: string,
): VirtualHostSpec | undefined {
  const candidates = [authority.toLowerCase(), authority.toLowerCase().replace(/:\d+$/, '')];
  for (const h of candidates) {
    const exact = hosts.find((vh) => vh.domains.some((d) => d.toLowerCase() === h));
    if (exact) return exact;
    let best: { vh: VirtualHostSpec; len: number } | undefined;
    for (const vh of hosts)
      for (const d of vh.domains) {
        const dl = d.toLowerCase();
        if (dl.startsWith('*') && dl.length > 1 && h.endsWith(dl.slice(1)) && (!best || dl.length > best.len))
          best = { vh, len: dl.length };
      }
    if (best) return best.vh;
    for (const vh of hosts)
      for (const d of vh.domains) {
        const dl = d.toLowerCase();
        if (
          dl.endsWith('*') &&
          dl.length > 1 &&
          h.startsWith(dl.slice(0, -1)) &&
          (!best || dl.length > best.len)
        )
          best = { vh, len: dl.length };
      }
    if (best) return best.vh;
  }
  return hosts.find((vh) => vh.domains.includes('*'));
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
