/**
 * Timeline series keys in the Prometheus style: `rps{service=production/api,version=1.0.0}`. Labels
 * keep the order they were given in, so one series always has one key.
 */
export type SeriesLabels = Record<string, string>;

export interface ParsedSeriesKey {
  metric: string;
  labels: SeriesLabels;
}

/** The metrics the report plots, with their units. */
export const SERIES_METRICS = {
  rps: 'requests/s',
  errorRate: 'fraction (0–1)',
  p95: 'ms',
  p99: 'ms',
  p50: 'ms',
  replicas: 'replicas',
} as const;

export function seriesKey(metric: string, labels: SeriesLabels = {}): string {
  const parts = Object.entries(labels)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  return `${metric}{${parts.join(',')}}`;
}

/** Reads a key back; a key without braces is a metric with no labels. */
export function parseSeriesKey(key: string): ParsedSeriesKey {
  const open = key.indexOf('{');
  if (open < 0 || !key.endsWith('}')) return { metric: key, labels: {} };
  const labels: SeriesLabels = {};
  const body = key.slice(open + 1, -1);
  for (const part of body === '' ? [] : body.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) labels[part] = '';
    else labels[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return { metric: key.slice(0, open), labels };
}

/** "production/api 1.0.0": the label values, for legends. */
export function seriesLabel(labels: SeriesLabels): string {
  return Object.values(labels).join(' ') || 'total';
}
