import type { Clock } from '../../kube/clock.ts';
import type { TrafficStats } from '../../kube/traffic.ts';

export type { TrafficStats };

export interface TrafficSample {
  /** Control-plane time (epoch ms) the request was received. */
  t: number;
  /** "namespace/name" of the Service (or Ingress) the request went through. */
  service: string;
  version: string;
  pod: string;
  status: number;
  latencyMs: number;
  /** Why the proxy failed the request itself (connection refused, timeout, no endpoint). */
  error?: string;
}

export interface TrafficMetricsOptions {
  /** Samples older than this much control-plane time are dropped (default 2 h). */
  retentionMs?: number;
  /** At most this many samples are kept over all services (default 2,000,000). */
  maxSamples?: number;
}

/** Columnar, append-only samples of one service, in receipt order. */
class Series {
  t = new Float64Array(1024);
  latency = new Float64Array(1024);
  error = new Uint8Array(1024);
  version: string[] = [];
  head = 0;
  length = 0;

  get size(): number {
    return this.length - this.head;
  }

  push(t: number, latency: number, error: boolean, version: string): void {
    if (this.length === this.t.length) this.grow();
    this.t[this.length] = t;
    this.latency[this.length] = latency;
    this.error[this.length] = error ? 1 : 0;
    this.version[this.length] = version;
    this.length++;
  }

  /** Drops samples before index `upTo` (exclusive). */
  dropTo(upTo: number): void {
    this.head = Math.min(upTo, this.length);
    if (this.head > 4096 && this.head * 2 > this.length) this.compact();
  }

  private grow(): void {
    if (this.head > 0) this.compact();
    if (this.length < this.t.length * 0.75) return;
    const cap = this.t.length * 2;
    const t = new Float64Array(cap);
    t.set(this.t.subarray(0, this.length));
    const latency = new Float64Array(cap);
    latency.set(this.latency.subarray(0, this.length));
    const error = new Uint8Array(cap);
    error.set(this.error.subarray(0, this.length));
    this.t = t;
    this.latency = latency;
    this.error = error;
  }

  private compact(): void {
    const n = this.length - this.head;
    this.t.copyWithin(0, this.head, this.length);
    this.latency.copyWithin(0, this.head, this.length);
    this.error.copyWithin(0, this.head, this.length);
    this.version = this.version.slice(this.head, this.length);
    this.head = 0;
    this.length = n;
  }
}

/**
 * Requests counted by the twin's proxies, per Service and version, over windows of control-plane
 * time. An error is a status of 500 or more; the proxies record failed connections as 502, requests
 * without a ready endpoint as 503 and timeouts as 504.
 */
export class TrafficMetrics {
  private readonly series = new Map<string, Series>();
  private readonly retentionMs: number;
  private readonly maxSamples: number;
  private total = 0;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    options: TrafficMetricsOptions = {},
  ) {
    this.retentionMs = options.retentionMs ?? 2 * 60 * 60 * 1000;
    this.maxSamples = options.maxSamples ?? 2_000_000;
  }

  record(sample: TrafficSample): void {
    let s = this.series.get(sample.service);
    if (!s) {
      s = new Series();
      this.series.set(sample.service, s);
    }
    s.push(sample.t, sample.latencyMs, sample.status >= 500 || sample.error !== undefined, sample.version);
    this.total++;
    if ((this.total & 0x3ff) === 0 || this.total > this.maxSamples) this.evict();
  }

  /** Figures for a service over the last `windowMs` of control-plane time, optionally one version only. */
  query(service: string, windowMs: number, version?: string): TrafficStats {
    const s = this.series.get(service);
    const latencies: number[] = [];
    let errors = 0;
    if (s) {
      const since = this.clock.now() - windowMs;
      for (let i = s.length - 1; i >= s.head; i--) {
        if (s.t[i]! <= since) break;
        if (version !== undefined && s.version[i] !== version) continue;
        latencies.push(s.latency[i]!);
        errors += s.error[i]!;
      }
    }
    return statsOf(latencies, errors);
  }

  byVersion(service: string, windowMs: number): Record<string, TrafficStats> {
    const s = this.series.get(service);
    const out: Record<string, TrafficStats> = {};
    if (!s) return out;
    const groups = new Map<string, { latencies: number[]; errors: number }>();
    const since = this.clock.now() - windowMs;
    for (let i = s.length - 1; i >= s.head; i--) {
      if (s.t[i]! <= since) break;
      const v = s.version[i]!;
      let g = groups.get(v);
      if (!g) {
        g = { latencies: [], errors: 0 };
        groups.set(v, g);
      }
      g.latencies.push(s.latency[i]!);
      g.errors += s.error[i]!;
    }
    for (const v of [...groups.keys()].sort()) {
      const g = groups.get(v)!;
      out[v] = statsOf(g.latencies, g.errors);
    }
    return out;
  }

  /** Services (and ingresses) with samples. */
  services(): string[] {
    return [...this.series.keys()].filter((k) => this.series.get(k)!.size > 0).sort();
  }

  get sampleCount(): number {
    return this.total;
  }

  private evict(): void {
    const cutoff = this.clock.now() - this.retentionMs;
    let total = 0;
    for (const s of this.series.values()) {
      let i = s.head;
      while (i < s.length && s.t[i]! < cutoff) i++;
      s.dropTo(i);
      total += s.size;
    }
    // Over the cap: drop the oldest tenth of every series, keeping each one's recent window.
    if (total > this.maxSamples) {
      total = 0;
      for (const s of this.series.values()) {
        s.dropTo(s.head + Math.ceil(s.size / 10));
        total += s.size;
      }
    }
    this.total = total;
  }
}

function statsOf(latencies: number[], errors: number): TrafficStats {
  const requests = latencies.length;
  if (requests === 0) return { requests: 0, errors: 0, errorRate: null, p50: null, p95: null, p99: null };
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests,
    errors,
    errorRate: errors / requests,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1]!;
}
