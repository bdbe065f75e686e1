import { TwinError } from '../../core/errors.ts';

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a Go duration ("30s", "1m30s", "500ms", "1h") into milliseconds. */
export function parseGoDuration(value: string, field = 'duration'): number {
  const s = value.trim();
  if (s === '0') return 0;
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m)
      throw new TwinError(
        'TWIN_INVALID',
        `${field}: invalid duration "${value}" (use Go durations such as 30s, 1m, 1h30m)`,
      );
    total += Number(m[1]) * UNITS[m[2]!]!;
    i = re.lastIndex;
  }
  if (s.length === 0) throw new TwinError('TWIN_INVALID', `${field}: empty duration`);
  return total;
}

/**
 * A Rollout pause duration: an integer (seconds) or a string with a unit ("30s", "1m", "1h"); a
 * bare numeric string is seconds, as Argo's DurationString is.
 */
export function parsePauseDuration(value: number | string, field = 'pause.duration'): number {
  if (typeof value === 'number') return value * 1000;
  if (/^[0-9]+$/.test(value.trim())) return Number(value) * 1000;
  return parseGoDuration(value, field);
}
