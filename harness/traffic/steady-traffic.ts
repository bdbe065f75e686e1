import http from 'node:http';
import { Histogram } from './latency-histogram.ts';

export interface SteadyTrafficOptions {
  /** Base URL, e.g. the Ingress URL. */
  url: string;
  /** Paths to request, in turn. */
  paths: string[];
  /** Requests per second (open loop: sent on schedule whether or not earlier ones returned). */
  rate: number;
  /** Per-request timeout in real ms; a timeout counts as an error. */
  timeoutMs?: number;
  /** Response header naming the version that answered (the api sets x-app-version). */
  versionHeader?: string;
}

export interface VersionCounts {
  requests: number;
  errors: number;
}

export interface TrafficWindow {
  requests: number;
  errors: number;
  byVersion: Record<string, VersionCounts>;
  latency: { p50: number; p95: number; p99: number; max: number };
}

/**
 * Steady client traffic at a constant arrival rate, measured from the client's side: every request
 * sent, every error (status ≥ 500, refused connection, timeout), latency from the scheduled send time
 * (so a stall is not hidden by coordinated omission), and which version answered.
 */
export class SteadyTraffic {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;
  private inFlight = new Set<Promise<void>>();
  private total = emptyWindow();
  private histogram = new Histogram();

  constructor(private readonly options: SteadyTrafficOptions) {}

  start(): void {
    const startedAt = performance.now();
    const interval = 10;
    this.timer = setInterval(() => {
      const due = Math.floor(((performance.now() - startedAt) / 1000) * this.options.rate);
      while (this.sent < due) {
        const scheduledAt = startedAt + (this.sent * 1000) / this.options.rate;
        const path = this.options.paths[this.sent % this.options.paths.length]!;
        this.sent++;
        const p = this.send(path, scheduledAt);
        this.inFlight.add(p);
        p.finally(() => this.inFlight.delete(p));
      }
    }, interval);
  }

  /** Everything counted so far. */
  snapshot(): TrafficWindow {
    return { ...structuredClone(this.total), latency: this.histogram.summary() };
  }

  /** Counts between two snapshots (b − a). */
  static between(a: TrafficWindow, b: TrafficWindow): Omit<TrafficWindow, 'latency'> {
    const byVersion: Record<string, VersionCounts> = {};
    for (const [v, c] of Object.entries(b.byVersion)) {
      const before = a.byVersion[v] ?? { requests: 0, errors: 0 };
      byVersion[v] = { requests: c.requests - before.requests, errors: c.errors - before.errors };
    }
    return { requests: b.requests - a.requests, errors: b.errors - a.errors, byVersion };
  }

  async stop(): Promise<TrafficWindow> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
    this.agent.destroy();
    return this.snapshot();
  }

  private send(path: string, scheduledAt: number): Promise<void> {
    const header = this.options.versionHeader ?? 'x-app-version';
    return new Promise((resolve) => {
      const done = (status: number, version: string) => {
        const latency = performance.now() - scheduledAt;
        this.histogram.record(latency);
        this.total.requests++;
        const v = this.total.byVersion[version] ?? { requests: 0, errors: 0 };
        this.total.byVersion[version] = v;
        v.requests++;
        if (status === 0 || status >= 500) {
          this.total.errors++;
          v.errors++;
        }
        resolve();
      };
      const req = http.get(
        new URL(path, this.options.url),
        { agent: this.agent, timeout: this.options.timeoutMs ?? 5000 },
        (res) => {
          res.resume();
          res.on('end', () => done(res.statusCode ?? 0, String(res.headers[header] ?? 'none')));
          res.on('error', () => done(0, 'none'));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => done(0, 'none'));
    });
  }
}

function emptyWindow(): TrafficWindow {
  return { requests: 0, errors: 0, byVersion: {}, latency: { p50: 0, p95: 0, p99: 0, max: 0 } };
}
