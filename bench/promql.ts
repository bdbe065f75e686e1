import { labelsFrom } from '../twin/prometheus/labels.ts';
import { DEFAULT_ENGINE_OPTIONS, Engine } from '../twin/prometheus/promql/engine.ts';
import { Head } from '../twin/prometheus/tsdb/head.ts';

/**
 * The twin Prometheus' engine on the AI platform's scale: the api's request counters and latency
 * histograms of 30 pods behind api-stable and api-canary (routes × codes × buckets: about 4 000
 * series), one hour of 15 s scrapes, then the canary analysis' two queries and a range query.
 * `npm run bench -- promql [--runs N]`.
 */
export async function benchPromql(args: string[]): Promise<void> {
  const runsArg = args.indexOf('--runs');
  const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : 20;
  const head = new Head();
  const now = 3_600_000;
  const buckets = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
  let series = 0;
  const t0 = performance.now();
  for (let pod = 0; pod < 30; pod++) {
    const service = pod < 3 ? 'api-canary' : 'api-stable';
    for (const route of ['/api/v1/predict', '/api/v1/version', '/api/v1/devices/:device/prediction']) {
      for (const code of ['200', '404', '500']) {
        const base = { namespace: 'production', service, pod: `api-${pod}`, route, code, method: 'GET' };
        const add = (labels: Record<string, string>, perSample: number) => {
          const { series: s } = head.getOrCreate(labelsFrom(labels));
          for (let t = 0, v = 0; t <= now; t += 15_000, v += perSample) head.append(s, t, v);
          series++;
        };
        add({ __name__: 'http_requests_total', ...base }, 10);
        for (const [i, le] of buckets.entries())
          add({ __name__: 'http_request_duration_seconds_bucket', ...base, le }, i + 1);
      }
    }
  }
  console.log(
    `promql: ${series} series × ${now / 15_000 + 1} samples loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const engine = new Engine(head, DEFAULT_ENGINE_OPTIONS);
  const queries: Array<[string, () => unknown]> = [
    [
      'error rate',
      () =>
        engine.instantQuery(
          '(sum(rate(http_requests_total{namespace="production",service="api-canary",code=~"5.."}[1m])) or vector(0)) / sum(rate(http_requests_total{namespace="production",service="api-canary"}[1m]))',
          now,
        ),
    ],
    [
      'latency p95',
      () =>
        engine.instantQuery(
          'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="production",service="api-canary"}[1m])))',
          now,
        ),
    ],
    [
      'sum by service, 1 h at 1 min',
      () => engine.rangeQuery('sum by (service, code) (rate(http_requests_total[5m]))', 0, now, 60_000),
    ],
  ];
  for (const [name, run] of queries) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const s = performance.now();
      run();
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    console.log(
      `bench:promql  ${name}: median ${times[Math.floor(times.length / 2)]!.toFixed(2)} ms, best ${times[0]!.toFixed(2)} ms over ${runs} runs`,
    );
  }
}
