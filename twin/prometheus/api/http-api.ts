import { formatGoFloat } from '../go-float.ts';
import { compareStrings, isValidLabelName, type Labels, labelsKey, labelsToRecord } from '../labels.ts';
import { formatPrometheusDuration } from '../prometheus-duration.ts';
import { typeName, typeOf, type VectorSelector } from '../promql/ast.ts';
import type { Engine } from '../promql/engine.ts';
import { PromQLParseError } from '../promql/parser.ts';
import { PromQLExecutionError, PromQLTimeoutError, type Series } from '../promql/value.ts';
import type { ActiveTarget } from '../scrape/scrape-manager.ts';
import { hasSamplesIn, type MemSeries } from '../tsdb/head.ts';
import { ApiError, invalidParam, parseDurationValue, timeParam } from './api-params.ts';

/**
 * Prometheus' HTTP API v1 (https://prometheus.io/docs/prometheus/2.54/querying/api/): query,
 * query_range, series, labels, label values, targets, buildinfo, with Prometheus' JSON shapes,
 * error types and status codes. Pure: a request in, a response out (the server adds the socket).
 */
export interface ApiDeps {
  engine: Engine;
  /** Control-plane now, the default query time. */
  now(): number;
  /** Series matching a selector's matchers (all series without one). */
  select(selector?: VectorSelector): MemSeries[];
  activeTargets(): ActiveTarget[];
  droppedTargets(): Array<{ job: string; discoveredLabels: Labels }>;
  jobNames(): string[];
  /** The address the web UI and API are reached at (globalUrl of targets). */
  externalHost: string;
}

export interface ApiResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Text written into the JSON as it is: sample values and timestamps exactly as Prometheus writes them. */
class RawJson {
  constructor(readonly text: string) {}
}

const Json = { raw: (text: string) => new RawJson(text) };

