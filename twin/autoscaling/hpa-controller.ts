import { matchesSelector } from '../../kube/labels.ts';
import { type KubeObject, refOf } from '../../kube/object.ts';
import type { Controller, ControllerContext } from '../controllers/controller.ts';
import { isPodReady, isPodTerminal, isPodTerminating } from '../controllers/pod-state.ts';
import { type EmulatedUsage, podRequest } from './emulated-usage.ts';
import {
  applyBehavior,
  behaviorOf,
  HPA_SYNC_PERIOD_SECONDS,
  HPA_TOLERANCE,
  type PodSample,
  replicasForUtilization,
  type ScaleEvent,
} from './hpa-algorithm.ts';
import type { LiveUsage } from './live-usage.ts';

const HPA_TYPE = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' };

interface MetricSpec {
  type: string;
  resource?: { name: string; target?: { type: string; averageUtilization?: number } };
}

/**
 * The horizontal pod autoscaler controller (autoscaling/v2): every sync period (15 s) it reads each
 * HPA's target scale and pods, computes the replicas each CPU/memory Utilization metric asks for from
 * the pods' usage (live pods: measured from their processes; emulated ones: the load scenario code sets), applies the behavior (stabilization windows,
 * rate policies), writes spec.replicas of the target and the HPA's status and conditions.
 * Twin simplification: only Resource metrics with Utilization targets are evaluated; Pods, Object, External and AverageValue targets are reported as unsupported.
 */
export class HorizontalPodAutoscalerController implements Controller {
  readonly name = 'horizontal-pod-autoscaler';
  private ctx!: ControllerContext;
  private cancel: (() => void) | undefined;
  private readonly recommendations = new Map<string, Array<{ at: number; replicas: number }>>();
  private readonly scaleEvents = new Map<string, ScaleEvent[]>();

