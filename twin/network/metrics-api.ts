import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseGoDuration } from '../../kube/duration.ts';
import { closeServer, listen } from './listen.ts';
import type { TrafficMetrics } from './traffic-metrics.ts';

export const METRICS_SERVICE_NAME = 'twin-metrics.twin-system.svc.cluster.local';

/**
 * The twin's traffic figures over HTTP, for Argo Rollouts AnalysisTemplates (web provider):
 * `GET /api/v1/traffic?service=<ns>/<name>&window=<Go duration>[&version=<v>]`, windows in
 * control-plane time.
 */
export class MetricsApi {
  private readonly server: Server;
  private port: number | undefined;

  constructor(private readonly metrics: TrafficMetrics) {
    this.server = createServer({ keepAlive: true }, (req, res) => this.handle(req, res));
  }

  /** Listens on ip:port (80 by default); returns the port bound. */
  async start(ip: string, port = 80, log?: (m: string) => void): Promise<number> {
    this.port = await listen(this.server, ip, port, log);
    return this.port;
  }

  get boundPort(): number | undefined {
    return this.port;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://twin-metrics');
    if (url.pathname !== '/api/v1/traffic') {
      send(res, 404, {
        error: `no such path ${url.pathname}; use GET /api/v1/traffic?service=<namespace>/<name>&window=<duration>`,
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { error: `${req.method} is not allowed; use GET` });
      return;
    }
    const service = url.searchParams.get('service');
    if (!service || !/^[^/]+\/[^/]+$/.test(service)) {
      send(res, 400, {
        error: `service=${service ?? ''} is invalid; give the Service as <namespace>/<name>, e.g. service=production/api`,
      });
      return;
    }
    const windowText = url.searchParams.get('window') ?? '';
    const windowMs = parseGoDuration(windowText);
    if (windowMs === undefined || windowMs <= 0) {
      send(res, 400, {
        error: `window=${windowText} is invalid; give a positive Go duration of control-plane time, e.g. window=1m or window=30s`,
      });
      return;
    }
    const version = url.searchParams.get('version') ?? undefined;
    const s = this.metrics.query(service, windowMs, version);
    send(res, 200, {
      service,
      window: windowText,
      ...(version !== undefined ? { version } : {}),
      requests: s.requests,
      errors: s.errors,
      errorRate: s.errorRate,
      latency: { p50: s.p50, p95: s.p95, p99: s.p99 },
    });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
