import { compareLabels, type Labels, labelsKey } from '../labels.ts';
import { type LabelMatcher, matchesLabel } from './label-matcher.ts';

/**
 * The in-memory TSDB: every series with its float samples in time order, an inverted index
 * (label name → value → series) for selection, staleness markers, and a retention cut-off.
 * Like Prometheus' head block, a sample older than the series' last one is rejected as out of
 * order, and one at the same timestamp is a duplicate (ignored when the value is the same).
 *
 * Twin simplification: samples live in memory only (no WAL, blocks or compaction), so a
 * restarted Prometheus pod starts empty, as one with an emptyDir would; `--storage.tsdb.path` is
 * accepted and not written.
 */
export class MemSeries {
  ts: Float64Array;
  vs: Float64Array;
  /** 1 where the sample is a staleness marker (Prometheus' StaleNaN). */
  stale: Uint8Array;
  length = 0;
  readonly key: string;

  constructor(
    readonly id: number,
    readonly labels: Labels,
  ) {
    this.key = labelsKey(labels);
    this.ts = new Float64Array(16);
    this.vs = new Float64Array(16);
    this.stale = new Uint8Array(16);
  }

  get lastTimestamp(): number {
    return this.length > 0 ? this.ts[this.length - 1]! : Number.NEGATIVE_INFINITY;
  }

  push(t: number, v: number, stale: boolean): void {
    if (this.length === this.ts.length) {
      const grow = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.ts = grow(this.ts, (n) => new Float64Array(n));
      this.vs = grow(this.vs, (n) => new Float64Array(n));
      this.stale = grow(this.stale, (n) => new Uint8Array(n));
    }
    this.ts[this.length] = t;
    this.vs[this.length] = v;
    this.stale[this.length] = stale ? 1 : 0;
    this.length++;
  }

  /** Index of the first sample with timestamp ≥ t (length when none). */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first sample with timestamp > t (length when none). */
  upperBound(t: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops samples before `t`; true when none is left. */
  truncateBefore(t: number): boolean {
    const n = this.lowerBound(t);
    if (n === 0) return this.length === 0;
    this.ts.copyWithin(0, n, this.length);
    this.vs.copyWithin(0, n, this.length);
    this.stale.copyWithin(0, n, this.length);
    this.length -= n;
    return this.length === 0;
  }
}

export type AppendResult = 'appended' | 'duplicate' | 'out-of-order' | 'out-of-bounds';

export class Head {
  private readonly series = new Map<string, MemSeries>();
  private readonly postings = new Map<string, Map<string, Set<MemSeries>>>();
  private nextId = 1;
  /** Samples before this are outside retention. */
  private minValidTime = Number.NEGATIVE_INFINITY;

  get numSeries(): number {
    return this.series.size;
  }

  /** The series of a label set, created on first use. */
  getOrCreate(labels: Labels): { series: MemSeries; created: boolean } {
    const key = labelsKey(labels);
    const existing = this.series.get(key);
    if (existing) return { series: existing, created: false };
    const series = new MemSeries(this.nextId++, labels);
    this.series.set(key, series);
    for (const l of labels) {
      let values = this.postings.get(l.name);
      if (!values) {
        values = new Map();
        this.postings.set(l.name, values);
      }
      let set = values.get(l.value);
      if (!set) {
        set = new Set();
        values.set(l.value, set);
      }
      set.add(series);
    }
    return { series, created: true };
  }

  append(series: MemSeries, t: number, v: number, stale = false): AppendResult {
    if (t < this.minValidTime) return 'out-of-bounds';
    const last = series.lastTimestamp;
    if (t < last) return 'out-of-order';
    if (t === last) {
      const i = series.length - 1;
      const same =
        (stale && series.stale[i] === 1) ||
        (!stale &&
          series.stale[i] === 0 &&
          (series.vs[i] === v || (Number.isNaN(v) && Number.isNaN(series.vs[i]!))));
      return same ? 'appended' : 'duplicate';
    }
    series.push(t, v, stale);
    return 'appended';
  }

  /**
   * The series that match every matcher, sorted by labels. A matcher that matches the empty
   * string also matches series without the label, as in Prometheus.
   */
  select(matchers: readonly LabelMatcher[]): MemSeries[] {
    let candidates: Iterable<MemSeries> | undefined;
    let smallest = Number.POSITIVE_INFINITY;
    for (const m of matchers) {
      if (m.type !== '=' || m.value === '') continue;
      const set = this.postings.get(m.name)?.get(m.value);
      if (!set) return [];
      if (set.size < smallest) {
        smallest = set.size;
        candidates = set;
      }
    }
    if (!candidates) {
      // No non-empty equality matcher: union the values of a label the matchers require.
      const required = matchers.find((m) => !matchesLabel(m, ''));
      if (required) {
        const union: MemSeries[] = [];
        for (const [value, set] of this.postings.get(required.name) ?? []) {
          if (matchesLabel(required, value)) union.push(...set);
        }
        candidates = union;
      } else {
        candidates = this.series.values();
      }
    }
    const out: MemSeries[] = [];
    for (const s of candidates) {
      if (matchers.every((m) => matchesLabel(m, labelValue(s.labels, m.name)))) out.push(s);
    }
    return out.sort((a, b) => compareLabels(a.labels, b.labels));
  }

  /** Every series (for label and series listings without matchers). */
  all(): MemSeries[] {
    return [...this.series.values()].sort((a, b) => compareLabels(a.labels, b.labels));
  }

  /** Drops samples before `t`, and series left with none (retention). */
  truncate(t: number): void {
    this.minValidTime = Math.max(this.minValidTime, t);
    for (const [key, s] of this.series) {
      if (!s.truncateBefore(t)) continue;
      this.series.delete(key);
      for (const l of s.labels) {
        const values = this.postings.get(l.name);
        const set = values?.get(l.value);
        set?.delete(s);
        if (set && set.size === 0) values!.delete(l.value);
        if (values && values.size === 0) this.postings.delete(l.name);
      }
    }
  }
}

function labelValue(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return '';
}

/** Whether the series has a sample (stale markers excluded) in [mint, maxt]. */
export function hasSamplesIn(s: MemSeries, mint: number, maxt: number): boolean {
  for (let i = s.lowerBound(mint); i < s.length && s.ts[i]! <= maxt; i++) if (s.stale[i] === 0) return true;
  return false;
}
