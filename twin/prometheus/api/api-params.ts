import { parsePrometheusDuration } from '../prometheus-duration.ts';

/**
 * Query parameters as Prometheus' HTTP API reads them (web/api/v1): times as Unix seconds
 * (millisecond precision) or RFC 3339, durations as seconds or Prometheus durations.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly errorType:
      | 'bad_data'
      | 'execution'
      | 'timeout'
      | 'canceled'
      | 'internal'
      | 'not_found'
      | 'unavailable',
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    switch (this.errorType) {
      case 'bad_data':
        return 400;
      case 'execution':
        return 422;
      case 'not_found':
        return 404;
      case 'internal':
        return 500;
      default:
        return 503;
    }
  }
}

export function invalidParam(name: string, message: string): ApiError {
  return new ApiError('bad_data', `invalid parameter ${JSON.stringify(name)}: ${message}`);
}

const MIN_TIME = '-292273086-05-16T16:47:06Z';
const MAX_TIME = '292277025-08-18T07:12:54.999999999Z';

/** Milliseconds of a time parameter; undefined when it does not parse. */
export function parseTimeValue(s: string): number | undefined {
  if (s.trim() !== '' && !Number.isNaN(Number(s)) && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) {
    const t = Number(s);
    const whole = Math.trunc(t);
    return whole * 1000 + Math.round((t - whole) * 1000);
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) {
    const ms = Date.parse(s);
    if (!Number.isNaN(ms)) return ms;
  }
  if (s === MIN_TIME) return -9223372036854;
  if (s === MAX_TIME) return 9223372036854;
  return undefined;
}

/** A time parameter, `fallback` when absent (parseTimeParam). */
export function timeParam(params: URLSearchParams, name: string, fallback: number): number {
  const s = params.get(name);
  if (s === null || s === '') return fallback;
  const t = parseTimeValue(s);
  if (t === undefined)
    throw invalidParam(
      name,
      `Invalid time value for '${name}': cannot parse ${JSON.stringify(s)} to a valid timestamp`,
    );
  return t;
}

/** Milliseconds of a duration parameter (parseDuration). */
export function parseDurationValue(s: string): number {
  const seconds = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s) ? Number(s) : Number.NaN;
  if (!Number.isNaN(seconds)) {
    const ms = seconds * 1000;
    if (!Number.isFinite(ms) || Math.abs(ms) > 9.2e15)
      throw new Error(`cannot parse ${JSON.stringify(s)} to a valid duration. It overflows int64`);
    return Math.round(ms);
  }
  try {
    return parsePrometheusDuration(s);
  } catch {
    throw new Error(`cannot parse ${JSON.stringify(s)} to a valid duration`);
  }
}
