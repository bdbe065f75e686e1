import type { LoadResult } from '../load/engine.ts';
import { type Baseline, compareWithBaseline, type RegressionCheck } from './baseline.ts';

export interface ThresholdFailure {
  profile: string;
  metric: string;
  expression: string;
  actual: number;
}

export interface GateVerdict {
  passed: boolean;
  thresholdFailures: ThresholdFailure[];
  regressions: RegressionCheck[];
  checks: RegressionCheck[];
  /** Why the regression rule was not applied, when it was not. */
  baselineNote?: string;
}

/** Thresholds and regression rule over the results (the last run of each profile is judged). */
export function judgeGate(
  results: LoadResult[],
  baseline: Baseline | undefined,
  baselineNote?: string,
): GateVerdict {
  const thresholdFailures = results.flatMap((r) =>
    r.thresholds
      .filter((t) => !t.ok)
      .map((t) => ({ profile: r.profile, metric: t.metric, expression: t.expression, actual: t.actual })),
  );
  const checks = baseline ? compareWithBaseline(results, baseline) : [];
  const regressions = checks.filter((c) => !c.ok);
  return {
    passed: thresholdFailures.length === 0 && regressions.length === 0,
    thresholdFailures,
    regressions,
    checks,
    ...(baselineNote ? { baselineNote } : {}),
  };
}

/** One line per failure, naming the profile and the threshold or rule. */
export function describeFailures(v: GateVerdict): string[] {
  return [
    ...v.thresholdFailures.map(
      (f) => `${f.profile}: threshold ${f.metric}: '${f.expression}' failed (actual ${fmt(f.actual)})`,
    ),
    ...v.regressions.map(
      (c) =>
        `${c.profile}: regression: ${c.rule}: ${c.figure} ${fmt(c.actual)} vs limit ${fmt(c.limit)} (baseline ${fmt(c.baseline)})`,
    ),
  ];
}

/** A figure rounded to three decimals for messages. */
export function fmt(n: number): string {
  return Number.isFinite(n) ? String(Math.round(n * 1000) / 1000) : String(n);
}
