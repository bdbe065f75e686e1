import type { Labels } from '../labels.ts';

/** What PromQL evaluates to (promql/value.go): scalars, strings, instant vectors, range vectors. */
export interface Sample {
  labels: Labels;
  v: number;
  /** The sample's own timestamp for selector output (timestamp() reads it), else the evaluation time. */
  t: number;
}

export interface Series {
  labels: Labels;
  ts: number[];
  vs: number[];
}

export type Value =
  | { type: 'scalar'; v: number }
  | { type: 'string'; s: string }
  | { type: 'vector'; samples: Sample[] }
  | { type: 'matrix'; series: Series[] };

/** An error while evaluating (Prometheus' errorType "execution", HTTP 422). */
export class PromQLExecutionError extends Error {
  override name = 'PromQLExecutionError';
}

/** The query ran past --query.timeout (errorType "timeout", HTTP 503). */
export class PromQLTimeoutError extends Error {
  override name = 'PromQLTimeoutError';
}

/** Kahan–Neumaier compensated summation step (promql/functions.go kahanSumInc). */
export function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (!Number.isFinite(t) && !Number.isNaN(t)) return [t, 0];
  if (Math.abs(sum) >= Math.abs(inc)) return [t, c + (sum - t + inc)];
  return [t, c + (inc - t + sum)];
}
