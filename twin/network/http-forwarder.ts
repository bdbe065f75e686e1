import { Agent, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Clock } from '../../kube/clock.ts';
import type { Endpoint } from './endpoint-table.ts';
import type { TrafficFaults } from './traffic-faults.ts';
import type { TrafficMetrics } from './traffic-metrics.ts';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export interface ForwardOptions {
  /** Where the request is counted ("namespace/name" of each Service or Ingress it went through). */
  countAs: string[];
  /** Version of the pod behind the endpoint. */
  version: string;
  /** performance.now() and control-plane time when the request was received. */
  receivedAt: number;
  t: number;
  /** Text of the 503 answer when there is no endpoint. */
  noEndpointMessage: string;
  /** The address to connect from: the client's own, so that the pod and NetworkPolicy see who connects. */
  localAddress?: string;
  /** Real milliseconds the connection to the pod may take before the request fails with 504. */
  connectTimeoutMs?: number;
  /**
   * The policies deny the connection. 'connect': open a new connection (never a pooled one), whose SYN
   * the kernel's rules drop; 'emulate' (no kernel rules): answer what the client would see once that
   * connection timed out, 504 after connectTimeoutMs.
   */
  unreachable?: 'connect' | 'emulate';
  /**
   * The proxy is transparent at L4 (kube-proxy): when the pod's server aborts a connection (HTTPChaos
   * abort) the client sees the reset itself; an L7 load balancer answers 502 instead.
   */
  transparent?: boolean;
  /** Why the endpoint is unreachable, for the 504's text (default: NetworkPolicy). */
  unreachableWhy?: string;
}

/**
 * Forwards HTTP/1.x requests to pod endpoints over keep-alive connections, as an L7 proxy: hop-by-hop
 * headers are dropped, X-Forwarded-For is added, and every request is counted in TrafficMetrics when
 * its response ends (502 when the pod refuses the connection, 503 without an endpoint, 504 on timeout).
 */
export class HttpForwarder {
  private readonly agents = new Map<string, Agent>();

  constructor(
    private readonly metrics: TrafficMetrics,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly timeoutMs = 60_000,
    /** Network faults in effect on the pods' traffic (NetworkChaos / HTTPChaos). */
    private readonly faults?: TrafficFaults,
  ) {}

  forward(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: Endpoint | undefined,
    o: ForwardOptions,
  ): void {
    let recorded = false;
    const done = (status: number, error?: string) => {
      if (recorded) return;
      recorded = true;
      const latencyMs = performance.now() - o.receivedAt;
      const pod = endpoint?.pod ?? '';
      for (const service of o.countAs) {
        this.metrics.record({
          t: o.t,
          service,
          version: o.version,
          pod,
          status,
          latencyMs,
          ...(error ? { error } : {}),
        });
      }
    };
    if (!endpoint) {
      req.resume();
      respond(res, 503, o.noEndpointMessage);
      done(503, 'no ready endpoint');
      return;
    }
    const effect = this.faults?.effect({
      pod: endpoint.pod,
      port: endpoint.port,
      client: req.socket.remoteAddress ?? '',
      ...(req.method ? { method: req.method } : {}),
      ...(req.url ? { path: req.url } : {}),
    });
    if (effect?.unreachable) {
      // The request never reaches the pod: what a client meets when its SYNs are dropped.
      this.connect(
        req,
        res,
        endpoint,
        { ...o, unreachable: 'emulate', unreachableWhy: effect.by.join(', ') },
        done,
      );
      return;
    }
    if (effect && effect.by.length > 0) {
      if (effect.delayMs > 0 || effect.abort || effect.code !== undefined) {
        req.pause();
        let gone = false;
        const onClose = () => {
          gone = true;
          clearTimeout(timer);
          done(499);
        };
        res.once('close', onClose);
        const timer = setTimeout(() => {
          res.off('close', onClose);
          if (gone) return;
          if (effect.abort) {
            req.resume();
            if (o.transparent) res.destroy();
            else respond(res, 502, `upstream ${endpoint.ip}:${endpoint.port}: connection aborted\n`);
            done(502, 'ECONNRESET');
          } else if (effect.code !== undefined) {
            req.resume();
            respond(res, effect.code, `fault: status ${effect.code} (${effect.by.join(', ')})\n`);
            done(effect.code);
          } else {
            req.resume();
            this.connect(req, res, endpoint, o, done);
          }
        }, effect.delayMs);
        return;
      }
    }
    this.connect(req, res, endpoint, o, done);
  }

