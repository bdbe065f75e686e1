import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, numberFromEnv } from './config-error.ts';
import { BadRequestError, sendJson } from './http-json.ts';
import { httpMetrics, routeOf } from './http-metrics.ts';
import { log } from './log.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

export interface ServiceOptions {
  name: string;
  /** Answers every path except /healthz and /readyz; should send 404 for what it does not know. */
  handler: Handler;
  env?: NodeJS.ProcessEnv;
  /** Runs once the port is open; /readyz answers 503 until it resolves. */
  warmUp?: () => Promise<void> | void;
  /** Set on every response, probes included (e.g. x-app-version). */
  responseHeaders?: Record<string, string>;
  /**
   * The route templates the handler serves (`/api/v1/devices/:device/prediction`): the `route` label
   * of the request metrics. A path outside them is counted as `unmatched`.
   */
  routes?: readonly string[];
  /** A second port that serves only GET /metrics (a service whose metrics have a port of their own, e.g. 9090). */
  metricsPort?: number;
}

/** Paths the service answers itself and does not count in its request metrics. */
const UNCOUNTED = new Set(['/healthz', '/readyz', '/metrics']);

export interface RunningService {
  server: http.Server;
  port: number;
  host: string;
  ready: boolean;
  close(): Promise<void>;
}

/**
 * Bootstraps a workload: listens on ${POD_IP}:${PORT ?? 8080}, logs every request as JSON,
 * answers /healthz and /readyz, exports Prometheus metrics on /metrics (http-metrics.ts), and on SIGTERM turns unready, waits SHUTDOWN_DELAY_MS (so load
 * balancers deregister the pod first), then drains in-flight requests and exits 0.
 */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const env = options.env ?? process.env;
  const host = listenAddress(env);
  const port = numberFromEnv(env, 'PORT', 8080, { min: 0, max: 65535 });
  const shutdownDelayMs = numberFromEnv(env, 'SHUTDOWN_DELAY_MS', 0, { min: 0 });
  const drainTimeoutMs = numberFromEnv(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, { min: 0 });

  const state = { ready: false, shuttingDown: false };
  const metrics = httpMetrics();
  const server = http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (!UNCOUNTED.has(url.pathname))
        metrics.observe(
          req.method ?? 'GET',
          routeOf(options.routes ?? [], url.pathname),
          res.statusCode,
          seconds,
        );
      log('info', 'request', {
        service: options.name,
        method: req.method,
        path: url.pathname,
        status: res.statusCode,
        durationMs: seconds * 1e3,
      });
    });
    for (const [k, v] of Object.entries(options.responseHeaders ?? {})) res.setHeader(k, v);
    if (state.shuttingDown) res.setHeader('connection', 'close');
    void route(req, res, url);
  });
  server.keepAliveTimeout = 65_000;

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (url.pathname === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
        const body = await metrics.registry.metrics();
        res.writeHead(200, {
          'content-type': metrics.registry.contentType,
          'content-length': Buffer.byteLength(body),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      if (url.pathname === '/readyz') {
        return state.ready && !state.shuttingDown
          ? sendJson(res, 200, { status: 'ready' })
          : sendJson(res, 503, { status: state.shuttingDown ? 'shutting down' : 'starting' });
      }
      await options.handler(req, res, url);
    } catch (e) {
      if (res.headersSent) {
        res.destroy(e as Error);
        return;
      }
      if (e instanceof BadRequestError) return sendJson(res, 400, { error: e.message });
      log('error', 'unhandled error', { service: options.name, error: String(e) });
      sendJson(res, 500, { error: 'internal error' });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  log('info', 'listening', { service: options.name, host, port: actualPort });
  if (options.metricsPort !== undefined) {
    const metricsServer = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        sendJson(res, 404, {
          error: `only GET /metrics is served on this port, not ${req.method} ${url.pathname}`,
        });
        return;
      }
      void metrics.registry.metrics().then((body) => {
        res.writeHead(200, {
          'content-type': metrics.registry.contentType,
          'content-length': Buffer.byteLength(body),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      });
    });
    await new Promise<void>((resolve, reject) => {
      metricsServer.once('error', reject);
      metricsServer.listen(options.metricsPort, host, () => resolve());
    });
    metricsServer.unref();
    log('info', 'metrics listening', { service: options.name, host, port: options.metricsPort });
  }

  const running: RunningService = {
    server,
    port: actualPort,
    host,
    get ready() {
      return state.ready;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };

  const shutdown = async (signal: string): Promise<void> => {
    if (state.shuttingDown) return;
    state.shuttingDown = true;
    log('info', 'shutting down', { service: options.name, signal, shutdownDelayMs });
    await new Promise((r) => setTimeout(r, shutdownDelayMs));
    const forced = setTimeout(() => {
      log('warn', 'drain timed out; closing open connections', { service: options.name });
      server.closeAllConnections();
    }, drainTimeoutMs);
    forced.unref();
    await running.close();
    log('info', 'stopped', { service: options.name });
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    await options.warmUp?.();
    state.ready = true;
    log('info', 'ready', { service: options.name });
  } catch (e) {
    log('error', 'warm-up failed; staying unready', { service: options.name, error: String(e) });
  }
  return running;
}

/** Runs an entry's main; a ConfigError (or any startup failure) prints one line and exits 1. */
/**
 * The address to listen on: the pod's own (POD_IP, from the downward API's status.podIP), or an
 * explicit LISTEN_ADDRESS. Never every interface by default: on the twin every pod shares the
 * machine's network, and 0.0.0.0 would put the service on the machine's public addresses.
 */
export function listenAddress(env: NodeJS.ProcessEnv): string {
  const host = env['POD_IP'] || env['LISTEN_ADDRESS'];
  if (!host)
    throw new ConfigError(
      'POD_IP is not set: set it from the downward API (env POD_IP, valueFrom.fieldRef.fieldPath: status.podIP), or set LISTEN_ADDRESS (0.0.0.0 listens on every interface, inside a container only)',
    );
  return host;
}

export function runMain(name: string, main: () => Promise<unknown>): void {
  main().catch((e: unknown) => {
    const message = e instanceof ConfigError ? e.message : String((e as Error)?.stack ?? e);
    process.stderr.write(`${name}: ${message}\n`);
    log('error', 'startup failed', { service: name, error: e instanceof Error ? e.message : String(e) });
    process.exit(1);
  });
}
