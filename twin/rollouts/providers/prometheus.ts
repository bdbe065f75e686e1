import type { Metric } from '../types.ts';
import type { MetricProvider, ProviderResult } from './provider.ts';

export const TWIN_METRICS_TRAFFIC_URL = 'http://twin-metrics.twin-system.svc.cluster.local/api/v1/traffic';

/** Twin simplification: no Prometheus runs in the twin; the measurement errors and says how to re-point the metric. */
export class PrometheusProvider implements MetricProvider {
  readonly type = 'prometheus';

  async measure(metric: Metric): Promise<ProviderResult> {
    const address = metric.provider['prometheus']?.address ?? '(no address)';
    return {
      error:
        `metric "${metric.name}": the twin has no Prometheus (${address}); in the local overlay re-point this metric ` +
        `to the web provider at the twin's metrics API, e.g. web.url: ${TWIN_METRICS_TRAFFIC_URL}?service=<namespace>/<service>&window=1m ` +
        `with jsonPath: "{$.errorRate}"`,
    };
  }
}
