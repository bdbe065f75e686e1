import { expect } from 'vitest';
import type { KubeObject } from '../../../env/environment.ts';
import type { CaseContext, ConformanceCase } from '../conformance-case.ts';
import { condition, deployment, readyPods, secondsBetween } from '../objects.ts';

const HPA = 'https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/';

/** A Deployment of pods requesting 500m CPU, scaled by an HPA on 50% CPU utilization. */
async function autoscaled(
  t: CaseContext,
  name: string,
  replicas: number,
  limits: { min: number; max: number },
  behavior?: Record<string, unknown>,
): Promise<void> {
  await t.apply(deployment(t, name, replicas, { requests: { cpu: '500m' } }));
  await t.podsUntil(`${replicas} pods ready`, { app: name }, (ps) => readyPods(ps).length === replicas);
  await t.apply({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: limits.min,
      maxReplicas: limits.max,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
        },
      ],
      ...(behavior ? { behavior } : {}),
    },
  });
}

async function setLoad(t: CaseContext, name: string, cpuCores: number): Promise<void> {
  await t.env.load!.set({ namespace: t.ns, name }, { cpuCores });
  t.defer(() => t.env.load!.clear({ namespace: t.ns, name }));
}

async function hpaUntil(
  t: CaseContext,
  name: string,
  what: string,
  ok: (h: KubeObject) => boolean,
  seconds = 300,
) {
  return t.objectUntil(what, { kind: 'HorizontalPodAutoscaler', name }, ok, seconds);
}

const measuring = (h: KubeObject) => condition(h, 'ScalingActive')?.status === 'True';

