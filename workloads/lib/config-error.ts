/** A configuration value the workload cannot start with; the entry prints it and exits 1. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A number from the environment, or the fallback when unset; anything else outside [min, max] is a ConfigError. */
export function numberFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  range: { min?: number; max?: number } = {},
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  const min = range.min ?? Number.NEGATIVE_INFINITY;
  const max = range.max ?? Number.POSITIVE_INFINITY;
  if (!Number.isFinite(value) || value < min || value > max) {
    const bounds = `${Number.isFinite(min) ? min : '-∞'}..${Number.isFinite(max) ? max : '∞'}`;
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a number in ${bounds}; fix or unset it`);
  }
  return value;
}
