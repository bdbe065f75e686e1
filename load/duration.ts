import { parseGoDuration } from '../kube/duration.ts';

/**
 * Milliseconds in a k6 duration, or undefined when it is not one: a string of number+unit parts
 * ('500ms', '30s', '1m30s', '2h'; Go's units) or a plain number of milliseconds, as k6's
 * `types.Duration` accepts them.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  return parseGoDuration(text);
}

/** The shortest k6 spelling of a whole number of milliseconds ('1m30s', '250ms'). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 1000 !== 0) return `${Math.round(ms)}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
}