  private connect(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: Endpoint,
    o: ForwardOptions,
    done: (status: number, error?: string) => void,
  ): void {
    const connectTimeoutMs = o.connectTimeoutMs ?? this.timeoutMs;
    if (o.unreachable === 'emulate') {
      req.resume();
      const timer = setTimeout(() => {
        respond(
          res,
          504,
          `upstream ${endpoint.ip}:${endpoint.port}: connect timed out (${o.unreachableWhy ?? 'NetworkPolicy'})\n`,
        );
        done(504, 'ETIMEDOUT');
      }, connectTimeoutMs);
      res.once('close', () => {
        clearTimeout(timer);
        done(499);
      });
      return;
    }
    const upstream = request({
      host: endpoint.ip,
      port: endpoint.port,
      method: req.method,
      path: req.url,
      headers: requestHeaders(req) as any,
      agent: o.unreachable === 'connect' ? false : this.agentFor(endpoint),
      setHost: false,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    const timedOut = () =>
      upstream.destroy(Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' }));
    upstream.setTimeout(this.timeoutMs, timedOut);
    upstream.once('socket', (socket: Socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(timedOut, connectTimeoutMs);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    upstream.on('response', (ures) => {
      const status = ures.statusCode ?? 502;
      res.writeHead(status, ures.statusMessage, responseHeaders(ures.rawHeaders) as any);
      ures.pipe(res);
      ures.on('error', () => res.destroy());
      res.once('finish', () => done(status));
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      const status = err.code === 'ETIMEDOUT' ? 504 : 502;
      if (!res.headersSent)
        respond(res, status, `upstream ${endpoint.ip}:${endpoint.port}: ${err.code ?? err.message}\n`);
      else res.destroy();
      done(status, err.code ?? err.message);
    });
    res.once('close', () => {
      if (!res.writableFinished) {
        upstream.destroy();
        done(499);
      }
    });
    req.pipe(upstream);
  }

  /** Connection upgrades (WebSocket): the request head is replayed to the pod and bytes piped both ways. */
  tunnel(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    endpoint: Endpoint | undefined,
    localAddress?: string,
  ): void {
    if (!endpoint) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const target = { host: endpoint.ip, port: endpoint.port, ...(localAddress ? { localAddress } : {}) };
    const upstream = connect(target, () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      pipeBoth(socket, upstream);
    });
    upstream.once('error', () => socket.destroy());
    socket.once('error', () => upstream.destroy());
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /** Drops the pooled connections to endpoints that are gone. */
  forget(keep: (ipPort: string) => boolean): void {
    for (const [k, agent] of this.agents) {
      if (!keep(k)) {
        agent.destroy();
        this.agents.delete(k);
      }
    }
  }

  now(): { receivedAt: number; t: number } {
    return { receivedAt: performance.now(), t: this.clock.now() };
  }

  private agentFor(ep: Endpoint): Agent {
    const key = `${ep.ip}:${ep.port}`;
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' });
      this.agents.set(key, agent);
    }
    return agent;
  }
}

export function pipeBoth(a: Duplex, b: Socket | Duplex): void {
  a.pipe(b);
  b.pipe(a);
  a.once('close', () => b.destroy());
  b.once('close', () => a.destroy());
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
}

function respond(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function connectionTokens(value: string | undefined): Set<string> | undefined {
  if (!value) return undefined;
  return new Set(value.split(',').map((s) => s.trim().toLowerCase()));
}

/** The client's headers as it sent them, less hop-by-hop ones, plus X-Forwarded-For. */
function requestHeaders(req: IncomingMessage): string[] {
  const extra = connectionTokens(req.headers.connection);
  const out: string[] = [];
  const raw = req.rawHeaders;
  let xff: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || extra?.has(lower)) continue;
    if (lower === 'x-forwarded-for') {
      xff = xff ? `${xff}, ${raw[i + 1]}` : raw[i + 1];
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  const client = req.socket.remoteAddress ?? '';
  out.push('X-Forwarded-For', xff ? `${xff}, ${client}` : client);
  return out;
}

function responseHeaders(raw: string[]): string[] {
  let extra: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') extra = connectionTokens(raw[i + 1]);
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) || extra?.has(lower)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}
