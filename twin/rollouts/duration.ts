import { requireGoDuration } from '../../kube/duration.ts';

/**
 * A Rollout pause duration: an integer (seconds) or a string with a unit ("30s", "1m", "1h"); a
 * bare numeric string is seconds, as Argo's DurationString is.
 */
export function parsePauseDuration(value: number | string, field = 'pause.duration'): number {
  if (typeof value === 'number') return value * 1000;
  if (/^[0-9]+$/.test(value.trim())) return Number(value) * 1000;
  return requireGoDuration(value, field);
}
