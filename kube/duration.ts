import { TwinError } from '../core/errors.ts';

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds of a Go duration string ("1m", "30s", "1h30m", "1.5s"); undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * UNITS[m[2]!]!;
    i = re.lastIndex;
  }
  return i > 0 ? total : undefined;
}

/** Milliseconds of a Go duration, or a TwinError naming `field` when `value` is not one. */
export function requireGoDuration(value: string, field = 'duration'): number {
  const s = value.trim();
  if (s.length === 0) throw new TwinError('TWIN_INVALID', `${field}: empty duration`);
  const ms = parseGoDuration(s);
  if (ms === undefined)
    throw new TwinError(
      'TWIN_INVALID',
      `${field}: invalid duration "${value}" (use Go durations such as 30s, 1m, 1h30m)`,
    );
  return ms;
}
