import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { TwinError } from '../../core/errors.ts';
import type { Environment } from '../../env/environment.ts';
import { upEnvironment } from '../../env/registry.ts';
import type { LoadProfile, ProfileTarget } from '../../load/profile.ts';
import { type LoadResult, runProfile } from '../load/engine.ts';
import { findK6, runWithK6 } from '../load/k6-runner.ts';
import { buildBaseline, readBaseline, writeBaseline } from './baseline.ts';
import { type WrittenGateReport, writeGateReport } from './report.ts';
import { fmt, type GateVerdict, judgeGate } from './verdict.ts';

/**
 * The pre-release performance gate: bring the system up, run the gate profiles, judge each profile's
 * thresholds (k6 semantics) and the regression rule against the stored baseline, write the reports.
 */

export type Runner = 'auto' | 'embedded' | 'k6';

export interface GateOptions {
  system: string;
  env: string;
  overlay: string;
  profiles: LoadProfile[];
  /** Baseline file; when it does not exist the regression rule is skipped (and said so). */
  baselinePath: string;
  updateBaseline: boolean;
  /** Profiles the baseline records (and so the regression rule compares); the others are judged by thresholds only. */
  regressionProfiles: string[];
  /** Repetitions of every profile (the baseline's noise comes from them); default 1, 3 with --update-baseline. */
  runs: number;
  runner: Runner;
  reportDir: string;
  timeScale?: number;
  gpu?: 'emulated' | 'passthrough';
  /** --env cluster: the existing cluster's kubeconfig and context (--kubeconfig / --context). */
  kubeconfig?: string;
  context?: string;
  signal?: AbortSignal;
  progress: (message: string) => void;
}

export interface GateOutcome {
  verdict: GateVerdict;
  results: LoadResult[];
  report: WrittenGateReport;
  baselineWritten?: string;
}

export async function targetUrl(env: Environment, target: ProfileTarget): Promise<string> {
  if (target.kind === 'Ingress')
    return env.net.ingressUrl({ namespace: target.namespace, name: target.name });
  return env.net.serviceUrl({
    namespace: target.namespace,
    name: target.name,
    ...(target.port !== undefined ? { port: target.port } : {}),
  });
}

/** Runs the profiles on an environment that is already up; results[run][profile]. */
export async function runProfilesOn(
  env: Environment,
  options: Pick<GateOptions, 'profiles' | 'runs' | 'runner' | 'reportDir' | 'signal' | 'progress'>,
): Promise<LoadResult[][]> {
  const k6 = options.runner === 'embedded' ? undefined : await findK6();
  if (options.runner === 'k6' && !k6) {
    throw new TwinError(
      'TWIN_ENV_UNAVAILABLE',
      '--runner k6: k6 is not on the PATH (or K6_BINARY); install k6 ≥ 1.0 or use --runner embedded',
    );
  }
  // auto: k6 where the environment is a real cluster and k6 is there; the twin runs the embedded engine.
  const useK6 =
    options.runner === 'k6' || (options.runner === 'auto' && env.name !== 'local' && k6 !== undefined);
  const runs: LoadResult[][] = [];
  for (let i = 0; i < options.runs; i++) {
    const results: LoadResult[] = [];
    for (const profile of options.profiles) {
      if (options.signal?.aborted) throw new TwinError('TWIN_ABORTED', 'gate interrupted');
      const baseUrl = await targetUrl(env, profile.target);
      options.progress(
        `load ${profile.name}${options.runs > 1 ? ` (run ${i + 1}/${options.runs})` : ''}: ${profile.description ?? profile.scenario.executor} → ${baseUrl} [${useK6 ? 'k6' : 'embedded engine'}]`,
      );
      const result = useK6
        ? await runWithK6(profile, {
            k6: k6!,
            baseUrl,
            workDir: path.join(options.reportDir, 'k6'),
            ...(options.signal ? { signal: options.signal } : {}),
          })
        : await runProfile(profile, {
            baseUrl,
            progress: options.progress,
            ...(options.signal ? { signal: options.signal } : {}),
          });
      const failed = result.thresholds.filter((t) => !t.ok).length;
      options.progress(
        `load ${profile.name}: ${result.metrics['http_reqs']?.values['count']} requests, p95 ${fmt(result.metrics['http_req_duration']?.values['p(95)'] ?? 0)} ms, ${failed ? `${failed} threshold(s) failed` : 'thresholds passed'}`,
      );
      results.push(result);
    }
    runs.push(results);
  }
  return runs;
}

export async function runGate(options: GateOptions): Promise<GateOutcome> {
  await mkdir(options.reportDir, { recursive: true });
  const baseline = options.updateBaseline ? undefined : await readBaseline(options.baselinePath);
  if (baseline && (baseline.system !== options.system || baseline.env !== options.env)) {
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--baseline ${options.baselinePath}: recorded for system ${baseline.system} on env ${baseline.env}, not ${options.system} on ${options.env}`,
    );
  }
  const startedAt = new Date().toISOString();
  options.progress(`bringing ${options.system} up on ${options.env} (overlay ${options.overlay})`);
  let runs: LoadResult[][];
  {
    await using env = await upEnvironment(options.env, {
      system: options.system,
      overlay: options.overlay,
      workDir: path.join(options.reportDir, 'work'),
      progress: options.progress,
      ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
      ...(options.gpu ? { gpu: options.gpu } : {}),
      ...(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {}),
      ...(options.context !== undefined ? { context: options.context } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    runs = await runProfilesOn(env, options);
    options.progress(`stopping ${options.env}`);
  }
  const last = runs.at(-1)!;
  let baselineWritten: string | undefined;
  let note: string | undefined;
  if (options.updateBaseline) {
    const byProfile: Record<string, LoadResult[]> = {};
    for (const run of runs) {
      for (const r of run) {
        if (options.regressionProfiles.includes(r.profile))
          byProfile[r.profile] = [...(byProfile[r.profile] ?? []), r];
      }
    }
    await writeBaseline(
      options.baselinePath,
      buildBaseline(byProfile, { system: options.system, env: options.env }),
    );
    baselineWritten = options.baselinePath;
    note = `baseline recorded from ${runs.length} run(s) to ${options.baselinePath}; the regression rule applies from the next gate`;
  } else if (!baseline) {
    note = `no baseline at ${options.baselinePath}: regression rule skipped (record one with --update-baseline)`;
  }
  const verdict = judgeGate(last, baseline, note);
  const report = await writeGateReport(options.reportDir, {
    system: options.system,
    env: options.env,
    overlay: options.overlay,
    startedAt,
    finishedAt: new Date().toISOString(),
    baselinePath: options.baselinePath,
    verdict,
    results: last,
  });
  return { verdict, results: last, report, ...(baselineWritten ? { baselineWritten } : {}) };
}
