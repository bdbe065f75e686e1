/**
 * Prometheus durations (model.Duration): `1y2w3d4h5m6s7ms`, each unit at most once and in that
 * order, integers only; "0" is zero. Years are 365 days, weeks 7 days.
 */
const UNITS: Array<[string, number]> = [
  ['y', 365 * 24 * 3600_000],
  ['w', 7 * 24 * 3600_000],
  ['d', 24 * 3600_000],
  ['h', 3600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];
const PATTERN = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

export class DurationError extends Error {
  override name = 'DurationError';
}

/** Milliseconds of a Prometheus duration; throws DurationError with Prometheus' message. */
export function parsePrometheusDuration(text: string): number {
  if (text === '') throw new DurationError('empty duration string');
  if (text === '0') return 0;
  const m = PATTERN.exec(text);
  if (!m) throw new DurationError(`not a valid duration string: ${JSON.stringify(text)}`);
  let ms = 0;
  for (let i = 0; i < UNITS.length; i++) {
    const v = m[i + 1];
    if (v !== undefined) ms += Number(v) * UNITS[i]![1];
  }
  if (!Number.isSafeInteger(ms)) throw new DurationError(`duration out of range: ${JSON.stringify(text)}`);
  return ms;
}

export function isPrometheusDuration(text: string): boolean {
  return text === '0' || (text !== '' && PATTERN.test(text));
}

/** model.Duration.String(): `90s` is `1m30s`; years and weeks only when they divide exactly. */
export function formatPrometheusDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, mult] of UNITS) {
    if ((unit === 'y' || unit === 'w') && rest % mult !== 0) continue;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      out += `${v}${unit}`;
      rest -= v * mult;
    }
  }
  return out;
}
