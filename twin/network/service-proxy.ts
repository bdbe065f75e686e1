import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { KubeObject } from '../../kube/object.ts';
import type { ObjectStore, WatchEvent } from '../store/object-store.ts';
import type { EndpointTable } from './endpoint-table.ts';
import { type HttpForwarder, pipeBoth } from './http-forwarder.ts';
import { closeServer, listen } from './listen.ts';

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
 * Twin simplification: kube-proxy balances connections, not requests, and adds no headers; the twin
 * balances HTTP per request and adds X-Forwarded-For. sessionAffinity, UDP and SCTP ports are ignored.
 */
export class ServiceProxy {
  private readonly listeners = new Map<string, Listener>();
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly table: EndpointTable,
    private readonly forwarder: HttpForwarder,
    private readonly log: (message: string) => void = () => {},
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
      const at = this.forwarder.now();
      const ep = this.table.pick(namespace, name, l.portRef);
      this.forwarder.forward(req, res, ep, {
        countAs: [service],
        version: ep ? this.table.versionOf(ep.pod) : 'unknown',
        ...at,
        noEndpointMessage: `no ready endpoints for Service ${service} port ${l.portRef}\n`,
      });
    });
    http.on('upgrade', (req, socket, head) =>
      this.forwarder.tunnel(req, socket, head, this.table.pick(namespace, name, l.portRef)),
    );
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

  private pipeL4(l: Listener, socket: Socket, first: Buffer | undefined): void {
    const ep = this.table.pick(l.namespace, l.name, l.portRef);
    if (!ep) {
      socket.destroy();
      return;
    }
    const upstream = connect({ host: ep.ip, port: ep.port, noDelay: true });
    if (first) upstream.write(first);
    pipeBoth(socket, upstream);
    socket.resume();
  }

  private async close(l: Listener): Promise<void> {
    for (const s of l.sockets) s.destroy();
    await closeServer(l.server);
  }
}

function couldBeHttp(buf: Buffer): boolean {
  const head = buf.toString('latin1', 0, Math.min(buf.length, 8));
  return HTTP_METHODS.some((m) => `${m} `.startsWith(head) || head.startsWith(`${m} `));
}

function looksLikeHttp(buf: Buffer): boolean {
  const head = buf.toString('latin1', 0, Math.min(buf.length, 8));
  return HTTP_METHODS.some((m) => head.startsWith(`${m} `));
}
