import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../kube/clock.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { parseFlags } from '../../../twin/prometheus/command-line.ts';
import { labelsFrom } from '../../../twin/prometheus/labels.ts';
import { PrometheusServer } from '../../../twin/prometheus/prometheus-server.ts';
import { freePort } from '../prometheus/differential/reference-prometheus.ts';
import { RolloutHarness } from './rollout-harness.ts';

/**
 * The prometheus metric provider against the twin's own Prometheus server (its head filled with
 * series stamped in the harness's control-plane time): queries, the recorded values, the
 * ResolvedPrometheusQuery metadata and the errors, as Argo Rollouts records them.
 */
const NS = 'production';
const ERROR_RATE =
  '(sum(rate(http_requests_total{namespace="{{args.namespace}}",service="{{args.service}}",code=~"5.."}[1m])) or vector(0))\n/\nsum(rate(http_requests_total{namespace="{{args.namespace}}",service="{{args.service}}"}[1m]))';

describe('Argo Rollouts prometheus provider', () => {
  let h: RolloutHarness;
  let server: PrometheusServer;
  let address: string;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prom-provider-'));
    writeFileSync(path.join(dir, 'prometheus.yml'), 'global: { scrape_interval: 15s }\n');
    const port = await freePort();
    server = new PrometheusServer({
      flags: parseFlags([]),
      configFile: path.join(dir, 'prometheus.yml'),
      clock: new ScaledClock(1),
      host: '127.0.0.1',
      port,
      env: {},
      serviceAccountDir: '/nonexistent',
      log: () => {},
    });
    await server.start();
    address = `http://prometheus.system.svc.cluster.local:${port}`;
  });

  afterAll(async () => {
    await server?.close();
  });

  beforeEach(() => {
    h = new RolloutHarness({ scale: 1000 });
    // 20 minutes of counters around the harness's control-plane now: 10 req/s, the canary 20 % 5xx.
    const now = h.clock.now();
    for (const [service, code, perSecond] of [
      ['api-canary', '200', 8],
      ['api-canary', '500', 2],
      ['api-stable', '200', 10],
    ] as const) {
      const { series } = server.head.getOrCreate(
        labelsFrom({ __name__: 'http_requests_total', namespace: NS, service, code, run: String(now) }),
      );
      for (let t = now - 600_000; t <= now + 1_200_000; t += 15_000)
        server.head.append(series, Math.round(t), ((t - now + 600_000) / 1000) * perSecond);
    }
  });

  afterEach(() => h.stop());

  const run = (name: string, metrics: unknown[], args: unknown[]): KubeObject => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisRun',
    metadata: { name, namespace: NS },
    spec: { metrics, args },
  });
  const finished = (name: string) =>
    h.waitFor(`AnalysisRun ${name} to finish`, () => {
      const r = h.store.get({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'AnalysisRun',
        namespace: NS,
        name,
      })!;
      return ['Successful', 'Failed', 'Error', 'Inconclusive'].includes(r.status?.phase) ? r : undefined;
    });

  it('queries the address at control-plane time and records "[value]" and the resolved query', async () => {
    h.store.create(
      run(
        'canary',
        [
          {
            name: 'error-rate',
            interval: '1m',
            count: 2,
            successCondition: 'result[0] < 0.05',
            failureLimit: 1,
            provider: { prometheus: { address, query: ERROR_RATE } },
          },
        ],
        [
          { name: 'service', value: 'api-canary' },
          { name: 'namespace', value: NS },
        ],
      ),
    );
    const r = await finished('canary');
    const result = r.status.metricResults[0];
    expect(result.measurements.map((m: any) => [m.phase, m.value])).toEqual([
      ['Failed', '[0.2]'],
      ['Failed', '[0.2]'],
    ]);
    expect(result.metadata).toEqual({
      ResolvedPrometheusQuery: ERROR_RATE.replaceAll('{{args.namespace}}', NS).replaceAll(
        '{{args.service}}',
        'api-canary',
      ),
    });
    expect(r.status.phase).toBe('Failed');
  });

  it('measures 0 for a service without a 5xx series thanks to or vector(0), and errors on an empty result', async () => {
    h.store.create(
      run(
        'stable',
        [
          {
            name: 'error-rate',
            successCondition: 'result[0] < 0.05',
            provider: { prometheus: { address, query: ERROR_RATE } },
          },
          {
            name: 'nothing',
            successCondition: 'result[0] < 0.05',
            consecutiveErrorLimit: 0,
            provider: {
              prometheus: { address, query: 'sum(rate(http_requests_total{service="none"}[1m]))' },
            },
          },
        ],
        [
          { name: 'service', value: 'api-stable' },
          { name: 'namespace', value: NS },
        ],
      ),
    );
    const r = await finished('stable');
    const [rate, nothing] = r.status.metricResults;
    expect(rate.measurements[0]).toMatchObject({ phase: 'Successful', value: '[0]' });
    expect(nothing.measurements[0].phase).toBe('Error');
    expect(nothing.measurements[0].message).toContain('index out of range');
    expect(nothing.measurements[0].value).toBeUndefined();
  });

  it('records Prometheus API errors and a missing address as Argo words them', async () => {
    h.store.create(
      run(
        'bad',
        [
          {
            name: 'parse',
            consecutiveErrorLimit: 0,
            provider: { prometheus: { address, query: 'rate(x)' } },
          },
          { name: 'noaddress', consecutiveErrorLimit: 0, provider: { prometheus: { query: 'up' } } },
          {
            name: 'matrix',
            consecutiveErrorLimit: 0,
            provider: { prometheus: { address, query: 'up[1m]' } },
          },
        ],
        [],
      ),
    );
    const r = await finished('bad');
    const messages = r.status.metricResults.map((m: any) => m.measurements[0].message);
    expect(messages).toEqual([
      'bad_data: invalid parameter "query": 1:6: parse error: expected type range vector in call to function "rate", got instant vector',
      'prometheus address is not configured',
      'Prometheus metric type not supported',
    ]);
  });
});