export const autoscalingCases: ConformanceCase[] = [
  {
    area: 'Horizontal Pod Autoscaling',
    title:
      'desiredReplicas = ceil(currentReplicas × currentUtilization / targetUtilization): 2 pods at 150% of a 50% target become 6',
    docs: `${HPA}#algorithm-details`,
    needs: 'load',
    async run(t) {
      await autoscaled(t, 'algo', 2, { min: 1, max: 10 });
      const rec = await t.record('Deployment');
      await setLoad(t, 'algo', 1.5);
      await hpaUntil(t, 'algo', 'desiredReplicas 6', (h) => h.status?.desiredReplicas === 6);
      await t.podsUntil('6 pods ready', { app: 'algo' }, (ps) => readyPods(ps).length === 6);
      await t.sleep(60);
      rec.stop();
      const sizes = rec.events
        .map((e) => e.object.spec.replicas)
        .filter((n, i, a) => i === 0 || a[i - 1] !== n);
      expect(sizes.filter((n) => n !== 2)).toEqual([6]);
      const h = await t.get({ kind: 'HorizontalPodAutoscaler', name: 'algo' });
      expect(h!.status.currentMetrics[0].resource.current.averageUtilization).toBe(50);
    },
  },
  {
    area: 'Horizontal Pod Autoscaling',
    title: 'within the 0.1 tolerance the HPA does not scale: 54% of a 50% target keeps 4 replicas',
    docs: `${HPA}#algorithm-details`,
    needs: 'load',
    async run(t) {
      await autoscaled(t, 'calm', 4, { min: 1, max: 10 });
      await setLoad(t, 'calm', 1.08);
      await hpaUntil(
        t,
        'calm',
        'utilization measured',
        (h) => measuring(h) && h.status?.currentMetrics?.length > 0,
      );
      await t.sleep(60);
      const h = await t.get({ kind: 'HorizontalPodAutoscaler', name: 'calm' });
      expect(h!.status.currentMetrics[0].resource.current.averageUtilization).toBe(54);
      expect(h!.status.desiredReplicas).toBe(4);
      expect((await t.get({ kind: 'Deployment', name: 'calm' }))!.spec.replicas).toBe(4);
    },
  },
  {
    area: 'Horizontal Pod Autoscaling',
    title: 'maxReplicas caps the scale, and ScalingLimited turns True with reason TooManyReplicas',
    docs: `${HPA}#algorithm-details`,
    needs: 'load',
    async run(t) {
      await autoscaled(t, 'capped', 2, { min: 1, max: 5 });
      await setLoad(t, 'capped', 10);
      const h = await hpaUntil(
        t,
        'capped',
        'ScalingLimited TooManyReplicas',
        (x) => condition(x, 'ScalingLimited')?.reason === 'TooManyReplicas',
      );
      expect(condition(h, 'ScalingLimited')?.status).toBe('True');
      await t.objectUntil('5 replicas', { kind: 'Deployment', name: 'capped' }, (d) => d.spec.replicas === 5);
      await t.sleep(45);
      expect((await t.get({ kind: 'Deployment', name: 'capped' }))!.spec.replicas).toBe(5);
    },
  },
  {
    area: 'Horizontal Pod Autoscaling',
    title:
      'minReplicas is the floor of a scale-down, and ScalingLimited turns True with reason TooFewReplicas',
    docs: `${HPA}#algorithm-details`,
    needs: 'load',
    async run(t) {
      await autoscaled(t, 'floor', 4, { min: 2, max: 8 }, { scaleDown: { stabilizationWindowSeconds: 0 } });
      await setLoad(t, 'floor', 0);
      await t.objectUntil('2 replicas', { kind: 'Deployment', name: 'floor' }, (d) => d.spec.replicas === 2);
      const h = await hpaUntil(
        t,
        'floor',
        'ScalingLimited TooFewReplicas',
        (x) => condition(x, 'ScalingLimited')?.reason === 'TooFewReplicas',
      );
      expect(condition(h, 'ScalingLimited')?.status).toBe('True');
    },
  },
  {
    area: 'Horizontal Pod Autoscaling',
    title:
      'the default scale-down stabilization window (300 s) delays a scale-down until the higher recommendations have aged out',
    docs: `${HPA}#stabilization-window`,
    needs: 'load',
    async run(t) {
      await autoscaled(t, 'steady', 4, { min: 1, max: 8 });
      await setLoad(t, 'steady', 1);
      await hpaUntil(
        t,
        'steady',
        'utilization measured',
        (h) => measuring(h) && h.status?.currentMetrics?.length > 0,
      );
      await t.sleep(30);
      expect((await t.get({ kind: 'Deployment', name: 'steady' }))!.spec.replicas).toBe(4);
      const droppedAt = t.now();
      await setLoad(t, 'steady', 0);
      const h = await hpaUntil(t, 'steady', 'a scale-down', (x) => (x.status?.desiredReplicas ?? 4) < 4, 600);
      const after = secondsBetween(droppedAt, h.status.lastScaleTime);
      expect(after).toBeGreaterThanOrEqual(280);
    },
  },
  {
    area: 'Horizontal Pod Autoscaling',
    title: 'a scaling policy (Pods: 1 per 60 s) limits a scale-up to one replica per period',
    docs: `${HPA}#scaling-policies`,
    needs: 'load',
    async run(t) {
      await autoscaled(
        t,
        'paced',
        1,
        { min: 1, max: 4 },
        {
          scaleUp: {
            stabilizationWindowSeconds: 0,
            policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
          },
        },
      );
      const rec = await t.record('HorizontalPodAutoscaler', 'autoscaling/v2');
      await setLoad(t, 'paced', 10);
      await hpaUntil(t, 'paced', '4 replicas', (h) => h.status?.desiredReplicas === 4, 600);
      rec.stop();
      const steps: Array<{ at: string; replicas: number }> = [];
      for (const e of rec.events) {
        const s = e.object.status ?? {};
        if (s.lastScaleTime && steps.at(-1)?.at !== s.lastScaleTime)
          steps.push({ at: s.lastScaleTime, replicas: s.desiredReplicas });
      }
      expect(steps.map((s) => s.replicas)).toEqual([2, 3, 4]);
      for (let i = 1; i < steps.length; i++)
        expect(secondsBetween(steps[i - 1]!.at, steps[i]!.at)).toBeGreaterThanOrEqual(59);
    },
  },
  {
    area: 'Horizontal Pod Autoscaling',
    title: 'selectPolicy Disabled for scaleDown: the HPA never scales the target down',
    docs: `${HPA}#example-disable-scale-down`,
    needs: 'load',
    async run(t) {
      await autoscaled(t, 'ratchet', 3, { min: 1, max: 6 }, { scaleDown: { selectPolicy: 'Disabled' } });
      await setLoad(t, 'ratchet', 0);
      await hpaUntil(
        t,
        'ratchet',
        'utilization measured',
        (h) => measuring(h) && h.status?.currentMetrics?.length > 0,
      );
      await t.sleep(90);
      expect((await t.get({ kind: 'Deployment', name: 'ratchet' }))!.spec.replicas).toBe(3);
    },
  },
];
