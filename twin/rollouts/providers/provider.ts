import type { LookupFunction } from 'node:net';
import type { Metric } from '../types.ts';

/** What a provider is given for one measurement. */
export interface MeasureContext {
  namespace: string;
  /** Resolves host names (cluster DNS names in the twin) for outgoing requests. */
  lookup?: LookupFunction;
  signal?: AbortSignal;
  /** The controller's clock (control-plane time in the twin), for providers that send a time. */
  now?: () => number;
}

/**
 * A measured value, or why there is none (the measurement's phase becomes Error). `value` is what
 * the conditions see as `result`; `valueText` is the measurement's recorded value when the
 * provider formats it itself (Argo's prometheus provider writes "[0.01]"); `measurementMetadata`
 * goes on the measurement (e.g. Prometheus warnings).
 */
export type ProviderResult =
  | { value: unknown; valueText?: string; measurementMetadata?: Record<string, string> }
  | { error: string };

/** An Argo Rollouts metric provider (metric.provider.<type>). */
export interface MetricProvider {
  readonly type: string;
  measure(metric: Metric, ctx: MeasureContext): Promise<ProviderResult>;
  /** Metadata of the metric's result (GetMetadata), e.g. the resolved Prometheus query. */
  metadata?(metric: Metric): Record<string, string>;
}
