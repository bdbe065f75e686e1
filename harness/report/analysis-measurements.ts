import type { KubeObject } from '../../env/environment.ts';
import type { AnalysisMeasurement } from './run-record.ts';

/**
 * The measurements an AnalysisRun holds (status.metricResults), as report rows: the query of each
 * metric (the prometheus provider's ResolvedPrometheusQuery, else the query or web URL of the spec
 * with the run's args filled in) with each measurement's value and phase. `since` is the run's start in control-plane ms.
 */
export function analysisMeasurementsOf(run: KubeObject, since: number): AnalysisMeasurement[] {
  const name = `${run.metadata.namespace ?? 'default'}/${run.metadata.name}`;
  const specs: any[] = run.spec?.metrics ?? [];
  const args = new Map<string, string>(
    (run.spec?.args ?? []).filter((a: any) => a.value !== undefined).map((a: any) => [a.name, a.value]),
  );
  const resolve = (text: string) =>
    text.replace(/\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}/g, (m, n: string) => args.get(n) ?? m);
  const out: AnalysisMeasurement[] = [];
  for (const result of run.status?.metricResults ?? []) {
    const spec = specs.find((m) => m.name === result.name) ?? {};
    const provider = Object.keys(spec.provider ?? {})[0] ?? 'unknown';
    const p = spec.provider?.[provider] ?? {};
    const query: string =
      result.metadata?.ResolvedPrometheusQuery ??
      p.query ??
      (p.url ? `${p.url}${p.jsonPath ? ` ${p.jsonPath}` : ''}` : '');
    const condition = [
      spec.successCondition ? `success: ${spec.successCondition}` : '',
      spec.failureCondition ? `failure: ${spec.failureCondition}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    for (const m of result.measurements ?? []) {
      out.push({
        t: Date.parse(m.startedAt) - since,
        analysisRun: name,
        metric: result.name,
        provider,
        query: resolve(query).trim(),
        ...(condition ? { condition } : {}),
        phase: m.phase,
        ...(m.value !== undefined ? { value: m.value } : {}),
        ...(m.message ? { message: m.message } : {}),
      });
    }
  }
  return out;
}

/** Adds the new measurements of `run` to `into` (one row per run, metric and start time). */
export function mergeAnalysisMeasurements(into: AnalysisMeasurement[], rows: AnalysisMeasurement[]): void {
  for (const row of rows) {
    const i = into.findIndex(
      (r) => r.analysisRun === row.analysisRun && r.metric === row.metric && r.t === row.t,
    );
    if (i < 0) into.push(row);
    else into[i] = row;
  }
  into.sort((a, b) => a.t - b.t || a.metric.localeCompare(b.metric));
}
