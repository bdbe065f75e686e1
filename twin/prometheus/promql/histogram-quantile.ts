import { parseGoFloat } from '../go-float.ts';
import { BUCKET_LABEL, getLabel, LabelsBuilder, labelsKey, METRIC_NAME } from '../labels.ts';
import type { Sample } from './value.ts';

/**
 * histogram_quantile over classic buckets (promql/quantile.go bucketQuantile, Prometheus v2.54):
 * buckets sorted and coalesced by upper bound, counts forced monotonic (differences below a
 * relative 1e-12 ignored), linear interpolation inside the bucket the rank falls in, the lowest
 * bucket starting at 0 when its bound is positive, and these edge cases: q < 0 is -Inf, q > 1 is
 * +Inf, no +Inf bucket or fewer than two buckets is NaN, a rank in the +Inf bucket is the highest
 * finite bound.
 */
interface Bucket {
  upperBound: number;
  count: number;
}

const SMALL_DELTA_TOLERANCE = 1e-12;
const MIN_NORMAL = 2.2250738585072014e-308;

function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < epsilon * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

export function bucketQuantile(q: number, input: Bucket[]): number {
  if (Number.isNaN(q)) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted.length === 0 || sorted.at(-1)!.upperBound !== Number.POSITIVE_INFINITY) return Number.NaN;
  const buckets: Bucket[] = [];
  for (const b of sorted) {
    const last = buckets.at(-1);
    if (last && last.upperBound === b.upperBound) last.count += b.count;
    else buckets.push({ ...b });
  }
  let prev = buckets[0]!.count;
  for (let i = 1; i < buckets.length; i++) {
    const curr = buckets[i]!.count;
    if (curr === prev) continue;
    if (almostEqual(prev, curr, SMALL_DELTA_TOLERANCE) || curr < prev) {
      buckets[i]!.count = prev;
      continue;
    }
    prev = curr;
  }
  if (buckets.length < 2) return Number.NaN;
  const observations = buckets.at(-1)!.count;
  if (observations === 0) return Number.NaN;
  let rank = q * observations;
  let b = buckets.length - 1;
  for (let i = 0; i < buckets.length - 1; i++) {
    if (buckets[i]!.count >= rank) {
      b = i;
      break;
    }
  }
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.upperBound;
  if (b === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

/** histogram_quantile(q, v): one result per label set without `le`; series with an unparsable `le` are skipped. */
export function histogramQuantile(q: number, samples: Sample[], t: number): Sample[] {
  const groups = new Map<string, { labels: Sample['labels']; buckets: Bucket[] }>();
  for (const s of samples) {
    const upperBound = parseGoFloat(getLabel(s.labels, BUCKET_LABEL));
    if (upperBound === undefined) continue;
    const signature = labelsKey(s.labels.filter((l) => l.name !== BUCKET_LABEL));
    let g = groups.get(signature);
    if (!g) {
      g = { labels: new LabelsBuilder(s.labels).del(METRIC_NAME, BUCKET_LABEL).labels(), buckets: [] };
      groups.set(signature, g);
    }
    g.buckets.push({ upperBound, count: s.v });
  }
  return [...groups.values()].map((g) => ({ labels: g.labels, v: bucketQuantile(q, g.buckets), t }));
}

/** The φ-quantile of values (promql/quantile.go quantile): linear interpolation between ranks. */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  const sorted = [...values].sort((a, b) => (Number.isNaN(a) ? -1 : Number.isNaN(b) ? 1 : a - b));
  const n = sorted.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}
