import * as hdr from 'hdr-histogram-js';
import {
  BUILTIN_METRICS,
  evaluateThreshold,
  type MetricType,
  type ParsedThreshold,
  parseThresholdExpression,
  parseThresholdKey,
} from '../../load/thresholds.ts';

/**
 * The embedded engine's metrics under k6's names. Latencies go into HDR histograms (1 µs resolution,
 * 3 significant digits, up to 10 minutes) per tag group, so sub-metrics (`http_req_duration{name:x}`)
 * merge the groups that match, and the summary has k6's shape (handleSummary's `data.metrics`).
 */

const HIGHEST_US = 600_000_000;

export class LatencyHistogram {
  readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });
  private sumMs = 0;
  private minMs = Number.POSITIVE_INFINITY;
  private maxMs = 0;

  record(ms: number): void {
    this.h.recordValue(Math.max(1, Math.min(HIGHEST_US, Math.round(ms * 1000))));
    this.sumMs += ms;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  add(other: LatencyHistogram): void {
    this.h.add(other.h);
    this.sumMs += other.sumMs;
    this.minMs = Math.min(this.minMs, other.minMs);
    this.maxMs = Math.max(this.maxMs, other.maxMs);
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** Percentile in ms (0 when empty, as k6 reports an empty trend). */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    if (p >= 100) return this.maxMs;
    if (p <= 0) return this.minMs;
    return this.h.getValueAtPercentile(p) / 1000;
  }

  /** k6's trend values: avg, min, med, max, p(90), p(95), p(99) in ms. */
  values(): Record<string, number> {
    const n = this.count;
    return {
      avg: n ? this.sumMs / n : 0,
      min: n ? this.minMs : 0,
      med: this.percentile(50),
      max: n ? this.maxMs : 0,
      'p(90)': this.percentile(90),
      'p(95)': this.percentile(95),
      'p(99)': this.percentile(99),
    };
  }

  aggregate(aggregation: string, percentile?: number): number {
    if (percentile !== undefined) return this.percentile(percentile);
    return this.values()[aggregation] ?? Number.NaN;
  }

  destroy(): void {
    this.h.destroy();
  }
}

/** HTTP samples of one request of the mix with one status: the unit sub-metrics are merged from. */
interface HttpGroup {
  tags: Record<string, string>;
  duration: LatencyHistogram;
  requests: number;
  failed: number;
}

