import type { LookupFunction } from 'node:net';
import { requireGoDuration } from '../../kube/duration.ts';
import { keyOf, ReconcileController, splitKey } from '../controllers/controller.ts';
import type { WatchEvent, WatchFilter } from '../store/object-store.ts';
import { substituteArgs } from './analysis-args.ts';
import {
  assessMetric,
  assessRun,
  effectiveCount,
  emptyMetricResult,
  evaluateMeasurement,
  isTerminating,
  recordMeasurement,
} from './metric-assessment.ts';
import { JobProvider } from './providers/job.ts';
import { PrometheusProvider } from './providers/prometheus.ts';
import type { MetricProvider } from './providers/provider.ts';
import { WebProvider } from './providers/web.ts';
import {
  type AnalysisRun,
  type AnalysisRunStatus,
  ARGO_API_VERSION,
  isCompleted,
  type Measurement,
  type Metric,
  type MetricResult,
} from './types.ts';

export interface AnalysisRunControllerOptions {
  /** Resolves host names of outgoing measurement requests (the twin's cluster DNS). */
  lookup?: LookupFunction;
  /** Extra or replacement providers by type. */
  providers?: MetricProvider[];
}

// Argo keeps the last 10 measurements of each metric (DefaultMeasurementHistoryLimit).
const MEASUREMENT_HISTORY_LIMIT = 10;

/**
 * Runs AnalysisRuns as Argo's analysis controller does: each metric is measured every `interval`
 * of control-plane time, after `initialDelay`, up to `count`; the run ends Successful, Failed,
 * Error or Inconclusive by the metrics' limits, or when `spec.terminate` is set.
 */
export class AnalysisRunController extends ReconcileController {
  readonly name = 'analysis-runs';
  private readonly providers = new Map<string, MetricProvider>();
  private readonly lookup: LookupFunction | undefined;

  constructor(options: AnalysisRunControllerOptions = {}) {
    super();
    this.lookup = options.lookup;
    for (const p of [
      new WebProvider(),
      new PrometheusProvider(),
      new JobProvider(),
      ...(options.providers ?? []),
    ]) {
      this.providers.set(p.type, p);
    }
  }

