/**
 * k6 thresholds: `<metric>[{tag:value,…}]: ['<aggregation> <operator> <value>', …]`, parsed and
 * evaluated as k6 documents them (using-k6/thresholds):
 *   Counter: count, rate (per second over the test)   Gauge: value
 *   Rate: rate (fraction of non-zero samples)          Trend: avg, min, max, med, p(N)
 *   operators: >, >=, <, <=, ==, ===, !=
 * A threshold passes when its expression holds at the end of the test; with abortOnFail the test is
 * stopped as soon as it fails (after delayAbortEval).
 */

export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';

/** The metrics the embedded engine reports, with k6's names and types. */
export const BUILTIN_METRICS: Record<string, { type: MetricType; contains: 'default' | 'time' | 'data' }> = {
  http_reqs: { type: 'counter', contains: 'default' },
  http_req_duration: { type: 'trend', contains: 'time' },
  http_req_failed: { type: 'rate', contains: 'default' },
  iterations: { type: 'counter', contains: 'default' },
  iteration_duration: { type: 'trend', contains: 'time' },
  dropped_iterations: { type: 'counter', contains: 'default' },
  vus: { type: 'gauge', contains: 'default' },
  vus_max: { type: 'gauge', contains: 'default' },
  data_received: { type: 'counter', contains: 'data' },
  data_sent: { type: 'counter', contains: 'data' },
};

const AGGREGATIONS: Record<MetricType, string[]> = {
  counter: ['count', 'rate'],
  gauge: ['value'],
  rate: ['rate'],
  trend: ['avg', 'min', 'max', 'med', 'p(N)'],
};

export type Operator = '>' | '>=' | '<' | '<=' | '==' | '===' | '!=';

export interface ThresholdKey {
  metric: string;
  type: MetricType;
  /** Sub-metric tag filter ({} for the whole metric). */
  tags: Record<string, string>;
}

export interface ParsedThreshold {
  key: string;
  source: string;
  /** 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'value' | 'p(95)' … */
  aggregation: string;
  /** For p(N): N. */
  percentile?: number;
  operator: Operator;
  value: number;
}

export class ThresholdSyntaxError extends Error {
  override name = 'ThresholdSyntaxError';
}

const KEY = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\{(.*)\})?\s*$/;
const EXPRESSION =
  /^\s*(avg|min|max|med|count|rate|value|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(===|==|!=|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$/;

/** `http_req_duration{name:predict}` → metric, type and tag filter; unknown metrics are errors. */
export function parseThresholdKey(key: string): ThresholdKey {
  const m = KEY.exec(key);
  if (!m) throw new ThresholdSyntaxError(`"${key}" is not a metric name with an optional {tag:value} filter`);
  const metric = m[1]!;
  const known = BUILTIN_METRICS[metric];
  if (!known) {
    throw new ThresholdSyntaxError(
      `no metric named "${metric}" (metrics reported: ${Object.keys(BUILTIN_METRICS).join(', ')})`,
    );
  }
  const tags: Record<string, string> = {};
  if (m[2] !== undefined) {
    for (const part of m[2].split(',')) {
      const i = part.indexOf(':');
      const k = part.slice(0, i).trim();
      const v = part
        .slice(i + 1)
        .trim()
        .replace(/^(['"])(.*)\1$/, '$2');
      if (i < 0 || !k || !v) {
        throw new ThresholdSyntaxError(`"${key}": sub-metric filter "${part.trim()}" is not tag:value`);
      }
      tags[k] = v;
    }
  }
  return { metric, type: known.type, tags };
}

/** `p(95)<300` on a metric → the parsed threshold; a bad expression names the key and what is wrong. */
export function parseThresholdExpression(key: string, source: string): ParsedThreshold {
  const { metric, type } = parseThresholdKey(key);
  const m = EXPRESSION.exec(source);
  if (!m) {
    throw new ThresholdSyntaxError(
      `"${source}" on ${key} is not "<aggregation> <operator> <number>" (e.g. 'p(95)<300', 'rate<0.01'; operators > >= < <= == === !=)`,
    );
  }
  const percentile = m[2] !== undefined ? Number(m[2]) : undefined;
  const aggregation = percentile !== undefined ? `p(${m[2]})` : m[1]!;
  const allowed = AGGREGATIONS[type];
  if (!allowed.includes(percentile !== undefined ? 'p(N)' : aggregation)) {
    throw new ThresholdSyntaxError(
      `"${source}" on ${key}: aggregation ${aggregation} does not apply to ${metric}, a ${type} metric (use ${allowed.join(', ')})`,
    );
  }
  if (percentile !== undefined && (percentile < 0 || percentile > 100)) {
    throw new ThresholdSyntaxError(
      `"${source}" on ${key}: percentile ${percentile} is not between 0 and 100`,
    );
  }
  return {
    key,
    source,
    aggregation,
    ...(percentile !== undefined ? { percentile } : {}),
    operator: m[3] as Operator,
    value: Number(m[4]),
  };
}

export function compare(actual: number, operator: Operator, value: number): boolean {
  switch (operator) {
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '==':
    case '===':
      return actual === value;
    case '!=':
      return actual !== value;
  }
}

/** The aggregate values a threshold may read, as k6's summary names them ('p(95)', 'avg', 'rate' …). */
export type AggregateSource = (aggregation: string, percentile?: number) => number;

/** Evaluates one parsed threshold against a metric's aggregates. */
export function evaluateThreshold(
  t: ParsedThreshold,
  read: AggregateSource,
): { ok: boolean; actual: number } {
  const actual = read(t.aggregation, t.percentile);
  return { ok: compare(actual, t.operator, t.value), actual };
}
