import { evaluateCondition } from './expr.ts';
import type { AnalysisPhase, IntOrString, Measurement, Metric, MetricResult } from './types.ts';
import { isCompleted } from './types.ts';

export const DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4;

function intOf(v: IntOrString | undefined, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  const n = typeof v === 'number' ? v : Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : fallback;
}

/** count, or 1 when neither count nor interval is given (Metric.EffectiveCount); undefined runs until terminated. */
export function effectiveCount(metric: Metric): number | undefined {
  if (metric.count === undefined || metric.count === null || metric.count === '')
    return metric.interval ? undefined : 1;
  return intOf(metric.count, 1);
}

/**
 * The phase of one measured value (analysisutil.EvaluateResult): with only a successCondition a
 * false one fails; with only a failureCondition a false one succeeds; with both and neither true
 * the measurement is Inconclusive; with none it succeeds.
 */
export function evaluateMeasurement(
  metric: Metric,
  result: unknown,
): { phase: AnalysisPhase; message?: string } {
  const env = { result };
  try {
    let success = false;
    let failure = false;
    if (metric.successCondition) success = evaluateCondition(metric.successCondition, env);
    if (metric.failureCondition) failure = evaluateCondition(metric.failureCondition, env);
    if (!metric.successCondition && !metric.failureCondition) return { phase: 'Successful' };
    if (metric.successCondition && !metric.failureCondition) failure = !success;
    if (!metric.successCondition && metric.failureCondition) success = !failure;
    if (failure) return { phase: 'Failed' };
    if (!success) return { phase: 'Inconclusive' };
    return { phase: 'Successful' };
  } catch (err) {
    return { phase: 'Error', message: err instanceof Error ? err.message : String(err) };
  }
}

export function emptyMetricResult(name: string): MetricResult {
  return {
    name,
    phase: 'Running',
    measurements: [],
    count: 0,
    successful: 0,
    failed: 0,
    inconclusive: 0,
    error: 0,
    consecutiveError: 0,
  };
}

/** Adds a completed measurement to a metric's result and its counters. */
export function recordMeasurement(result: MetricResult, m: Measurement): void {
  result.measurements.push(m);
  result.count++;
  switch (m.phase) {
    case 'Successful':
      result.successful++;
      result.consecutiveError = 0;
      break;
    case 'Failed':
      result.failed++;
      result.consecutiveError = 0;
      break;
    case 'Inconclusive':
      result.inconclusive++;
      result.consecutiveError = 0;
      break;
    case 'Error':
      result.error++;
      result.consecutiveError++;
      // Errors do not count towards count (Argo counts them in error only).
      result.count--;
      break;
    default:
      break;
  }
  if (m.message !== undefined) result.message = m.message;
  else delete result.message;
}

/** Failed, Inconclusive or Error by the metric's limits, with Argo's reason text (assessMetricFailureInconclusiveOrError). */
export function limitBreach(
  metric: Metric,
  result: MetricResult,
): { phase: AnalysisPhase; reason: string } | undefined {
  let breach: { phase: AnalysisPhase; reason: string } | undefined;
  const failureLimit = intOf(metric.failureLimit, 0);
  if (failureLimit >= 0 && result.failed > failureLimit) {
    breach = { phase: 'Failed', reason: `failed (${result.failed}) > failureLimit (${failureLimit})` };
  }
  const inconclusiveLimit = intOf(metric.inconclusiveLimit, 0);
  if (inconclusiveLimit >= 0 && result.inconclusive > inconclusiveLimit) {
    breach = {
      phase: 'Inconclusive',
      reason: `inconclusive (${result.inconclusive}) > inconclusiveLimit (${inconclusiveLimit})`,
    };
  }
  const consecutiveErrorLimit = intOf(metric.consecutiveErrorLimit, DEFAULT_CONSECUTIVE_ERROR_LIMIT);
  if (consecutiveErrorLimit >= 0 && result.consecutiveError > consecutiveErrorLimit) {
    breach = {
      phase: 'Error',
      reason: `consecutiveErrors (${result.consecutiveError}) > consecutiveErrorLimit (${consecutiveErrorLimit})`,
    };
  }
  return breach;
}

/** The phase of one metric (assessMetricStatus). */
export function assessMetric(metric: Metric, result: MetricResult, terminating: boolean): AnalysisPhase {
  if (isCompleted(result.phase)) return result.phase;
  if (result.measurements.length === 0) return terminating ? 'Successful' : 'Pending';
  const breach = limitBreach(metric, result);
  if (breach) return breach.phase;
  const count = effectiveCount(metric);
  if (count !== undefined && result.count >= count) return 'Successful';
  return terminating ? 'Successful' : 'Running';
}

const PHASE_ORDER: AnalysisPhase[] = ['Pending', 'Running', 'Successful', 'Inconclusive', 'Error', 'Failed'];

export function isWorse(current: AnalysisPhase, candidate: AnalysisPhase): boolean {
  return PHASE_ORDER.indexOf(candidate) > PHASE_ORDER.indexOf(current);
}

/**
 * The run's phase and message from its metrics (assessRunStatus): Running until every metric has
 * completed (or the run is terminating), then the worst metric phase, with a message naming the
 * metric that decided it: `Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)`.
 */
export function assessRun(
  metrics: Metric[],
  results: MetricResult[],
  terminating: boolean,
): { phase: AnalysisPhase; message?: string } {
  let worst: AnalysisPhase | undefined;
  let message: string | undefined;
  let everythingCompleted = true;
  for (const metric of metrics) {
    const result = results.find((r) => r.name === metric.name);
    if (!result) {
      everythingCompleted = false;
      continue;
    }
    const phase = result.phase;
    if (!isCompleted(phase)) {
      everythingCompleted = false;
      continue;
    }
    if (worst === undefined || isWorse(worst, phase)) {
      worst = phase;
      const breach = limitBreach(metric, result);
      if (breach) {
        message = `Metric "${metric.name}" assessed ${phase} due to ${breach.reason}`;
        if (result.message) message += `: "Error Message: ${result.message}"`;
      }
    }
  }
  if (terminating) return { phase: worst ?? 'Successful', ...(message ? { message } : {}) };
  if (!everythingCompleted || worst === undefined) return { phase: 'Running' };
  return { phase: worst, ...(message ? { message } : {}) };
}

/** Whether the run stops taking measurements: terminate was requested or a metric already failed. */
export function isTerminating(terminate: boolean | undefined, results: MetricResult[]): boolean {
  if (terminate) return true;
  return results.some((r) => r.phase === 'Failed' || r.phase === 'Error' || r.phase === 'Inconclusive');
}
