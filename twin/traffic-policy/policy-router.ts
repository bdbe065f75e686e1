import { type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { decideFault } from './fault-injection.ts';
import { backoffMs, shouldRetry, type TryOutcome } from './retry-policy.ts';
import { type RequestFacts, selectRoute } from './route-match.ts';
import type { RouteAction, RouteMatch, RouteTable, Upstream } from './route-table.ts';
import { key, type UpstreamCluster } from './upstream-cluster.ts';
import { pickWeighted } from './weighted-pick.ts';

/** Envoy buffers a request body for retries up to the buffer limit (1 MiB by default); larger ones are not retried. */
const RETRY_BUFFER_LIMIT = 1024 * 1024;

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

/** How a request ended, for traffic metrics. */
export interface RoutedResult {
  route: string;
  cluster: string;
  host: Upstream | undefined;
  status: number;
  /** Tries made (0 when the request never reached an upstream: fault abort, overflow, no route). */
  tries: number;
  /** Envoy's response flag: FI (fault abort), DI (delayed), UO (overflow), UH (no healthy upstream), UT (timeout), UF (connect failure), URX (retries exhausted), NR (no route). */
  flags: string[];
}

export interface PolicyRouterOptions {
  clusters: (name: string) => UpstreamCluster | undefined;
  random?: () => number;
  /** The address the upstream connection leaves from (the client pod's, for NetworkPolicy). */
  localAddress?: (req: IncomingMessage) => string | undefined;
  onResult?: (r: RoutedResult, req: IncomingMessage) => void;
}

/**
 * The traffic-policy engine's data path: Envoy's fault filter then its router. A request is matched
 * against the route table (first match wins), the fault filter may delay or abort it, a weighted
 * destination is chosen, and the router sends it upstream through the cluster's circuit breaker, with
 * the route's timeout over everything and the retry policy's per-try timeout and retries, each retry
 * after Envoy's jittered back-off. Outcomes feed the cluster's outlier detection.
 */
export class PolicyRouter {
  private readonly random: () => number;

  constructor(private readonly o: PolicyRouterOptions) {
    this.random = o.random ?? Math.random;
  }

  handle(
    req: IncomingMessage,
    res: ServerResponse,
    table: RouteTable,
    onResult?: (r: RoutedResult) => void,
  ): void {
    void this.run(req, res, table, onResult).catch((err: Error) => {
      if (!res.headersSent) localReply(res, 500, `traffic policy: ${err.message}\n`);
      else res.destroy();
    });
  }

  private async run(
    req: IncomingMessage,
    res: ServerResponse,
    table: RouteTable,
    onResult: ((r: RoutedResult) => void) | undefined,
  ): Promise<void> {
    const flags: string[] = [];
    const facts = factsOf(req);
    const selected = selectRoute(table.routes, facts);
    const route = selected?.route;
    const finish = (r: Omit<RoutedResult, 'flags'>) => {
      this.o.onResult?.({ ...r, flags }, req);
      onResult?.({ ...r, flags });
    };
    if (!route) {
      req.resume();
      flags.push('NR');
      localReply(res, 404, '');
      finish({ route: '', cluster: '', host: undefined, status: 404, tries: 0 });
      return;
    }
    const a = route.action;
    if (a.type === 'redirect') {
      req.resume();
      const location = redirectLocation(a, facts, req);
      res.writeHead(a.status, { location, 'content-length': 0 });
      res.end();
      finish({ route: route.name, cluster: '', host: undefined, status: a.status, tries: 0 });
      return;
    }
    if (a.type === 'direct') {
      req.resume();
      localReply(res, a.status, a.body ?? '');
      finish({ route: route.name, cluster: '', host: undefined, status: a.status, tries: 0 });
      return;
    }
    const closed = clientClosed(res);
    const bodyP = readBody(req);
    const fault = decideFault(a.fault, this.random);
    if (fault.delayMs > 0) {
      flags.push('DI');
      await Promise.race([sleep(fault.delayMs), closed.promise]);
      if (closed.done)
        return finish({ route: route.name, cluster: '', host: undefined, status: 499, tries: 0 });
    }
    if (fault.abortStatus !== undefined) {
      await bodyP;
      flags.push('FI');
      localReply(res, fault.abortStatus, 'fault filter abort');
      finish({ route: route.name, cluster: '', host: undefined, status: fault.abortStatus, tries: 0 });
      return;
    }
    const dest = pickWeighted(a.clusters, this.random);
    const cluster = dest ? this.o.clusters(dest.cluster) : undefined;
    const body = await bodyP;
    if (!dest || !cluster) {
      flags.push('NC');
      localReply(res, 503, 'no healthy upstream');
      finish({ route: route.name, cluster: dest?.cluster ?? '', host: undefined, status: 503, tries: 0 });
      return;
    }
    const path = rewritePath(req.url ?? '/', a.rewritePath, selected.match);
    await this.route(req, res, a, path, cluster, body, dest.requestHeadersToSet, closed, flags, (r) =>
      finish({ route: route.name, cluster: cluster.spec.name, ...r }),
    );
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    a: RouteAction,
    path: string,
    cluster: UpstreamCluster,
    body: Buffer,
    setHeaders: Record<string, string> | undefined,
    closed: Closed,
    flags: string[],
    finish: (r: { host: Upstream | undefined; status: number; tries: number }) => void,
  ): Promise<void> {
    const retry = a.retry;
    const maxRetries = retry && body.length <= RETRY_BUFFER_LIMIT ? retry.numRetries : 0;
    const tried = new Set<string>();
    let current: { abort: () => void } | undefined;
    let globalTimedOut = false;
    const globalTimer =
      a.timeoutMs > 0
        ? setTimeout(() => {
            globalTimedOut = true;
            current?.abort();
          }, a.timeoutMs)
        : undefined;
    const stop = () => clearTimeout(globalTimer);
    let tries = 0;
    let last: { host: Upstream | undefined; outcome: TryOutcome | 'overflow' | 'no-host' } = {
      host: undefined,
      outcome: 'no-host',
    };
    for (let attempt = 0; ; attempt++) {
      if (closed.done) {
        stop();
        return finish({ host: last.host, status: 499, tries });
      }
      const release = await cluster.breaker.acquire();
      if (release === 'overflow') {
        last = { host: undefined, outcome: 'overflow' };
        break;
      }
      const host = cluster.pick(retry?.otherHosts ? tried : undefined);
      if (!host) {
        release();
        last = { host: undefined, outcome: 'no-host' };
        break;
      }
      tried.add(key(host));
      tries++;
      const t = this.tryOnce(req, host, cluster, a, path, body, setHeaders, retry?.perTryTimeoutMs ?? 0);
      current = t;
      const { outcome, response } = await t.result;
      current = undefined;
      cluster.record(host, outcome.kind === 'response' ? outcome.status : 0);
      last = { host, outcome };
      if (globalTimedOut) {
        release();
        response?.resume();
        break;
      }
      const retriesLeft = attempt < maxRetries;
      const wantRetry = retry !== undefined && retriesLeft && shouldRetry(retry, outcome);
      const budget = wantRetry ? cluster.breaker.tryRetry() : undefined;
      if (!wantRetry || !budget) {
        if (response) {
          stop();
          this.pipe(response, res, release, (status) => finish({ host, status, tries }));
          return;
        }
        release();
        break;
      }
      response?.resume();
      release();
      await sleep(backoffMs(retry!, attempt + 1, this.random));
      budget();
      if (globalTimedOut) break;
    }
    stop();
    const [status, text] = globalTimedOut
      ? [504, 'upstream request timeout']
      : last.outcome === 'overflow'
        ? [503, 'upstream connect error or disconnect/reset before headers. reset reason: overflow']
        : last.outcome === 'no-host'
          ? [503, 'no healthy upstream']
          : last.outcome.kind === 'per-try-timeout'
            ? [504, 'upstream request timeout']
            : last.outcome.kind === 'connect-failure'
              ? [
                  503,
                  'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
                ]
              : [
                  503,
                  'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
                ];
    if (closed.done) return finish({ host: last.host, status: 499, tries });
    flags.push(
      globalTimedOut
        ? 'UT'
        : last.outcome === 'overflow'
          ? 'UO'
          : last.outcome === 'no-host'
            ? 'UH'
            : last.outcome.kind === 'per-try-timeout'
              ? 'UT'
              : last.outcome.kind === 'connect-failure'
                ? 'UF'
                : 'UC',
    );
    if (tries > 1) flags.push('URX');
    if (last.outcome === 'overflow') res.setHeader('x-envoy-overloaded', 'true');
    localReply(res, status, text);
    finish({ host: last.host, status, tries });
  }

  private tryOnce(
    req: IncomingMessage,
    host: Upstream,
    cluster: UpstreamCluster,
    a: RouteAction,
    path: string,
    body: Buffer,
    setHeaders: Record<string, string> | undefined,
    perTryTimeoutMs: number,
  ): { abort: () => void; result: Promise<{ outcome: TryOutcome; response?: IncomingMessage }> } {
    let abort: () => void = () => {};
    const result = new Promise<{ outcome: TryOutcome; response?: IncomingMessage }>((resolve) => {
      let settled = false;
      const settle = (v: { outcome: TryOutcome; response?: IncomingMessage }) => {
        if (settled) return;
        settled = true;
        clearTimeout(perTry);
        resolve(v);
      };
      const localAddress = this.o.localAddress?.(req);
      const upstream = request({
        host: host.ip,
        port: host.port,
        method: req.method,
        path,
        headers: upstreamHeaders(req, a, setHeaders, body.length),
        agent: cluster.agentFor(host),
        setHost: false,
        ...(localAddress ? { localAddress } : {}),
      });
      let connected = false;
      upstream.once('socket', (socket: Socket) => {
        if (!socket.connecting) {
          connected = true;
          return;
        }
        const timer = setTimeout(
          () => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ECONNTIMEOUT' })),
          cluster.spec.connectTimeoutMs,
        );
        socket.once('connect', () => {
          connected = true;
          clearTimeout(timer);
        });
        socket.once('close', () => clearTimeout(timer));
      });
      const perTry =
        perTryTimeoutMs > 0
          ? setTimeout(() => {
              upstream.destroy();
              settle({ outcome: { kind: 'per-try-timeout' } });
            }, perTryTimeoutMs)
          : undefined;
      abort = () => {
        upstream.destroy();
        settle({ outcome: { kind: 'reset' } });
      };
      upstream.on('response', (response) =>
        settle({
          outcome: { kind: 'response', status: response.statusCode ?? 502, headers: response.headers },
          response,
        }),
      );
      upstream.on('error', () => settle({ outcome: { kind: connected ? 'reset' : 'connect-failure' } }));
      upstream.end(body);
    });
    return { abort: () => abort(), result };
  }

  private pipe(
    response: IncomingMessage,
    res: ServerResponse,
    release: () => void,
    done: (status: number) => void,
  ): void {
    const status = response.statusCode ?? 502;
    res.writeHead(status, response.statusMessage, responseHeaders(response.rawHeaders) as any);
    response.pipe(res);
    response.on('error', () => res.destroy());
    response.once('end', release);
    response.once('close', release);
    res.once('finish', () => done(status));
    res.once('close', () => {
      if (!res.writableFinished) {
        response.destroy();
        done(499);
      }
    });
  }
}

interface Closed {
  done: boolean;
  promise: Promise<void>;
}

function clientClosed(res: ServerResponse): Closed {
  const c: Closed = { done: false, promise: Promise.resolve() };
  c.promise = new Promise((resolve) =>
    res.once('close', () => {
      if (!res.writableFinished) c.done = true;
      resolve();
    }),
  );
  return c;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', () => resolve(Buffer.concat(chunks)));
  });
}

