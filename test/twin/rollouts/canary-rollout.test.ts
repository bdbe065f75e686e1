import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import { abort, podTemplateHash, promote, retry } from '../../../twin/rollouts/index.ts';
import { albIngress, FakeMetricsApi, RolloutHarness, rollout, service, setImage } from './rollout-harness.ts';

const NS = 'prod';
const ACTION = 'alb.ingress.kubernetes.io/actions.api-stable';

function errorRateTemplate(port: number): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: 'error-rate', namespace: NS },
    spec: {
      args: [{ name: 'service' }],
      metrics: [
        {
          name: 'error-rate',
          interval: '10s',
          count: 3,
          failureLimit: 1,
          successCondition: 'default(result, 0) < 0.05',
          provider: {
            web: {
              url: `http://twin-metrics.twin-system.svc.cluster.local:${port}/api/v1/traffic?service={{args.service}}&window=1m`,
              jsonPath: '{$.errorRate}',
            },
          },
        },
      ],
    },
  };
}

const albCanary = {
  replicas: 4,
  strategy: {
    canary: {
      canaryService: 'api-canary',
      stableService: 'api-stable',
      trafficRouting: { alb: { ingress: 'api', servicePort: 80 } },
      steps: [
        { setWeight: 10 },
        {
          analysis: {
            templates: [{ templateName: 'error-rate' }],
            args: [{ name: 'service', value: 'prod/api-canary' }],
          },
        },
        { setWeight: 50 },
        { pause: { duration: '30s' } },
        { setWeight: 100 },
      ],
    },
  },
};

function rsFor(h: RolloutHarness, image: string): KubeObject | undefined {
  const ro = h.rollout(NS, 'api');
  const template = structuredClone(ro.spec.template);
  template.spec.containers[0].image = image;
  return h.store.get({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    namespace: NS,
    name: `api-${podTemplateHash(template)}`,
  });
}