function stringify(v: unknown): string {
  if (v instanceof RawJson) return v.text;
  if (Array.isArray(v)) return `[${v.map(stringify).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${JSON.stringify(k)}:${stringify(x)}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** jsonutil.MarshalTimestamp: seconds with the milliseconds as three digits, when there are any. */
export function formatTimestamp(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  const seconds = Math.trunc(abs / 1000);
  const fraction = abs % 1000;
  return fraction === 0 ? `${sign}${seconds}` : `${sign}${seconds}.${String(fraction).padStart(3, '0')}`;
}

function point(t: number, v: number): RawJson {
  return Json.raw(`[${formatTimestamp(t)},${JSON.stringify(formatGoFloat(v))}]`);
}

function success(data: unknown): ApiResponse {
  return { status: 200, contentType: 'application/json', body: stringify({ status: 'success', data }) };
}

function failure(err: ApiError): ApiResponse {
  return {
    status: err.status,
    contentType: 'application/json',
    body: stringify({ status: 'error', errorType: err.errorType, error: err.message }),
  };
}

function matrixJson(series: Series[]): unknown[] {
  return series.map((s) => ({
    metric: labelsToRecord(s.labels),
    values: Json.raw(`[${s.ts.map((t, i) => point(t, s.vs[i]!).text).join(',')}]`),
  }));
}

function queryError(err: unknown, param = 'query'): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof PromQLParseError) return invalidParam(param, err.message);
  if (err instanceof PromQLExecutionError) return new ApiError('execution', err.message);
  if (err instanceof PromQLTimeoutError) return new ApiError('timeout', err.message);
  return new ApiError('internal', (err as Error)?.message ?? String(err));
}

function timeoutOf(params: URLSearchParams): void {
  const t = params.get('timeout');
  if (t === null || t === '') return;
  try {
    parseDurationValue(t);
  } catch (err) {
    throw invalidParam('timeout', (err as Error).message);
  }
}

function matchers(deps: ApiDeps, params: URLSearchParams, required: boolean): VectorSelector[] | undefined {
  const values = params.getAll('match[]');
  if (values.length === 0) {
    if (required) throw new ApiError('bad_data', 'no match[] parameter provided');
    return undefined;
  }
  return values.map((m) => {
    let e: ReturnType<Engine['parse']>;
    try {
      e = deps.engine.parse(m);
    } catch (err) {
      if (err instanceof PromQLParseError) throw new ApiError('bad_data', err.message);
      throw err;
    }
    if (e.type !== 'VectorSelector')
      throw new ApiError('bad_data', `invalid parameter "match[]": parse error: expected vector selector`);
    return e;
  });
}

/** Series that match any of the selectors and have samples in [start, end]. */
function seriesIn(
  deps: ApiDeps,
  selectors: VectorSelector[] | undefined,
  start: number,
  end: number,
): MemSeries[] {
  const found = new Map<string, MemSeries>();
  for (const sel of selectors ?? [undefined]) {
    for (const s of deps.select(sel)) if (hasSamplesIn(s, start, end)) found.set(s.key, s);
  }
  return [...found.values()];
}

const MIN = -9223372036854;
const MAX = 9223372036854;

export function handleApi(method: string, path: string, params: URLSearchParams, deps: ApiDeps): ApiResponse {
  try {
    if (method !== 'GET' && method !== 'POST')
      return { status: 405, contentType: 'text/plain; charset=utf-8', body: 'Method Not Allowed\n' };
    if (path === '/api/v1/query') {
      timeoutOf(params);
      const t = timeParam(params, 'time', deps.now());
      const result = (() => {
        try {
          return deps.engine.instantQuery(params.get('query') ?? '', t);
        } catch (err) {
          throw queryError(err);
        }
      })();
      switch (result.type) {
        case 'scalar':
          return success({ resultType: 'scalar', result: point(t, result.v) });
        case 'string':
          return success({
            resultType: 'string',
            result: Json.raw(`[${formatTimestamp(t)},${JSON.stringify(result.s)}]`),
          });
        case 'vector':
          return success({
            resultType: 'vector',
            result: result.samples.map((s) => ({ metric: labelsToRecord(s.labels), value: point(t, s.v) })),
          });
        case 'matrix':
          return success({ resultType: 'matrix', result: matrixJson(result.series) });
      }
    }
    if (path === '/api/v1/query_range') {
      const start = timeParam(params, 'start', Number.NaN);
      const end = timeParam(params, 'end', Number.NaN);
      if (Number.isNaN(start))
        throw invalidParam('start', `Invalid time value for 'start': cannot parse "" to a valid timestamp`);
      if (Number.isNaN(end))
        throw invalidParam('end', `Invalid time value for 'end': cannot parse "" to a valid timestamp`);
      if (end < start) throw invalidParam('end', 'end timestamp must not be before start time');
      let step: number;
      try {
        step = parseDurationValue(params.get('step') ?? '');
      } catch (err) {
        throw invalidParam('step', (err as Error).message);
      }
      if (step <= 0)
        throw invalidParam(
          'step',
          'zero or negative query resolution step widths are not accepted. Try a positive integer',
        );
      if ((end - start) / step > 11000)
        throw new ApiError(
          'bad_data',
          'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
        );
      timeoutOf(params);
      let series: Series[];
      try {
        const expr = deps.engine.parse(params.get('query') ?? '');
        const type = typeOf(expr);
        if (type !== 'scalar' && type !== 'vector')
          throw new ApiError(
            'bad_data',
            `invalid expression type ${JSON.stringify(typeName(type))} for range query, must be Scalar or instant Vector`,
          );
        series = deps.engine.rangeQuery(expr, start, end, step);
      } catch (err) {
        throw queryError(err);
      }
      return success({ resultType: 'matrix', result: matrixJson(series) });
    }
    if (path === '/api/v1/series') {
      const selectors = matchers(deps, params, true);
      const start = timeParam(params, 'start', MIN);
      const end = timeParam(params, 'end', MAX);
      return success(seriesIn(deps, selectors, start, end).map((s) => labelsToRecord(s.labels)));
    }
    if (path === '/api/v1/labels') {
      const selectors = matchers(deps, params, false);
      const names = new Set<string>();
      for (const s of seriesIn(
        deps,
        selectors,
        timeParam(params, 'start', MIN),
        timeParam(params, 'end', MAX),
      ))
        for (const l of s.labels) names.add(l.name);
      return success([...names].sort(compareStrings));
    }
    const values = /^\/api\/v1\/label\/([^/]+)\/values$/.exec(path);
    if (values) {
      const name = decodeURIComponent(values[1]!);
      if (!isValidLabelName(name))
        throw new ApiError('bad_data', `invalid label name: ${JSON.stringify(name)}`);
      const selectors = matchers(deps, params, false);
      const found = new Set<string>();
      for (const s of seriesIn(
        deps,
        selectors,
        timeParam(params, 'start', MIN),
        timeParam(params, 'end', MAX),
      )) {
        const v = s.labels.find((l) => l.name === name)?.value;
        if (v !== undefined) found.add(v);
      }
      return success([...found].sort(compareStrings));
    }
    if (path === '/api/v1/targets') return success(targetsJson(deps, params));
    if (path === '/api/v1/status/buildinfo')
      return success({
        version: '2.54.1',
        revision: 'infra-twin',
        branch: 'twin',
        buildUser: 'infra-twin',
        buildDate: '',
        goVersion: 'twin (Node.js)',
      });
    return { status: 404, contentType: 'text/plain; charset=utf-8', body: '404 page not found\n' };
  } catch (err) {
    return failure(queryError(err));
  }
}

function targetsJson(deps: ApiDeps, params: URLSearchParams) {
  const state = (params.get('state') ?? 'any').toLowerCase();
  const pool = params.get('scrapePool');
  const showActive = state === 'any' || state === 'active' || state === '';
  const showDropped = state === 'any' || state === 'dropped' || state === '';
  const out: Record<string, unknown> = {};
  if (showActive) {
    out['activeTargets'] = deps
      .activeTargets()
      .filter((t) => !pool || t.job === pool)
      .sort(
        (a, b) =>
          compareStrings(a.job, b.job) ||
          compareStrings(labelsKey(a.loop.target.publicLabels), labelsKey(b.loop.target.publicLabels)),
      )
      .map(({ job, loop }) => ({
        discoveredLabels: labelsToRecord(loop.target.discoveredLabels),
        labels: labelsToRecord(loop.target.publicLabels),
        scrapePool: job,
        scrapeUrl: loop.target.url,
        globalUrl: loop.target.url.replace(/^(\w+:\/\/)[^:/]+/, `$1${deps.externalHost}`),
        lastError: loop.lastError,
        lastScrape:
          loop.lastScrape === undefined ? '0001-01-01T00:00:00Z' : new Date(loop.lastScrape).toISOString(),
        lastScrapeDuration: loop.lastScrapeDurationSeconds,
        health: loop.health,
        scrapeInterval: formatPrometheusDuration(loop.target.intervalMs),
        scrapeTimeout: formatPrometheusDuration(loop.target.timeoutMs),
      }));
  }
  if (showDropped) {
    const dropped = deps.droppedTargets().filter((t) => !pool || t.job === pool);
    out['droppedTargets'] = dropped.map((t) => ({ discoveredLabels: labelsToRecord(t.discoveredLabels) }));
    const counts: Record<string, number> = {};
    for (const job of deps.jobNames()) counts[job] = dropped.filter((d) => d.job === job).length;
    out['droppedTargetCounts'] = counts;
  }
  return out;
}