export interface TimelinePoint {
  /** Seconds since the scenario started (the bucket's start). */
  t: number;
  reqs: number;
  failed: number;
  dropped: number;
  vus: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface MetricSummary {
  type: MetricType;
  contains: 'default' | 'time' | 'data';
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

export interface ThresholdOutcome {
  /** `http_req_duration` or a sub-metric `http_req_duration{name:predict}`. */
  metric: string;
  expression: string;
  ok: boolean;
  actual: number;
  abortOnFail: boolean;
}

export class LoadMetrics {
  private readonly groups = new Map<number, HttpGroup>();
  private lastSecond = -1;
  private lastBucket:
    | { reqs: number; failed: number; dropped: number; vus: number; h: LatencyHistogram }
    | undefined;
  private readonly buckets = new Map<
    number,
    { reqs: number; failed: number; dropped: number; vus: number; h: LatencyHistogram }
  >();
  readonly iterationDuration = new LatencyHistogram();
  iterations = 0;
  dropped = 0;
  dataReceived = 0;
  dataSent = 0;
  vus = 0;
  vusMin = Number.POSITIVE_INFINITY;
  vusMax = 0;
  vusAllocated = 0;

  constructor(
    /** Tags on every sample: the profile's tags and `scenario`. */
    readonly globalTags: Record<string, string>,
    private readonly startedAt: number,
  ) {}

  private bucket(at: number) {
    const s = Math.max(0, Math.floor((at - this.startedAt) / 1000));
    if (s === this.lastSecond && this.lastBucket) return this.lastBucket;
    let b = this.buckets.get(s);
    if (!b) {
      b = { reqs: 0, failed: 0, dropped: 0, vus: this.vus, h: new LatencyHistogram() };
      this.buckets.set(s, b);
    }
    this.lastSecond = s;
    this.lastBucket = b;
    return b;
  }

  hasGroup(groupKey: number): boolean {
    return this.groups.has(groupKey);
  }

  /** Declares the HTTP group of a request of the mix with one status (group key: request index × 1000 + status). */
  addGroup(groupKey: number, tags: Record<string, string>): void {
    this.groups.set(groupKey, {
      tags: { ...this.globalTags, ...tags },
      duration: new LatencyHistogram(),
      requests: 0,
      failed: 0,
    });
  }

  /** One HTTP request of a declared group; status 0 means no response (connection error, timeout). */
  recordRequest(groupKey: number, status: number, ms: number, at: number) {
    const g = this.groups.get(groupKey);
    if (!g) throw new Error(`HTTP group ${groupKey} was not declared`);
    g.requests++;
    g.duration.record(ms);
    // k6's default responseCallback: expected statuses 200–399; anything else (and no response) fails.
    const failed = !(status >= 200 && status < 400);
    if (failed) g.failed++;
    const b = this.bucket(at);
    b.reqs++;
    b.h.record(ms);
    if (failed) b.failed++;
  }

  recordIteration(ms: number): void {
    this.iterations++;
    this.iterationDuration.record(ms);
  }

  recordDropped(at: number): void {
    this.dropped++;
    this.bucket(at).dropped++;
  }

  setVus(active: number, allocated: number, at: number): void {
    this.vus = active;
    this.vusAllocated = Math.max(this.vusAllocated, allocated);
    this.vusMin = Math.min(this.vusMin, active);
    this.vusMax = Math.max(this.vusMax, active);
    this.bucket(at).vus = active;
  }

  /** The HTTP groups whose tags include `tags`. */
  matching(tags: Record<string, string>): HttpGroup[] {
    return [...this.groups.values()].filter((g) => Object.entries(tags).every(([k, v]) => g.tags[k] === v));
  }

  private globalMatch(tags: Record<string, string>): boolean {
    return Object.entries(tags).every(([k, v]) => this.globalTags[k] === v);
  }

  /** The summary of a metric or sub-metric as k6 reports it; elapsedMs turns counts into rates. */
  summary(key: string, elapsedMs: number): MetricSummary {
    const { metric, type, tags } = parseThresholdKey(key);
    const contains = BUILTIN_METRICS[metric]!.contains;
    const perSecond = (n: number) => (elapsedMs > 0 ? n / (elapsedMs / 1000) : 0);
    const counter = (n: number): MetricSummary => ({
      type,
      contains,
      values: { count: n, rate: perSecond(n) },
    });
    const groups = this.matching(tags);
    const global = this.globalMatch(tags);
    switch (metric) {
      case 'http_reqs':
        return counter(groups.reduce((s, g) => s + g.requests, 0));
      case 'http_req_failed': {
        const total = groups.reduce((s, g) => s + g.requests, 0);
        const fails = groups.reduce((s, g) => s + g.failed, 0);
        // k6's Rate: passes are non-zero samples (here: failed requests), rate = passes / total.
        return {
          type,
          contains,
          values: { rate: total ? fails / total : 0, passes: fails, fails: total - fails },
        };
      }
      case 'http_req_duration': {
        const merged = new LatencyHistogram();
        for (const g of groups) merged.add(g.duration);
        const values = merged.values();
        merged.destroy();
        return { type, contains, values };
      }
      case 'iterations':
        return counter(global ? this.iterations : 0);
      case 'dropped_iterations':
        return counter(global ? this.dropped : 0);
      case 'iteration_duration':
        return {
          type,
          contains,
          values: global ? this.iterationDuration.values() : new LatencyHistogram().values(),
        };
      case 'data_received':
        return counter(global ? this.dataReceived : 0);
      case 'data_sent':
        return counter(global ? this.dataSent : 0);
      case 'vus':
        return {
          type,
          contains,
          values: { value: this.vus, min: Number.isFinite(this.vusMin) ? this.vusMin : 0, max: this.vusMax },
        };
      case 'vus_max':
        return {
          type,
          contains,
          values: { value: this.vusAllocated, min: this.vusAllocated, max: this.vusAllocated },
        };
      default:
        throw new Error(`metric ${metric} has no summary`);
    }
  }

  /** Percentile distribution of http_req_duration for the percentile plot. */
  percentileCurve(): Array<{ p: number; ms: number }> {
    const merged = new LatencyHistogram();
    for (const g of this.groups.values()) merged.add(g.duration);
    const ps = [0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 100];
    const curve = merged.count ? ps.map((p) => ({ p, ms: merged.percentile(p) })) : [];
    merged.destroy();
    return curve;
  }

  timeline(): TimelinePoint[] {
    const seconds = [...this.buckets.keys()].sort((a, b) => a - b);
    const last = seconds.at(-1) ?? -1;
    const out: TimelinePoint[] = [];
    for (let s = 0; s <= last; s++) {
      const b = this.buckets.get(s);
      const has = b && b.h.count > 0;
      out.push({
        t: s,
        reqs: b?.reqs ?? 0,
        failed: b?.failed ?? 0,
        dropped: b?.dropped ?? 0,
        vus: b?.vus ?? this.vus,
        p50: has ? b.h.percentile(50) : null,
        p95: has ? b.h.percentile(95) : null,
        p99: has ? b.h.percentile(99) : null,
        max: has ? b.h.percentile(100) : null,
      });
    }
    return out;
  }

  destroy(): void {
    for (const g of this.groups.values()) g.duration.destroy();
    for (const b of this.buckets.values()) b.h.destroy();
    this.iterationDuration.destroy();
  }
}

export interface CompiledThreshold extends ParsedThreshold {
  abortOnFail: boolean;
  delayAbortEvalMs: number;
}

/** Evaluates thresholds against the metrics now (elapsedMs = the test's time so far). */
export function evaluateThresholds(
  metrics: LoadMetrics,
  thresholds: CompiledThreshold[],
  elapsedMs: number,
): ThresholdOutcome[] {
  const cache = new Map<string, MetricSummary>();
  return thresholds.map((t) => {
    let summary = cache.get(t.key);
    if (!summary) {
      summary = metrics.summary(t.key, elapsedMs);
      cache.set(t.key, summary);
    }
    const values = summary.values;
    const { ok, actual } = evaluateThreshold(t, (aggregation, percentile) => {
      if (percentile !== undefined) {
        const known = values[`p(${percentile})`];
        if (known !== undefined) return known;
        return percentileOf(metrics, t.key, percentile);
      }
      return values[aggregation] ?? Number.NaN;
    });
    return { metric: t.key, expression: t.source, ok, actual, abortOnFail: t.abortOnFail };
  });
}

function percentileOf(metrics: LoadMetrics, key: string, p: number): number {
  // Percentiles beyond those in the summary (p(99.9), p(75)) come from the histograms themselves.
  const { metric, tags } = parseThresholdKey(key);
  if (metric === 'iteration_duration') return metrics.iterationDuration.percentile(p);
  const merged = new LatencyHistogram();
  for (const g of metrics.matching(tags)) merged.add(g.duration);
  const v = merged.percentile(p);
  merged.destroy();
  return v;
}

export function compileThresholds(
  thresholds: Record<
    string,
    Array<string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string | number }>
  >,
  parseDelay: (d: string | number) => number,
): CompiledThreshold[] {
  return Object.entries(thresholds).flatMap(([key, list]) =>
    list.map((t) => {
      const source = typeof t === 'string' ? t : t.threshold;
      return {
        ...parseThresholdExpression(key, source),
        abortOnFail: typeof t === 'object' && t.abortOnFail === true,
        delayAbortEvalMs:
          typeof t === 'object' && t.delayAbortEval !== undefined ? parseDelay(t.delayAbortEval) : 0,
      };
    }),
  );
}
