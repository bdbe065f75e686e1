import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { promote } from '../../../twin/rollouts/index.ts';
import { albIngress, FakeMetricsApi, RolloutHarness, rollout, service, setImage } from './rollout-harness.ts';

const NS = 'prod';

describe('Rollout background analysis and inconclusive results', () => {
  let h: RolloutHarness;
  let metrics: FakeMetricsApi;

  beforeEach(async () => {
    h = new RolloutHarness({ scale: 1000 });
    metrics = new FakeMetricsApi();
    const port = await metrics.start();
    const web = {
      url: `http://twin-metrics.twin-system.svc.cluster.local:${port}/api/v1/traffic?service=${NS}/{{args.service}}-canary&window=1m`,
      jsonPath: '{$.errorRate}',
    };
    h.store.create(service(NS, 'api-stable', 'api'));
    h.store.create(service(NS, 'api-canary', 'api'));
    h.store.create(albIngress(NS, 'api', 'api-stable'));
    h.store.create({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'ClusterAnalysisTemplate',
      metadata: { name: 'error-rate' },
      spec: {
        args: [{ name: 'service' }],
        metrics: [
          { name: 'error-rate', interval: '10s', successCondition: 'result < 0.05', provider: { web } },
        ],
      },
    });
    h.store.create({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisTemplate',
      metadata: { name: 'grey-zone', namespace: NS },
      spec: {
        args: [{ name: 'service', value: 'api' }],
        metrics: [
          {
            name: 'error-rate',
            successCondition: 'result < 0.05',
            failureCondition: 'result > 0.1',
            provider: { web },
          },
        ],
      },
    });
    h.store.create(
      rollout(NS, 'api', 'api:v1', {
        replicas: 2,
        strategy: {
          canary: {
            canaryService: 'api-canary',
            stableService: 'api-stable',
            trafficRouting: { alb: { ingress: 'api', servicePort: 80 } },
            analysis: {
              templates: [{ templateName: 'error-rate', clusterScope: true }],
              startingStep: 1,
              args: [{ name: 'service', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            },
            steps: [
              { setWeight: 20 },
              { pause: { duration: '1m' } },
              {
                analysis: {
                  templates: [{ templateName: 'grey-zone' }],
                  args: [{ name: 'service', value: 'grey' }],
                },
              },
              { setWeight: 60 },
            ],
          },
        },
      }),
    );
    await h.waitFor(
      'the first revision to be Healthy',
      () => h.rollout(NS, 'api').status?.phase === 'Healthy',
    );
  });

  afterEach(async () => {
    h.stop();
    await metrics.stop();
  });

  const runs = () =>
    h.store.list({ apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisRun' }, { namespace: NS });

  it('aborts when the background analysis fails', async () => {
    metrics.errorRate = 0.01;
    setImage(h, NS, 'api', 'api:v2');
    await h.waitFor(
      'the background run',
      () => h.rollout(NS, 'api').status?.canary?.currentBackgroundAnalysisRunStatus,
    );
    const bg = runs().find((r) => r.metadata.labels?.['rollout-type'] === 'Background')!;
    expect(bg.spec.args).toEqual([{ name: 'service', value: 'api' }]);
    metrics.errorRate = 0.3;
    const ro = await h.waitFor('Degraded', () => {
      const r = h.rollout(NS, 'api');
      return r.status?.phase === 'Degraded' ? r : undefined;
    });
    expect(ro.status.message).toBe(
      'RolloutAborted: Rollout aborted update to revision 2: Metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)',
    );
    expect(ro.status.canary.currentBackgroundAnalysisRunStatus).toMatchObject({ status: 'Failed' });
    expect(metrics.queries).toContain('/api/v1/traffic?service=prod/api-canary&window=1m');
  });

  it('starts at startingStep, pauses on an inconclusive step analysis until promoted, and ends with the update', async () => {
    metrics.errorRate = 0.01;
    metrics.byService.set('prod/grey-canary', 0.07);
    setImage(h, NS, 'api', 'api:v2');
    const paused = await h.waitFor('the inconclusive pause', () => {
      const r = h.rollout(NS, 'api');
      return r.status?.phase === 'Paused' && r.status.currentStepIndex === 2 ? r : undefined;
    });
    expect(paused.status.message).toBe('InconclusiveAnalysisRun');
    expect(paused.status.pauseConditions.map((p: { reason: string }) => p.reason)).toEqual([
      'InconclusiveAnalysisRun',
    ]);
    expect(paused.status.canary.currentStepAnalysisRunStatus).toMatchObject({
      status: 'Inconclusive',
      message: 'Metric "error-rate" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0)',
    });
    const events = h.eventsFor('api');
    const bgStarted = events.findIndex((e) => e.startsWith('AnalysisRunRunning: Background Analysis Run'));
    expect(bgStarted).toBeGreaterThan(
      events.indexOf('RolloutStepCompleted: Rollout step 1/4 completed (setWeight: 20)'),
    );

    promote(h.store, { namespace: NS, name: 'api' });
    const done = await h.waitFor('Healthy', () => {
      const r = h.rollout(NS, 'api');
      return r.status?.phase === 'Healthy' && r.status.stableRS === r.status.currentPodHash ? r : undefined;
    });
    expect(done.status.canary.currentBackgroundAnalysisRunStatus).toBeUndefined();
    const bg = runs().find((r) => r.metadata.labels?.['rollout-type'] === 'Background')!;
    const ended = await h.waitFor('the background run to end', () => {
      const r = h.store.get({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'AnalysisRun',
        namespace: NS,
        name: bg.metadata.name,
      })!;
      return r.status?.phase === 'Successful' ? r : undefined;
    });
    expect(ended.spec.terminate).toBe(true);
  });
});
