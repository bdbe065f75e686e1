import { TwinError } from '../../core/errors.ts';
import { parseGoDuration as goDuration } from '../../core/go-duration.ts';

/** Parses a Go duration ("30s", "1m30s", "500ms", "1h") into milliseconds; a TwinError naming `field` when it is not one. */
export function parseGoDuration(value: string, field = 'duration'): number {
  const s = value.trim();
  if (s.length === 0) throw new TwinError('TWIN_INVALID', `${field}: empty duration`);
  const ms = goDuration(s);
  if (ms === undefined)
    throw new TwinError(
      'TWIN_INVALID',
      `${field}: invalid duration "${value}" (use Go durations such as 30s, 1m, 1h30m)`,
    );
  return ms;
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
