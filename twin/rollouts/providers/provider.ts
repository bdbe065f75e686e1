import type { LookupFunction } from 'node:net';
import type { Metric } from '../types.ts';

/** What a provider is given for one measurement. */
export interface MeasureContext {
  namespace: string;
  /** Resolves host names (cluster DNS names in the twin) for outgoing requests. */
  lookup?: LookupFunction;
  signal?: AbortSignal;
}

/** A measured value, or why there is none (the measurement's phase becomes Error). */
export type ProviderResult = { value: unknown } | { error: string };

/** An Argo Rollouts metric provider (metric.provider.<type>). */
export interface MetricProvider {
  readonly type: string;
  measure(metric: Metric, ctx: MeasureContext): Promise<ProviderResult>;
}
