import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { KubeObject } from '../../kube/object.ts';
import type { ObjectStore, WatchEvent } from '../store/object-store.ts';
import type { Endpoint, EndpointTable } from './endpoint-table.ts';
import { type HttpForwarder, pipeBoth } from './http-forwarder.ts';
import { closeServer, listen } from './listen.ts';
import type { ConnectionPolicy } from './network-policy-enforcer.ts';
import { HOST_ADDRESS } from './network-policy-ruleset.ts';
import type { TrafficFaults } from './traffic-faults.ts';

/** A layer-7 router that may take a Service port's HTTP requests (Istio's rules: twin/traffic-policy/istio). */
export interface ServiceRouting {
  /** True when it took the request; false: the proxy forwards it as kube-proxy would. */
  handle(
    listener: { namespace: string; name: string; port: number },
    req: IncomingMessage,
    res: ServerResponse,
  ): boolean;
}

/** How long a new connection may stay silent before it is taken for a server-speaks-first protocol. */
const SNIFF_TIMEOUT_MS = 250;
const HTTP_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];

interface Listener {
  /** "namespace/name" of the Service. */
  service: string;
  namespace: string;
  name: string;
  ip: string;
  port: number;
  /** The Service port's name (or number when unnamed), as EndpointTable takes it. */
  portRef: number | string;
  server: Server;
  http: HttpServer;
  bound: Promise<number>;
  sockets: Set<Socket>;
}

/**
 * kube-proxy for the twin: each port of a ClusterIP Service is a listener on clusterIP:port. HTTP/1.x
 * is proxied per request (so traffic is counted per version and balanced per request); anything else
 * is piped at L4 to one endpoint per connection. Endpoints are chosen round-robin among ready ones.
 *
 * NetworkPolicy: the proxy connects to the endpoint from the client's own address (as kube-proxy's
 * DNAT keeps the source), so the kernel's rules judge the pod-to-pod connection, and it picks only
 * endpoints the policies let the client reach. A client denied every endpoint gets no answer; with
 * kernel enforcement its connection to the Service IP is dropped before it is established.
 *
 * Twin simplification: kube-proxy balances connections, not requests, and adds no headers; the twin
 * balances HTTP per request and adds X-Forwarded-For. sessionAffinity, UDP and SCTP ports are ignored.
 * Twin simplification: where the policies deny a client some endpoints but not all, kube-proxy would
 * still send a share of its connections to the denied ones (they time out); the twin skips them.
 */