  constructor(
    private readonly usage: EmulatedUsage,
    private readonly syncPeriodSeconds = HPA_SYNC_PERIOD_SECONDS,
    private readonly tolerance = HPA_TOLERANCE,
    /** Whether the cluster serves the resource metrics API (metrics.k8s.io: metrics-server); without it no Resource metric can be read. */
    private readonly resourceMetricsApi = true,
    /** The measured usage of live pods (their processes); emulated pods keep the emulated usage. */
    private readonly liveUsage?: Pick<LiveUsage, 'isLive' | 'podUsage'>,
  ) {}

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.cancel = ctx.clock.every(this.syncPeriodSeconds * 1000, () => this.syncAll());
  }

  stop(): void {
    this.cancel?.();
  }

  syncAll(): void {
    for (const hpa of this.ctx.store.list(HPA_TYPE)) {
      try {
        this.sync(hpa);
      } catch (err) {
        this.ctx.log(
          `${this.name}: ${hpa.metadata.namespace}/${hpa.metadata.name}: ${err instanceof Error ? err.stack : err}`,
        );
      }
    }
  }

  private sync(hpa: KubeObject): void {
    const { store, clock } = this.ctx;
    const now = clock.now();
    const ns = hpa.metadata.namespace ?? 'default';
    const key = `${ns}/${hpa.metadata.name}`;
    const ref = hpa.spec?.scaleTargetRef ?? {};
    const target = store.get({ apiVersion: ref.apiVersion, kind: ref.kind, namespace: ns, name: ref.name });
    if (!target) {
      this.writeStatus(hpa, {}, [
        cond(
          'AbleToScale',
          'False',
          'FailedGetScale',
          `the HPA controller was unable to get the target's current scale: ${ref.kind} ${ns}/${ref.name} not found`,
        ),
      ]);
      return;
    }
    const current: number = target.spec?.replicas ?? 1;
    const minReplicas: number = hpa.spec?.minReplicas ?? 1;
    const maxReplicas: number = hpa.spec?.maxReplicas ?? current;
    if (current === 0) {
      this.writeStatus(hpa, { currentReplicas: 0, desiredReplicas: 0 }, [
        cond(
          'ScalingActive',
          'False',
          'ScalingDisabled',
          'scaling is disabled since the replica count of the target is zero',
        ),
      ]);
      return;
    }
    const pods = store
      .list({ kind: 'Pod' }, { namespace: ns })
      .filter(
        (p) =>
          matchesSelector(target.spec?.selector, p.metadata.labels ?? {}) &&
          !isPodTerminal(p) &&
          !isPodTerminating(p),
      );
    const readyCount = pods.filter(isPodReady).length;
    let proposal = 0;
    const currentMetrics: unknown[] = [];
    const problems: string[] = [];
    const reasons: string[] = [];
    for (const m of (hpa.spec?.metrics ?? []) as MetricSpec[]) {
      const name = m.resource?.name;
      const targetUtil = m.resource?.target?.averageUtilization;
      if (
        m.type !== 'Resource' ||
        (name !== 'cpu' && name !== 'memory') ||
        m.resource?.target?.type !== 'Utilization' ||
        !targetUtil
      ) {
        problems.push(
          `metric ${m.type}${name ? `/${name}` : ''} is not evaluated by the twin (Resource cpu/memory Utilization only)`,
        );
        continue;
      }
      if (!this.resourceMetricsApi) {
        problems.push(
          `unable to get metrics for resource ${name}: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)`,
        );
        continue;
      }
      const samples: PodSample[] = [];
      let missingRequest = false;
      for (const p of pods) {
        const request = podRequest(p, name);
        if (!request) missingRequest = true;
        const usage = this.liveUsage?.isLive(p)
          ? this.liveUsage.podUsage(p, name)
          : this.usage.podUsage(ns, target.metadata.name, readyCount, name);
        const ready = isPodReady(p);
        samples.push({
          ready,
          utilization: usage === undefined || !request ? undefined : ready ? (usage / request) * 100 : 0,
        });
      }
      if (missingRequest) {
        problems.push(`failed to get ${name} utilization: missing request for ${name}`);
        continue;
      }
      if (samples.every((s) => s.utilization === undefined)) {
        problems.push(
          `failed to get ${name} utilization: no metrics for the pods of ${target.kind} ${target.metadata.name} (live pods are measured from the second sample on; emulated ones need their load set)`,
        );
        continue;
      }
      const r = replicasForUtilization(current, samples, targetUtil, this.tolerance);
      currentMetrics.push({
        type: 'Resource',
        resource: { name, current: { averageUtilization: Math.round(r.utilization) } },
      });
      if (r.replicas > proposal) {
        proposal = r.replicas;
      }
      reasons.push(
        `${name} resource utilization (percentage of request) ${r.utilization > targetUtil ? 'above' : 'below'} target`,
      );
    }
    if (currentMetrics.length === 0) {
      this.writeStatus(hpa, { currentReplicas: current, desiredReplicas: current, currentMetrics: [] }, [
        cond(
          'AbleToScale',
          'True',
          'SucceededGetScale',
          "the HPA controller was able to get the target's current scale",
        ),
        cond('ScalingActive', 'False', 'FailedGetResourceMetric', problems.join('; ')),
      ]);
      return;
    }
    const history = (this.recommendations.get(key) ?? []).filter((h) => h.at >= now - 3_600_000);
    const events = (this.scaleEvents.get(key) ?? []).filter((e) => e.at >= now - 3_600_000);
    const result = applyBehavior({
      now,
      currentReplicas: current,
      recommendation: proposal,
      history,
      events,
      behavior: behaviorOf(hpa.spec ?? {}),
      minReplicas,
      maxReplicas,
    });
    history.push({ at: now, replicas: proposal });
    this.recommendations.set(key, history);
    const desired = result.replicas;
    const status: Record<string, unknown> = {
      currentReplicas: current,
      desiredReplicas: desired,
      currentMetrics,
    };
    if (desired !== current) {
      store.patch(refOf(target), (t) => {
        t.spec.replicas = desired;
      });
      events.push({ at: now, change: desired - current });
      status['lastScaleTime'] = new Date(now).toISOString();
      this.ctx.events.record(
        hpa,
        'Normal',
        'SuccessfulRescale',
        `New size: ${desired}; reason: ${desired > current ? (reasons.find((r) => r.includes('above')) ?? 'scale up') : 'All metrics below target'}`,
        this.name,
      );
    }
    this.scaleEvents.set(key, events);
    const limited = result.reason === 'maxReplicas' || result.reason === 'minReplicas';
    this.writeStatus(hpa, status, [
      cond(
        'AbleToScale',
        'True',
        desired !== current ? 'SucceededRescale' : 'ReadyForNewScale',
        'recommended size matches current size',
      ),
      cond(
        'ScalingActive',
        'True',
        'ValidMetricFound',
        'the HPA was able to successfully calculate a replica count from resource metrics',
      ),
      cond(
        'ScalingLimited',
        limited ? 'True' : 'False',
        limited
          ? result.reason === 'maxReplicas'
            ? 'TooManyReplicas'
            : 'TooFewReplicas'
          : 'DesiredWithinRange',
        limited
          ? `the desired replica count is ${result.reason === 'maxReplicas' ? 'more than the maximum' : 'less than the minimum'} replica count`
          : 'the desired count is within the acceptable range',
      ),
    ]);
  }

  private writeStatus(
    hpa: KubeObject,
    fields: Record<string, unknown>,
    conditions: Array<Record<string, string>>,
  ): void {
    const iso = new Date(this.ctx.clock.now()).toISOString();
    this.ctx.store.patch(refOf(hpa), (h) => {
      const old: Array<Record<string, string>> = h.status?.conditions ?? [];
      h.status = {
        ...(h.status ?? {}),
        ...fields,
        observedGeneration: h.metadata.generation,
        conditions: conditions.map((c) => {
          const prev = old.find((o) => o.type === c.type);
          return {
            ...c,
            lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : iso,
          };
        }),
      };
    });
  }
}

function cond(type: string, status: string, reason: string, message: string): Record<string, string> {
  return { type, status, reason, message };
}
