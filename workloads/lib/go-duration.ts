import { ConfigError } from './config-error.ts';

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * A Go duration from the environment in milliseconds ("30s", "1m30s", "500ms"), as OpenFaaS's
 * components read their timeouts; a bare number is seconds, as they also accept. Unset: the fallback.
 */
export function durationFromEnv(env: NodeJS.ProcessEnv, name: string, fallbackMs: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallbackMs;
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw) * 1000;
  let total = 0;
  let rest = raw;
  const part = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/;
  while (rest.length > 0) {
    const m = part.exec(rest);
    if (!m)
      throw new ConfigError(
        `${name}=${JSON.stringify(raw)} is not a duration; write e.g. 30s, 1m30s or 500ms`,
      );
    total += Number(m[1]) * UNITS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}
