import type { Tolerance } from './experiment.ts';

/** What a probe returned: its value, and named parts a tolerance may target (status, latency, body). */
export interface ProbeValue {
  value: number | string | boolean | null;
  /** Other figures of the same evaluation, by name (an HTTP probe's status, latency and body). */
  parts?: Record<string, number | string | boolean | null>;
}

/**
 * Whether a probe's value is within its tolerance, as Chaos Toolkit judges it: a scalar must equal the
 * value, a list must contain it, `range` bounds it (inclusive), `regex` must match it; `target` picks a
 * part of the value instead (an HTTP probe's `status`, `latency` or `body`). No tolerance: any value that
 * is not an error holds.
 */
export function withinTolerance(tolerance: Tolerance | undefined, v: ProbeValue): boolean {
  if (tolerance === undefined) return v.value !== null;
  if (Array.isArray(tolerance)) return tolerance.some((t) => t === v.value);
  if (typeof tolerance !== 'object') return tolerance === v.value;
  const target = tolerance.target ? (v.parts?.[tolerance.target] ?? null) : v.value;
  if (tolerance.type === 'range') {
    const n = typeof target === 'number' ? target : Number.NaN;
    return Number.isFinite(n) && n >= tolerance.range[0] && n <= tolerance.range[1];
  }
  return target !== null && new RegExp(tolerance.pattern).test(String(target));
}

/** The tolerance in words, for the report: "= 200", "in [0, 0.01]", "~ /ok/ (body)". */
export function describeTolerance(tolerance: Tolerance | undefined): string {
  if (tolerance === undefined) return 'answers';
  if (Array.isArray(tolerance)) return `∈ {${tolerance.join(', ')}}`;
  if (typeof tolerance !== 'object') return `= ${tolerance}`;
  const of = tolerance.target ? ` (${tolerance.target})` : '';
  return tolerance.type === 'range'
    ? `in [${tolerance.range[0]}, ${tolerance.range[1]}]${of}`
    : `~ /${tolerance.pattern}/${of}`;
}