  protected watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }> {
    return [
      {
        filter: { apiVersion: ARGO_API_VERSION, kind: 'AnalysisRun' },
        keys: (e) => (e.type === 'DELETED' ? [] : [keyOf(e.object)]),
      },
    ];
  }

  protected override onStart(): void {
    for (const run of this.ctx.store.list({ apiVersion: ARGO_API_VERSION, kind: 'AnalysisRun' }))
      this.enqueue(keyOf(run));
  }

  protected async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const ref = { apiVersion: ARGO_API_VERSION, kind: 'AnalysisRun', namespace, name };
    const run = this.ctx.store.get(ref) as AnalysisRun | undefined;
    if (!run || isCompleted(run.status?.phase)) return;
    const { store, clock } = this.ctx;
    const startedAt = run.status?.startedAt ?? iso(clock.now());

    let metrics: Metric[];
    try {
      metrics = (run.spec?.metrics ?? []).map((m) => substituteArgs(m, run.spec?.args ?? []));
    } catch (err) {
      this.finish(ref, run, {
        phase: 'Error',
        message: err instanceof Error ? err.message : String(err),
        startedAt,
        metricResults: [],
      });
      return;
    }

    const results = run.status?.metricResults ?? [];
    const terminating = isTerminating(run.spec?.terminate, results);
    const now = clock.now();
    const due = terminating
      ? []
      : metrics.filter((m) => {
          const r = results.find((x) => x.name === m.name);
          return !isCompleted(r?.phase) && !countReached(m, r) && nextDue(m, r, startedAt) <= now;
        });

    const measured = await Promise.all(
      due.map(async (m) => ({ metric: m, measurement: await this.measure(m, namespace) })),
    );

    let finished: AnalysisRunStatus | undefined;
    const updated = store.patch(ref, (obj) => {
      const status: AnalysisRunStatus = { phase: 'Running', ...(obj.status ?? {}), startedAt };
      const current = (status.metricResults ?? []).map((r) => ({ ...r, measurements: [...r.measurements] }));
      for (const { metric, measurement } of measured) {
        let result = current.find((r) => r.name === metric.name);
        if (!result) {
          result = emptyMetricResult(metric.name);
          current.push(result);
        }
        recordMeasurement(result, measurement);
        const metadata = this.providerOf(metric)?.metadata?.(metric);
        if (metadata && Object.keys(metadata).length > 0)
          result.metadata = { ...result.metadata, ...metadata };
        if (result.measurements.length > MEASUREMENT_HISTORY_LIMIT)
          result.measurements.splice(0, result.measurements.length - MEASUREMENT_HISTORY_LIMIT);
      }
      const stopping = isTerminating((obj as AnalysisRun).spec?.terminate, current);
      for (const metric of metrics) {
        const result = current.find((r) => r.name === metric.name);
        if (result) result.phase = assessMetric(metric, result, stopping);
      }
      const assessed = assessRun(metrics, current, stopping);
      status.metricResults = current;
      status.phase = assessed.phase;
      if (assessed.message) status.message = assessed.message;
      else if ((obj as AnalysisRun).spec?.terminate && isCompleted(assessed.phase))
        status.message = 'Run Terminated';
      if (isCompleted(status.phase)) finished = status;
      obj.status = status;
    }) as AnalysisRun | undefined;
    if (!updated) return;
    if (finished) {
      this.recordCompletion(updated, finished);
      return;
    }
    const wake = Math.min(
      ...metrics.map((m) => {
        const r = updated.status?.metricResults?.find((x) => x.name === m.name);
        return isCompleted(r?.phase) || countReached(m, r)
          ? Number.POSITIVE_INFINITY
          : nextDue(m, r, startedAt);
      }),
    );
    if (Number.isFinite(wake)) this.enqueueAfter(key, Math.max(0, wake - clock.now()));
  }

  private providerOf(metric: Metric): MetricProvider | undefined {
    const type = Object.keys(metric.provider ?? {})[0];
    return type ? this.providers.get(type) : undefined;
  }

  private async measure(metric: Metric, namespace: string): Promise<Measurement> {
    const { clock } = this.ctx;
    const startedAt = iso(clock.now());
    const type = Object.keys(metric.provider ?? {})[0];
    const provider = this.providerOf(metric);
    if (!provider) {
      return {
        phase: 'Error',
        startedAt,
        finishedAt: startedAt,
        message: `no provider "${type ?? '(none)'}" for metric "${metric.name}" on the twin`,
      };
    }
    const out = await provider.measure(metric, {
      namespace,
      now: () => clock.now(),
      ...(this.lookup ? { lookup: this.lookup } : {}),
    });
    const finishedAt = iso(clock.now());
    if ('error' in out) return { phase: 'Error', startedAt, finishedAt, message: out.error };
    const evaluated = evaluateMeasurement(metric, out.value);
    // A condition that cannot be evaluated marks the measurement as an Error without a value (MarkMeasurementError).
    return {
      phase: evaluated.phase,
      ...(evaluated.phase === 'Error'
        ? {}
        : {
            value:
              out.valueText ??
              (typeof out.value === 'string' ? out.value : JSON.stringify(out.value ?? null)),
          }),
      startedAt,
      finishedAt,
      ...(evaluated.message ? { message: evaluated.message } : {}),
      ...(out.measurementMetadata ? { metadata: out.measurementMetadata } : {}),
    };
  }

  private finish(
    ref: { apiVersion: string; kind: string; namespace: string; name: string },
    run: AnalysisRun,
    status: AnalysisRunStatus,
  ): void {
    const updated = this.ctx.store.patch(ref, (obj) => {
      obj.status = status;
    });
    if (updated) this.recordCompletion(run, status);
  }

  private recordCompletion(run: AnalysisRun, status: AnalysisRunStatus): void {
    const type = status.phase === 'Successful' ? 'Normal' : 'Warning';
    const message = `Analysis Completed. Result: ${status.phase}${status.message ? `: ${status.message}` : ''}`;
    this.ctx.events.record(run, type, `AnalysisRun${status.phase}`, message, 'rollouts-controller');
  }
}

function countReached(metric: Metric, result: MetricResult | undefined): boolean {
  const count = effectiveCount(metric);
  return count !== undefined && (result?.count ?? 0) >= count;
}

/** When the metric's next measurement is due: startedAt + initialDelay first, then the last one + interval. */
function nextDue(metric: Metric, result: MetricResult | undefined, runStartedAt: string): number {
  const last = result?.measurements.at(-1);
  if (!last)
    return (
      Date.parse(runStartedAt) +
      (metric.initialDelay ? requireGoDuration(metric.initialDelay, `metric ${metric.name} initialDelay`) : 0)
    );
  const interval = metric.interval ? requireGoDuration(metric.interval, `metric ${metric.name} interval`) : 0;
  return Date.parse(last.finishedAt ?? last.startedAt) + interval;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