export class ServiceProxy {
  private readonly listeners = new Map<string, Listener>();
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly table: EndpointTable,
    private readonly forwarder: HttpForwarder,
    private readonly log: (message: string) => void = () => {},
    private readonly policy?: ConnectionPolicy,
    private readonly faults?: TrafficFaults,
    /** Istio's rules (the traffic-policy engine) where Istio is installed; they take the requests they apply to. */
    private readonly routing?: ServiceRouting,
  ) {}

  start(): void {
    this.unwatch = this.store.watch({ kind: 'Service' }, (e) => this.onService(e));
    for (const svc of this.store.list({ kind: 'Service' })) this.sync(svc);
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map((l) => this.close(l)));
  }

  /** host:port a Service port listens on (the port may differ from the Service's when it could not be bound). */
  async address(
    namespace: string,
    name: string,
    port?: number | string,
  ): Promise<{ host: string; port: number } | undefined> {
    const mine = [...this.listeners.values()].filter((l) => l.namespace === namespace && l.name === name);
    const l =
      port === undefined
        ? mine[0]
        : mine.find((x) => (typeof port === 'number' ? x.port === port : x.portRef === port));
    if (!l) return undefined;
    return { host: l.ip, port: await l.bound };
  }

  private onService(e: WatchEvent): void {
    if (e.type === 'DELETED') this.sync(e.object, true);
    else this.sync(e.object);
  }

  private sync(svc: KubeObject, deleted = false): void {
    const ns = svc.metadata.namespace ?? 'default';
    const service = `${ns}/${svc.metadata.name}`;
    const ip: string | undefined = svc.spec?.clusterIP;
    const wanted = new Map<string, { port: number; portRef: number | string }>();
    if (!deleted && ip && ip !== 'None' && (svc.spec?.type ?? 'ClusterIP') !== 'ExternalName') {
      for (const p of (svc.spec?.ports ?? []) as any[]) {
        if ((p.protocol ?? 'TCP') !== 'TCP' || typeof p.port !== 'number') continue;
        wanted.set(`${ip}:${p.port}`, { port: p.port, portRef: p.name ? p.name : p.port });
      }
    }
    for (const [key, l] of this.listeners) {
      if (l.service !== service) continue;
      const w = wanted.get(key);
      if (w) {
        l.portRef = w.portRef;
        wanted.delete(key);
      } else {
        this.listeners.delete(key);
        void this.close(l);
      }
    }
    for (const [key, w] of wanted) {
      if (this.listeners.has(key)) {
        this.log(
          `service proxy: ${key} is already used by ${this.listeners.get(key)!.service}; ${service} not served there`,
        );
        continue;
      }
      this.open(key, service, ns, svc.metadata.name, ip!, w.port, w.portRef);
    }
  }

  private open(
    key: string,
    service: string,
    namespace: string,
    name: string,
    ip: string,
    port: number,
    portRef: number | string,
  ): void {
    const http = createHttpServer({ keepAlive: true }, (req, res) => {
      if (this.routing?.handle({ namespace, name, port }, req, res)) return;
      const at = this.forwarder.now();
      const client = req.socket.remoteAddress ?? HOST_ADDRESS;
      const ep = this.pick(l, client);
      if (ep === 'denied') return this.hold(req.socket);
      this.forwarder.forward(req, res, ep, {
        countAs: [service],
        version: ep ? this.table.versionOf(ep.pod) : 'unknown',
        ...at,
        noEndpointMessage: `no ready endpoints for Service ${service} port ${l.portRef}\n`,
        ...sourceOf(client),
        transparent: true,
      });
    });
    http.on('upgrade', (req, socket, head) => {
      const client = req.socket.remoteAddress ?? HOST_ADDRESS;
      const ep = this.pick(l, client);
      if (ep === 'denied') return this.hold(socket as Socket);
      this.forwarder.tunnel(req, socket, head, ep, sourceOf(client).localAddress);
    });
    http.on('clientError', (_err, socket) => socket.destroy());
    const server = createServer({ noDelay: true }, (socket) => this.onConnection(l, socket));
    const l: Listener = {
      service,
      namespace,
      name,
      ip,
      port,
      portRef,
      server,
      http,
      bound: Promise.resolve(port),
      sockets: new Set(),
    };
    l.bound = listen(server, ip, port, this.log).catch((err) => {
      this.log(`service proxy: cannot listen on ${ip}:${port} for Service ${service}: ${err.message}`);
      throw err;
    });
    l.bound.catch(() => {});
    this.listeners.set(key, l);
  }

  private onConnection(l: Listener, socket: Socket): void {
    l.sockets.add(socket);
    socket.once('close', () => l.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let decided = false;
    const decide = (chunk: Buffer | undefined) => {
      if (decided) return;
      decided = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      if (socket.destroyed) return;
      if (chunk && looksLikeHttp(chunk)) {
        socket.unshift(chunk);
        l.http.emit('connection', socket);
        socket.resume();
      } else {
        this.pipeL4(l, socket, chunk);
      }
    };
    let buffered: Buffer | undefined;
    const onData = (chunk: Buffer) => {
      buffered = buffered ? Buffer.concat([buffered, chunk]) : chunk;
      if (buffered.length >= 8 || !couldBeHttp(buffered)) decide(buffered);
    };
    const timer = setTimeout(() => decide(buffered), SNIFF_TIMEOUT_MS);
    socket.on('data', onData);
  }

  /** The next endpoint the client may reach; 'denied' when the policies deny it every ready endpoint. */
  private pick(l: Listener, client: string): Endpoint | undefined | 'denied' {
    const policy = this.policy;
    if (!policy) return this.table.pick(l.namespace, l.name, l.portRef);
    const ep = this.table.pick(l.namespace, l.name, l.portRef, (e) => policy.allows(client, e));
    if (!ep && this.table.endpoints(l.namespace, l.name, l.portRef).length > 0) return 'denied';
    return ep;
  }

  /**
   * A connection the policies deny: on a cluster its SYN is dropped and the client's connect times
   * out. Here it was accepted already (the kernel rules drop it before when they are installed), so
   * it gets no answer until the client gives up, or until Linux would have given up connecting.
   */
  private hold(socket: Socket): void {
    socket.pause();
    const timer = setTimeout(() => socket.destroy(), HOLD_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  private pipeL4(l: Listener, socket: Socket, first: Buffer | undefined): void {
    const client = socket.remoteAddress ?? HOST_ADDRESS;
    const ep = this.pick(l, client);
    if (ep === 'denied') {
      this.hold(socket);
      return;
    }
    if (!ep) {
      socket.destroy();
      return;
    }
    // Twin simplification: faults on a piped (non-HTTP) connection delay its setup or hold it, not each packet.
    const effect = this.faults?.effect({ pod: ep.pod, port: ep.port, client });
    if (effect?.unreachable) {
      this.hold(socket);
      return;
    }
    const open = () => {
      if (socket.destroyed) return;
      const upstream = connect({ host: ep.ip, port: ep.port, noDelay: true, ...sourceOf(client) });
      if (first) upstream.write(first);
      pipeBoth(socket, upstream);
      socket.resume();
    };
    if (effect && effect.delayMs > 0) setTimeout(open, effect.delayMs);
    else open();
  }

  private async close(l: Listener): Promise<void> {
    for (const s of l.sockets) s.destroy();
    await closeServer(l.server);
  }
}

/** Linux gives up a connect whose SYNs are dropped after about 127 s (net.ipv4.tcp_syn_retries = 6). */
const HOLD_MS = 127_000;

/** Connect from the client's own address (a pod's), as the DNATed packet keeps its source; the host needs no binding. */
function sourceOf(client: string): { localAddress?: string } {
  const ip = client.replace(/^::ffff:/, '');
  return ip && ip !== HOST_ADDRESS && ip.startsWith('127.') ? { localAddress: ip } : {};
}

function couldBeHttp(buf: Buffer): boolean {
  const head = buf.toString('latin1', 0, Math.min(buf.length, 8));
  return HTTP_METHODS.some((m) => `${m} `.startsWith(head) || head.startsWith(`${m} `));
}

function looksLikeHttp(buf: Buffer): boolean {
  const head = buf.toString('latin1', 0, Math.min(buf.length, 8));
  return HTTP_METHODS.some((m) => head.startsWith(`${m} `));
}
