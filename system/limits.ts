import { TwinError } from '../core/errors.ts';

/**
 * Bounds on what one machine is asked to model, from the cluster sizes Kubernetes itself supports
 * ("Considerations for large clusters": at most 5,000 nodes per cluster). A topology past it would
 * exhaust memory before anything useful happened; the message names the file, the field, the bound
 * and the variable that raises it. (Replicas per workload are bounded by the manifest validation:
 * system/render/twin-limits.ts, TWIN_MAX_REPLICAS.)
 */
export const LIMITS = {
  nodes: { default: 5000, variable: 'TWIN_MAX_NODES' },
} as const;

export function limit(name: keyof typeof LIMITS, env: NodeJS.ProcessEnv = process.env): number {
  const { default: fallback, variable } = LIMITS[name];
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new TwinError('TWIN_OPTION_INVALID', `${variable}: "${raw}" is not a whole number ≥ 1`);
  return n;
}
