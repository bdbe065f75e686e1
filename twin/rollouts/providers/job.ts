import type { Metric } from '../types.ts';
import type { MetricProvider, ProviderResult } from './provider.ts';

/** Twin simplification: the job provider is not run; its measurements are Errors. */
export class JobProvider implements MetricProvider {
  readonly type = 'job';

  async measure(metric: Metric): Promise<ProviderResult> {
    return {
      error: `metric "${metric.name}": the job provider is not supported on the twin yet; use the web provider`,
    };
  }
}