describe('Rollout canary with the ALB router', () => {
  let h: RolloutHarness;
  let metrics: FakeMetricsApi;
  const weights: number[] = [];

  beforeEach(async () => {
    h = new RolloutHarness({ scale: 1000 });
    metrics = new FakeMetricsApi();
    const port = await metrics.start();
    weights.length = 0;
    h.store.watch({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' }, (e) => {
      const raw = e.object.metadata.annotations?.[ACTION];
      if (!raw || raw === e.oldObject?.metadata.annotations?.[ACTION]) return;
      weights.push(JSON.parse(raw).ForwardConfig.TargetGroups[0].Weight);
    });
    h.store.create(service(NS, 'api-stable', 'api'));
    h.store.create(service(NS, 'api-canary', 'api'));
    h.store.create(albIngress(NS, 'api', 'api-stable'));
    h.store.create(errorRateTemplate(port));
    h.store.create(rollout(NS, 'api', 'api:v1', albCanary));
    await h.waitFor(
      'the first revision to be Healthy',
      () => h.rollout(NS, 'api').status?.phase === 'Healthy',
    );
  });

  afterEach(async () => {
    h.stop();
    await metrics.stop();
  });

  it('deploys the first revision as stable at full scale without steps', () => {
    const ro = h.rollout(NS, 'api');
    const v1 = rsFor(h, 'api:v1')!;
    expect(ro.status.stableRS).toBe(ro.status.currentPodHash);
    expect(ro.status.currentStepIndex).toBe(5);
    expect(v1.spec.replicas).toBe(4);
    expect(v1.metadata.labels?.['rollouts-pod-template-hash']).toBe(ro.status.stableRS);
    expect(v1.spec.selector.matchLabels).toEqual({
      app: 'api',
      'rollouts-pod-template-hash': ro.status.stableRS,
    });
    expect(v1.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'Rollout',
      name: 'api',
      controller: true,
    });
    expect(h.eventsFor('api')).toContain(
      `RolloutCompleted: Rollout completed update to revision 1 (${ro.status.stableRS}): Initial deploy`,
    );
    expect(ro.status.observedGeneration).toBe('1');
    expect(
      ro.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`),
    ).toEqual(
      expect.arrayContaining(['Progressing=True', 'Available=True', 'Healthy=True', 'Completed=True']),
    );
    const annotation = h.store.get({ kind: 'Ingress', namespace: NS, name: 'api' })!.metadata.annotations![
      ACTION
    ];
    expect(JSON.parse(annotation!)).toEqual({
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { ServiceName: 'api-canary', ServicePort: '80', Weight: 0 },
          { ServiceName: 'api-stable', ServicePort: '80', Weight: 100 },
        ],
      },
    });
  });

  it('walks a good canary 10 → analysis → 50 → pause → 100 and makes it stable', async () => {
    setImage(h, NS, 'api', 'api:v2');
    const v2 = await h.waitFor('the v2 ReplicaSet', () => rsFor(h, 'api:v2'));
    const v2hash = v2.metadata.labels!['rollouts-pod-template-hash']!;

    const atTen = await h.waitFor('the analysis step', () => {
      const ro = h.rollout(NS, 'api');
      return ro.status?.currentStepIndex === 1 && ro.status.canary?.currentStepAnalysisRunStatus
        ? ro
        : undefined;
    });
    expect(atTen.status.canary.weights.canary).toEqual({
      weight: 10,
      podTemplateHash: v2hash,
      serviceName: 'api-canary',
    });
    expect(atTen.status.canary.weights.stable.weight).toBe(90);
    expect(rsFor(h, 'api:v2')!.spec.replicas).toBe(1);
    expect(rsFor(h, 'api:v1')!.spec.replicas).toBe(4);
    expect(h.store.get({ kind: 'Service', namespace: NS, name: 'api-canary' })!.spec.selector).toEqual({
      app: 'api',
      'rollouts-pod-template-hash': v2hash,
    });

    const paused = await h.waitFor('the timed pause', () => {
      const ro = h.rollout(NS, 'api');
      return ro.status?.currentStepIndex === 3 && ro.status.phase === 'Paused' ? ro : undefined;
    });
    expect(paused.status.pauseConditions[0].reason).toBe('CanaryPauseStep');
    expect(paused.status.message).toBe('CanaryPauseStep');
    expect(rsFor(h, 'api:v2')!.spec.replicas).toBe(2);

    const done = await h.waitFor('v2 to be stable and Healthy', () => {
      const ro = h.rollout(NS, 'api');
      return ro.status?.stableRS === v2hash && ro.status.phase === 'Healthy' ? ro : undefined;
    });
    expect(weights).toEqual([0, 10, 50, 100, 0]);
    expect(done.status.canary.weights.canary.weight).toBe(0);
    expect(done.status.canary.weights.stable).toEqual({
      weight: 100,
      podTemplateHash: v2hash,
      serviceName: 'api-stable',
    });
    expect(done.status.replicas).toBe(4);
    expect(done.status.updatedReplicas).toBe(4);
    expect(rsFor(h, 'api:v1')!.spec.replicas).toBe(0);
    expect(
      h.store.get({ kind: 'Service', namespace: NS, name: 'api-stable' })!.spec.selector[
        'rollouts-pod-template-hash'
      ],
    ).toBe(v2hash);

    const run = h.store.get({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisRun',
      namespace: NS,
      name: `api-${v2hash}-2-1`,
    })!;
    expect(run.status.phase).toBe('Successful');
    expect(run.status.metricResults[0]).toMatchObject({
      name: 'error-rate',
      phase: 'Successful',
      count: 3,
      successful: 3,
      failed: 0,
    });
    expect(run.status.metricResults[0].measurements[0]).toMatchObject({ phase: 'Successful', value: '0' });
    expect(metrics.queries[0]).toBe('/api/v1/traffic?service=prod/api-canary&window=1m');

    const events = h.eventsFor('api');
    expect(events).toEqual(
      expect.arrayContaining([
        'RolloutUpdated: Rollout updated to revision 2',
        'TrafficWeightUpdated: Traffic weight updated from 0 to 10',
        'RolloutStepCompleted: Rollout step 1/5 completed (setWeight: 10)',
        `AnalysisRunSuccessful: Step Analysis Run 'api-${v2hash}-2-1' Status New: 'Successful' Previous: 'Running'`,
        'RolloutStepCompleted: Rollout step 2/5 completed (analysis)',
        'RolloutPaused: Rollout is paused (CanaryPauseStep)',
        'RolloutStepCompleted: Rollout step 4/5 completed (pause: 30s)',
        'TrafficWeightUpdated: Traffic weight updated from 50 to 100',
        `RolloutCompleted: Rollout completed update to revision 2 (${v2hash}): Completed all 5 canary steps`,
        'TrafficWeightUpdated: Traffic weight updated from 100 to 0',
      ]),
    );
    // The weight moves to 10 only once the canary pod is available.
    const scaled = events.findIndex((e) =>
      e.startsWith('ScalingReplicaSet: Scaled up ReplicaSet api-' + v2hash),
    );
    expect(scaled).toBeLessThan(events.indexOf('TrafficWeightUpdated: Traffic weight updated from 0 to 10'));
  });

  it('aborts a faulty canary in its first analysis and sends all traffic back to stable', async () => {
    metrics.errorRate = 0.2;
    setImage(h, NS, 'api', 'api:v2');
    const ro = await h.waitFor('the rollout to be Degraded', () => {
      const r = h.rollout(NS, 'api');
      return r.status?.phase === 'Degraded' ? r : undefined;
    });
    const message =
      'Rollout aborted update to revision 2: Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)';
    expect(ro.status.message).toBe(`RolloutAborted: ${message}`);
    expect(ro.status.abort).toBe(true);
    expect(ro.status.abortedAt).toBeDefined();
    expect(ro.status.currentStepIndex).toBe(0);
    expect(ro.status.canary.currentStepAnalysisRunStatus).toMatchObject({ status: 'Failed' });
    expect(weights).toEqual([0, 10, 0]);
    expect(ro.status.canary.weights.canary.weight).toBe(0);
    expect(h.eventsFor('api')).toEqual(expect.arrayContaining([`RolloutAborted: ${message}`]));
    const progressing = ro.status.conditions.find((c: { type: string }) => c.type === 'Progressing');
    expect(progressing).toMatchObject({ status: 'False', reason: 'RolloutAborted', message });

    // The canary keeps its pods for abortScaleDownDelaySeconds (30s), then scales to 0.
    expect(rsFor(h, 'api:v2')!.spec.replicas).toBe(1);
    await h.waitFor('the canary to scale down', () => rsFor(h, 'api:v2')!.spec.replicas === 0);
    expect(rsFor(h, 'api:v1')!.spec.replicas).toBe(4);

    // retry starts the steps again; with a healthy canary the update then completes.
    metrics.errorRate = 0.01;
    retry(h.store, { namespace: NS, name: 'api' });
    await h.waitFor('the retried rollout to be Healthy', () => {
      const r = h.rollout(NS, 'api');
      return r.status?.phase === 'Healthy' && r.status.stableRS === r.status.currentPodHash;
    });
  });

  it('abort() stops an update in flight and promote --full skips the remaining steps', async () => {
    setImage(h, NS, 'api', 'api:v2');
    await h.waitFor('the analysis step', () => h.rollout(NS, 'api').status?.currentStepIndex === 1);
    abort(h.store, { namespace: NS, name: 'api' });
    const aborted = await h.waitFor('Degraded', () => {
      const r = h.rollout(NS, 'api');
      return r.status?.phase === 'Degraded' ? r : undefined;
    });
    expect(aborted.status.message).toBe('RolloutAborted: Rollout aborted update to revision 2');
    expect(weights.at(-1)).toBe(0);
    promote(h.store, { namespace: NS, name: 'api' }, { full: true });
    await h.waitFor('full promotion', () => {
      const r = h.rollout(NS, 'api');
      return r.status?.phase === 'Healthy' && r.status.stableRS === r.status.currentPodHash;
    });
    expect(h.eventsFor('api').some((e) => e.endsWith('Full promotion requested'))).toBe(true);
  });
});

describe('Rollout canary without traffic routing', () => {
  let h: RolloutHarness;

  beforeEach(async () => {
    h = new RolloutHarness({ scale: 1000 });
    h.store.create(
      rollout(NS, 'web', 'web:v1', {
        replicas: 10,
        strategy: {
          canary: {
            steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }, { pause: { duration: 10 } }],
          },
        },
      }),
    );
    await h.waitFor(
      'the first revision to be Healthy',
      () => h.rollout(NS, 'web').status?.phase === 'Healthy',
    );
  });

  afterEach(() => h.stop());

  it('realises the weight by replica ratios and waits at a pause without duration for promote()', async () => {
    setImage(h, NS, 'web', 'web:v2');
    const paused = await h.waitFor('the indefinite pause', () => {
      const r = h.rollout(NS, 'web');
      return r.status?.phase === 'Paused' && r.status.currentStepIndex === 1 ? r : undefined;
    });
    const owned = () =>
      h.store
        .list({ apiVersion: 'apps/v1', kind: 'ReplicaSet' }, { namespace: NS })
        .map((rs) => [rs.metadata.labels!['rollouts-pod-template-hash'], rs.spec.replicas]);
    expect(Object.fromEntries(owned())).toEqual({
      [paused.status.currentPodHash]: 2,
      [paused.status.stableRS]: 8,
    });
    expect(paused.status.pauseConditions).toEqual([
      { reason: 'CanaryPauseStep', startTime: expect.any(String) },
    ]);
    expect(paused.status.conditions.find((c: { type: string }) => c.type === 'Paused')).toMatchObject({
      status: 'True',
      reason: 'RolloutPaused',
    });

    // Ten minutes of control-plane time later it is still paused.
    await h.clock.sleep(600_000);
    expect(h.rollout(NS, 'web').status.phase).toBe('Paused');
    expect(h.rollout(NS, 'web').status.currentStepIndex).toBe(1);

    promote(h.store, { namespace: NS, name: 'web' });
    const half = await h.waitFor('setWeight 50', () => {
      const r = h.rollout(NS, 'web');
      return r.status?.currentStepIndex === 3 ? r : undefined;
    });
    expect(Object.fromEntries(owned())).toEqual({
      [half.status.currentPodHash]: 5,
      [half.status.stableRS]: 5,
    });
    expect(h.eventsFor('web')).toContain('RolloutResumed: Rollout is resumed');

    const done = await h.waitFor('Healthy', () => {
      const r = h.rollout(NS, 'web');
      return r.status?.phase === 'Healthy' && r.status.stableRS === r.status.currentPodHash ? r : undefined;
    });
    expect(Object.fromEntries(owned())).toEqual({
      [done.status.currentPodHash]: 10,
      [paused.status.stableRS]: 0,
    });
  });
});
