import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import {
  applyBehavior,
  DEFAULT_BEHAVIOR,
  EmulatedUsage,
  HorizontalPodAutoscalerController,
  replicasForUtilization,
} from '../../../twin/autoscaling/index.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';
import { ManualClock } from '../nodes/manual-clock.ts';

const ready = (utilization: number) => ({ ready: true, utilization });

describe('HPA replica calculation', () => {
  it('desired = ceil(current × current/target), and nothing within the 0.1 tolerance', () => {
    expect(replicasForUtilization(4, [ready(140), ready(140), ready(140), ready(140)], 70).replicas).toBe(8);
    expect(replicasForUtilization(4, [ready(76), ready(76), ready(76), ready(76)], 70).replicas).toBe(4); // ratio 1.086
    expect(replicasForUtilization(4, [ready(78), ready(78), ready(78), ready(78)], 70).replicas).toBe(5); // ratio 1.114
    expect(replicasForUtilization(4, [ready(35), ready(35), ready(35), ready(35)], 70).replicas).toBe(2);
    expect(replicasForUtilization(4, [ready(64), ready(64), ready(64), ready(64)], 70).replicas).toBe(4); // 0.914
  });

  it('counts not-ready pods as 0 % on a scale up, and drops a scale that this reverses', () => {
    const pods = [ready(100), ready(100), { ready: false, utilization: 0 }, { ready: false, utilization: 0 }];
    expect(replicasForUtilization(4, pods, 50).replicas).toBe(4); // 200/4 = 50 % → within tolerance
    const hot = [ready(200), ready(200), { ready: false, utilization: 0 }];
    expect(replicasForUtilization(3, hot, 50).replicas).toBe(8); // 400/3/50 = 2.67 → ceil(2.67 × 3)
  });

  it('counts pods without metrics as 100 % on a scale down', () => {
    const pods = [ready(20), ready(20), { ready: true, utilization: undefined }];
    // 140/3 = 46.7 % of a 50 % target: within the tolerance once the missing pod counts as 100 %
    expect(replicasForUtilization(3, pods, 50).replicas).toBe(3);
  });
});

describe('HPA behavior', () => {
  const base = { now: 1_000_000, events: [], behavior: DEFAULT_BEHAVIOR, minReplicas: 1, maxReplicas: 100 };

  it('scale up is limited to max(100 %, 4 pods) per 15 s by default', () => {
    expect(applyBehavior({ ...base, currentReplicas: 2, recommendation: 20, history: [] }).replicas).toBe(6);
    expect(applyBehavior({ ...base, currentReplicas: 10, recommendation: 50, history: [] }).replicas).toBe(
      20,
    );
    // 4 pods were added 10 s ago: the period started at 6 → at most 12
    expect(
      applyBehavior({
        ...base,
        currentReplicas: 10,
        recommendation: 50,
        history: [],
        events: [{ at: base.now - 10_000, change: 4 }],
      }).replicas,
    ).toBe(12);
  });

  it('scale down waits for the 300 s stabilization window: the highest recommendation in it wins', () => {
    const history = [
      { at: base.now - 290_000, replicas: 8 },
      { at: base.now - 100_000, replicas: 3 },
    ];
    expect(applyBehavior({ ...base, currentReplicas: 8, recommendation: 2, history }).replicas).toBe(8);
    const later = { ...base, now: base.now + 11_000 };
    expect(applyBehavior({ ...later, currentReplicas: 8, recommendation: 2, history }).replicas).toBe(3);
  });

  it('clamps to min/max replicas', () => {
    expect(
      applyBehavior({ ...base, currentReplicas: 5, recommendation: 9, history: [], maxReplicas: 7 }).replicas,
    ).toBe(7);
    expect(
      applyBehavior({ ...base, currentReplicas: 3, recommendation: 1, history: [], minReplicas: 3 }).replicas,
    ).toBe(3);
  });
});

describe('HorizontalPodAutoscalerController', () => {
  function setup(resourceMetricsApi = true) {
    const clock = new ManualClock();
    const store = new ObjectStore(() => clock.now());
    const events = new EventRecorder(store, clock);
    const usage = new EmulatedUsage();
    const hpa = new HorizontalPodAutoscalerController(usage, undefined, undefined, resourceMetricsApi);
    hpa.start({
      store,
      clock,
      events,
      log: (m) => {
        throw new Error(m);
      },
    });
    store.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'prod' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } } },
    });
    store.create({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'prod' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 3,
        maxReplicas: 10,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
          },
        ],
      },
    });
    // Plays the ReplicaSet + kubelet: spec.replicas Ready pods with 500m requests.
    const syncPods = () => {
      const want = store.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod', name: 'web' })!
        .spec.replicas;
      const have = store.list({ kind: 'Pod' }, { namespace: 'prod' });
      for (let i = have.length; i < want; i++) store.create(pod(`web-${i}`));
      for (const p of have.slice(want))
        store.delete({ kind: 'Pod', namespace: 'prod', name: p.metadata.name });
    };
    syncPods();
    const replicas = () =>
      store.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod', name: 'web' })!.spec.replicas;
    const status = () =>
      store.get({
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        namespace: 'prod',
        name: 'web',
      })!.status;
    const step = (ms: number) => {
      for (let t = 0; t < ms; t += 15_000) {
        clock.advance(15_000);
        syncPods();
      }
    };
    return { usage, replicas, status, step };
  }

  function pod(name: string): KubeObject {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'prod', labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '500m' } } }] },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    };
  }

  it('reports missing metrics until a load is set, then scales out within the policy and down only after 300 s', () => {
    const h = setup();
    h.step(15_000);
    expect(h.status().conditions.find((c: any) => c.type === 'ScalingActive')).toMatchObject({
      status: 'False',
      reason: 'FailedGetResourceMetric',
    });
    h.usage.set('prod', 'web', { cpuCores: 3 }); // 1 core per pod = 200 % of 500m
    h.step(15_000);
    expect(h.replicas()).toBe(7); // wants ceil(3 × 200/70) = 9; limited to 3 + 4 in the first 15 s
    expect(h.status().currentMetrics[0].resource.current.averageUtilization).toBe(200);
    h.step(15_000);
    expect(h.replicas()).toBe(9); // 3 cores over 7 pods = 86 % → ceil(7 × 1.22) = 9
    h.step(15_000);
    expect(h.replicas()).toBe(9); // 3 cores over 9 pods = 67 %: within the tolerance
    h.usage.set('prod', 'web', { cpuCores: 1 }); // 22 % per pod → wants 3
    h.step(285_000);
    expect(h.replicas()).toBe(9);
    h.step(30_000);
    expect(h.replicas()).toBe(3);
  });

  it('without the resource metrics API (no metrics-server) the HPA cannot read its metric and never scales', () => {
    const h = setup(false);
    h.usage.set('prod', 'web', { cpuCores: 3 });
    h.step(60_000);
    expect(h.replicas()).toBe(3);
    expect(h.status().conditions.find((c: any) => c.type === 'ScalingActive')).toEqual({
      type: 'ScalingActive',
      status: 'False',
      reason: 'FailedGetResourceMetric',
      message:
        'unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)',
      lastTransitionTime: expect.any(String),
    });
  });
});
