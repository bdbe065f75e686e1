import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import { FakeMetricsApi, RolloutHarness } from './rollout-harness.ts';

const NS = 'prod';

function run(name: string, metrics: unknown[], args: unknown[] = []): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisRun',
    metadata: { name, namespace: NS },
    spec: { metrics, args },
  };
}

describe('AnalysisRun controller', () => {
  let h: RolloutHarness;
  let metrics: FakeMetricsApi;
  let url: string;

  beforeEach(async () => {
    h = new RolloutHarness({ scale: 1000 });
    metrics = new FakeMetricsApi();
    url = `http://twin-metrics.twin-system.svc.cluster.local:${await metrics.start()}/api/v1/traffic?service={{args.service}}&window=1m`;
  });

  afterEach(async () => {
    h.stop();
    await metrics.stop();
  });

  const get = (name: string) =>
    h.store.get({ apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisRun', namespace: NS, name })!;
  const finished = (name: string) =>
    h.waitFor(`AnalysisRun ${name} to finish`, () => {
      const r = get(name);
      return ['Successful', 'Failed', 'Error', 'Inconclusive'].includes(r.status?.phase) ? r : undefined;
    });

  it('measures every interval up to count through the web provider and cluster DNS', async () => {
    metrics.errorRate = 0.01;
    const started = h.clock.now();
    h.store.create(
      run(
        'ok',
        [
          {
            name: 'error-rate',
            interval: '20s',
            count: 3,
            successCondition: 'result < 0.05',
            provider: { web: { url, jsonPath: '{$.errorRate}' } },
          },
        ],
        [{ name: 'service', value: 'prod/api' }],
      ),
    );
    const r = await finished('ok');
    expect(r.status.phase).toBe('Successful');
    const m = r.status.metricResults[0];
    expect(m).toMatchObject({
      name: 'error-rate',
      phase: 'Successful',
      count: 3,
      successful: 3,
      failed: 0,
      error: 0,
      consecutiveError: 0,
    });
    expect(m.measurements.map((x: { value: string }) => x.value)).toEqual(['0.01', '0.01', '0.01']);
    const times = m.measurements.map((x: { startedAt: string }) => Date.parse(x.startedAt) - started);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(20_000);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(20_000);
    expect(metrics.queries).toContain('/api/v1/traffic?service=prod/api&window=1m');
  });

  it('waits initialDelay before the first measurement', async () => {
    const started = h.clock.now();
    h.store.create(
      run('delayed', [
        { name: 'm', initialDelay: '1m', provider: { web: { url: url.replace('{{args.service}}', 'x') } } },
      ]),
    );
    const r = await finished('delayed');
    expect(r.status.phase).toBe('Successful');
    expect(Date.parse(r.status.metricResults[0].measurements[0].startedAt) - started).toBeGreaterThanOrEqual(
      60_000,
    );
  });

  it('is Inconclusive when neither condition holds', async () => {
    metrics.errorRate = 0.07;
    h.store.create(
      run('grey', [
        {
          name: 'error-rate',
          successCondition: 'result < 0.05',
          failureCondition: 'result > 0.1',
          provider: { web: { url: url.replace('{{args.service}}', 'x'), jsonPath: '{$.errorRate}' } },
        },
      ]),
    );
    const r = await finished('grey');
    expect(r.status.phase).toBe('Inconclusive');
    expect(r.status.message).toBe(
      'Metric "error-rate" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0)',
    );
  });

  it('errors a run whose args are missing', async () => {
    h.store.create(run('noargs', [{ name: 'm', provider: { web: { url } } }], [{ name: 'service' }]));
    const r = await finished('noargs');
    expect(r.status).toMatchObject({ phase: 'Error', message: 'args.service was not resolved' });
  });

  it('records a non-2xx response and a bad jsonPath as measurement errors', async () => {
    const plain = url.replace('{{args.service}}', 'x');
    h.store.create(
      run('bad', [
        {
          name: 'notfound',
          consecutiveErrorLimit: 0,
          provider: { web: { url: plain.replace('/api/v1/traffic', '/nope') } },
        },
        {
          name: 'path',
          consecutiveErrorLimit: 0,
          provider: { web: { url: plain, jsonPath: '{$.nothing}' } },
        },
      ]),
    );
    const r = await finished('bad');
    expect(r.status.phase).toBe('Error');
    const message = (name: string) =>
      r.status.metricResults.find((m: { name: string }) => m.name === name).measurements[0].message;
    expect(message('notfound')).toBe('received non 2xx response code: 404');
    expect(message('path')).toBe('jsonPath "{$.nothing}": nothing is not found');
  });

  it('runs a metric without count until spec.terminate, then ends Successful', async () => {
    h.store.create(
      run('bg', [
        { name: 'm', interval: '5s', provider: { web: { url: url.replace('{{args.service}}', 'x') } } },
      ]),
    );
    await h.waitFor('two measurements', () => (get('bg').status?.metricResults?.[0]?.count ?? 0) >= 2);
    expect(get('bg').status.phase).toBe('Running');
    h.store.patch(
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisRun', namespace: NS, name: 'bg' },
      (o) => {
        o.spec.terminate = true;
      },
    );
    const r = await finished('bg');
    expect(r.status).toMatchObject({ phase: 'Successful', message: 'Run Terminated' });
  });
});