export function factsOf(req: IncomingMessage): RequestFacts {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers,
    authority: req.headers.host ?? '',
  };
}

/**
 * Envoy prefix_rewrite / Istio rewrite.uri: the matched prefix is replaced; a path matched otherwise
 * (exact, regex, or no path condition) is replaced whole. The query string is kept.
 */
function rewritePath(url: string, rewrite: string | undefined, match: RouteMatch | undefined): string {
  if (rewrite === undefined) return url;
  const q = url.indexOf('?');
  const [path, query] = q < 0 ? [url, ''] : [url.slice(0, q), url.slice(q)];
  const m = match?.path;
  if (m && 'prefix' in m && path.toLowerCase().startsWith(m.prefix.toLowerCase()))
    return rewrite + path.slice(m.prefix.length) + query;
  return rewrite + query;
}

function upstreamHeaders(
  req: IncomingMessage,
  a: RouteAction,
  setHeaders: Record<string, string> | undefined,
  length: number,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const extra = new Set(
    (req.headers.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || extra.has(k) || k === 'content-length') continue;
    out[k] = v;
  }
  if (a.hostRewrite) out.host = a.hostRewrite;
  const client = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  out['x-forwarded-for'] = req.headers['x-forwarded-for']
    ? `${req.headers['x-forwarded-for']}, ${client}`
    : client;
  out['x-forwarded-proto'] ??= (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  for (const [k, v] of Object.entries(setHeaders ?? {})) out[k.toLowerCase()] = v;
  if (length > 0 || (req.method !== 'GET' && req.method !== 'HEAD')) out['content-length'] = String(length);
  return out;
}

function responseHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

function localReply(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.setHeader('content-type', 'text/plain');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.writeHead(status);
  res.end(body);
}

function redirectLocation(
  a: { scheme?: string; host?: string; port?: number; path?: string },
  facts: RequestFacts,
  req: IncomingMessage,
): string {
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const scheme = a.scheme ?? (encrypted ? 'https' : 'http');
  const [authHost, authPort] = splitAuthority(facts.authority);
  const host = a.host ?? authHost;
  // Envoy drops the port when the scheme changes (https_redirect) unless port_redirect names one.
  const port = a.port ?? (a.scheme === undefined ? authPort : undefined);
  const defaultPort = scheme === 'https' ? 443 : 80;
  const hostPort = port !== undefined && port !== defaultPort ? `${host}:${port}` : host;
  return `${scheme}://${hostPort}${a.path ?? facts.url}`;
}

function splitAuthority(authority: string): [string, number | undefined] {
  const m = /^(.*?)(?::(\d+))?$/.exec(authority);
  return [m?.[1] ?? authority, m?.[2] ? Number(m[2]) : undefined];
}
