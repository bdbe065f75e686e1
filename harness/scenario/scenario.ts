import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { TwinError } from '../../core/errors.ts';
import { handleInterrupts, interruptCause, interruption } from '../../core/interrupt.ts';
import type { Environment, TimelineEvent } from '../../env/environment.ts';
import type { FaultName } from '../../env/fault-needs.ts';
import { assertFaultsSupported } from '../../env/fault-needs.ts';
import { environmentBackend, upEnvironment } from '../../env/registry.ts';
import { JourneyLoop } from '../journeys/journey-loop.ts';
import { JourneyRunner } from '../journeys/journey-runner.ts';
import { analysisMeasurementsOf, mergeAnalysisMeasurements } from '../report/analysis-measurements.ts';
import { writeReport } from '../report/report-writer.ts';
import type { AnalysisMeasurement, RunAttachment, RunMeasurement, RunRecord } from '../report/run-record.ts';
import { SteadyTraffic, type SteadyTrafficOptions } from '../traffic/steady-traffic.ts';
import { progress } from './progress.ts';
import { newRunId, runOptionsFromWorker, scenarioRunOptions } from './run-options.ts';
import { type SampledService, type SampledWorkload, TimelineSampler } from './timeline-sampler.ts';

export interface ScenarioOptions {
  /** System under infra/<system>/. */
  system: string;
  overlay?: string;
  /**
   * The faults the scenario injects (its `env.faults.<name>` calls): checked against what the
   * environment can do before it comes up (env/fault-needs.ts), so that a fault needing node access
   * on a managed cluster fails at once, saying so, instead of halfway through the run.
   */
  faults?: FaultName[];
  /** What the report's timeline samples. */
  timeline?: { services?: SampledService[]; workloads?: SampledWorkload[] };
  /** Real-time limit for bringing the environment up. */
  upTimeoutMs?: number;
  /**
   * The control-plane time scale this scenario runs at on the twin unless `--time-scale` is given
   * (default DEFAULT_TIME_SCALE). A scenario whose measurements are statistics over control-plane
   * windows (a Prometheus `rate(…[1m])`) needs a scale at which such a window still holds enough
   * real traffic and live-process time.
   */
  timeScale?: number;
}

export type Measurement = RunMeasurement;

/** What a scenario body works with. */
export interface ScenarioContext {
  readonly env: Environment;
  readonly runId: string;
  readonly reportDir: string;
  /** A named step of the scenario, timed, shown as progress and listed in the report. */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Records a measured figure and, with a bound, asserts it (the test fails when it does not hold). */
  measure(
    name: string,
    value: number,
    unit: string,
    bound?: { below?: number; atMost?: number; atLeast?: number; equals?: number; description?: string },
  ): number;
  /** Starts steady client traffic; it is stopped at the end of the scenario if still running. */
  traffic(options: SteadyTrafficOptions): SteadyTraffic;
  /**
   * A person using the system in a browser (harness/journeys): the system's journey runs in a loop
   * until stopped; failed journeys' screenshots and traces go into the report. Skipped, saying why,
   * where no Chromium is found.
   */
  journeys(journey: string, options?: { everyMs?: number; timeoutMs?: number }): JourneyLoop;
  /** Adds an event of the scenario's own to the timeline. */
  event(kind: string, message: string): void;
  progress(message: string): void;
  note(text: string): void;
}

/**
 * Declares a scenario as a Vitest suite: the environment comes up before its tests and goes down
 * after them (also when one fails), a timeline is sampled throughout, and reports/<run-id>/ gets
 * result.json, junit.xml and report.html.
 */
/** Set by `twin scenario --dry-run`: it loads the scenario file to learn its system without running it. */
export const SCENARIO_CAPTURE = Symbol.for('infra-twin.scenario-capture');

export function scenario(name: string, options: ScenarioOptions, body: (s: ScenarioContext) => void): void {
  const capture = (globalThis as Record<symbol, unknown>)[SCENARIO_CAPTURE];
  if (typeof capture === 'function') {
    capture(name, options);
    return;
  }
  const run = scenarioRunOptions(runOptionsFromWorker(), options.timeScale);
  const runId = run.runId ?? newRunId(name);
  const reportDir = path.resolve(run.reportDir, runId);
  // In the Vitest worker the signals (relayed by the CLI, or Ctrl-C from the terminal) and the loss
  // of the CLI end every wait; afterAll then tears the environment down before the worker exits.
  interruptOnce();
  let env: Environment | undefined;
  let sampler: TimelineSampler | undefined;
  let startedAtVirtual = 0;
  const startedAt = new Date();
  const steps: RunRecord['steps'] = [];
  const measurements: Measurement[] = [];
  const events: TimelineEvent[] = [];
  const notes: string[] = [];
  const traffics: SteadyTraffic[] = [];
  const analysis: AnalysisMeasurement[] = [];
  const journeyRunner = new JourneyRunner(reportDir);
  const journeyLoops: JourneyLoop[] = [];
  const attachments: RunAttachment[] = [];
  let unsubscribe: (() => void) | undefined;
  let unwatchAnalysis: (() => void) | undefined;
  let failed = false;

  const ctx: ScenarioContext = {
    get env() {
      if (!env) throw new Error(`scenario ${name}: the environment is not up`);
      return env;
    },
    runId,
    reportDir,
    async step(stepName, fn) {
      const begin = new Date();
      // After Ctrl-C no step starts: the remaining tests fail at once and afterAll tears down.
      const stopped = interruptCause();
      if (stopped)
        throw new TwinError('TWIN_ABORTED', `${stepName}: not started, interrupted (${stopped.reason})`);
      progress(`▶ ${stepName}`);
      const t0 = performance.now();
      try {
        const result = await fn();
        steps.push({
          name: stepName,
          status: 'passed',
          startedAt: begin.toISOString(),
          finishedAt: new Date().toISOString(),
        });
        progress(`✔ ${stepName} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
        return result;
      } catch (err) {
        failed = true;
        steps.push({
          name: stepName,
          status: 'failed',
          startedAt: begin.toISOString(),
          finishedAt: new Date().toISOString(),
          error: String((err as Error)?.message ?? err),
        });
        progress(`✘ ${stepName}: ${(err as Error)?.message ?? err}`);
        throw err;
      }
    },
    measure(mName, value, unit, bound) {
      const m: Measurement = { name: mName, value, unit };
      if (bound?.description) m.description = bound.description;
      // Every bound given is checked (a range is `atLeast` with `below` or `atMost`), and all are named.
      const checks: Array<{ text: string; ok: (v: number) => boolean }> = [];
      if (bound?.atLeast !== undefined)
        checks.push({ text: `≥ ${bound.atLeast}`, ok: (v) => v >= bound.atLeast! });
      if (bound?.below !== undefined) checks.push({ text: `< ${bound.below}`, ok: (v) => v < bound.below! });
      if (bound?.atMost !== undefined)
        checks.push({ text: `≤ ${bound.atMost}`, ok: (v) => v <= bound.atMost! });
      if (bound?.equals !== undefined)
        checks.push({ text: `= ${bound.equals}`, ok: (v) => v === bound.equals });
      const check = checks.length > 0 ? (v: number) => checks.every((c) => c.ok(v)) : undefined;
      if (checks.length > 0) m.assertion = checks.map((c) => c.text).join(' and ');
      if (check) m.passed = Number.isFinite(value) && check(value);
      measurements.push(m);
      progress(
        `  ${m.passed === false ? '✘' : '•'} ${mName}: ${formatValue(value)} ${unit}${m.assertion ? ` (${m.assertion})` : ''}`,
      );
      if (m.passed === false) {
        failed = true;
        expect.soft(value, `${mName} ${m.assertion} ${unit}`).toSatisfy(check!);
      }
      return value;
    },
    traffic(trafficOptions) {
      const t = new SteadyTraffic(trafficOptions);
      traffics.push(t);
      t.start();
      return t;
    },
    journeys(journey, journeyOptions) {
      const loop = new JourneyLoop(journeyRunner, ctx.env, options.system, journey, journeyOptions);
      if (loop.skipped) notes.push(`browser journey ${journey} skipped: ${loop.skipped}`);
      journeyLoops.push(loop);
      return loop;
    },
    event(kind, message) {
      events.push({ t: ctx.env.clock.now(), kind, message, type: 'Normal' });
    },
    progress,
    note(text) {
      notes.push(text);
    },
  };

  describe(name, () => {
    beforeAll(async () => {
      await mkdir(reportDir, { recursive: true });
      progress(
        `${name}: bringing up ${options.system} on the ${run.env} environment (time scale ×${run.timeScale})`,
      );
      const t0 = performance.now();
      // A failed bring-up is a failed step of the run (the report must not say "passed").
      env = await ctx.step(`bring up ${options.system} on ${run.env}`, () => {
        assertFaultsSupported(environmentBackend(run.env), `scenario ${name}`, options.faults ?? []);
        const overlay = run.overlay ?? options.overlay;
        return upEnvironment(run.env, {
          system: options.system,
          ...(overlay ? { overlay } : {}),
          timeScale: run.timeScale,
          gpu: run.gpu,
          workDir: path.join(reportDir, 'work'),
          progress,
          ...(run.kubeconfig ? { kubeconfig: run.kubeconfig } : {}),
          ...(run.context ? { context: run.context } : {}),
          ...(run.profile ? { profile: run.profile } : {}),
          signal: interruption(),
        });
      });
      // Real clients (kubectl, k9s) reach the environment through this file while the scenario runs.
      if (env.kubeconfig) {
        await copyFile(env.kubeconfig, path.join(reportDir, 'kubeconfig'));
        progress(`kubeconfig: ${path.relative(process.cwd(), path.join(reportDir, 'kubeconfig'))}`);
      }
      startedAtVirtual = env.clock.now();
      unsubscribe = env.onEvent((e) => events.push(e));
      // Argo keeps the last 10 measurements of a metric; watching keeps every one for the report.
      unwatchAnalysis = env.kube.watch({ apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisRun' }, (e) => {
        if (e.type !== 'DELETED')
          mergeAnalysisMeasurements(analysis, analysisMeasurementsOf(e.object, startedAtVirtual));
      });
      sampler = new TimelineSampler(
        env,
        startedAtVirtual,
        options.timeline?.services ?? [],
        options.timeline?.workloads ?? [],
      );
      sampler.start();
      progress(`environment up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }, options.upTimeoutMs ?? 120_000);

    // biome-ignore lint/correctness/noEmptyPattern: Vitest requires a destructuring pattern for the hook context
    afterAll(async ({}, suite) => {
      sampler?.stop();
      await Promise.allSettled(traffics.map((t) => t.stop()));
      for (const loop of journeyLoops) attachments.push(...(await loop.stop(startedAtVirtual)).failures);
      await journeyRunner.close();
      unsubscribe?.();
      unwatchAnalysis?.();
      // Interrupted: the environment goes first, the report after, so the teardown fits in the time
      // the CLI gives it (it forces the exit 9 s after the signal).
      const interrupted = interruptCause() !== undefined;
      if (env && interrupted) {
        await env.down();
        await rm(path.join(reportDir, 'kubeconfig'), { force: true });
      }
      // A test that failed outside s.step/s.measure (a plain expect) fails the run too.
      for (const task of suite.tasks) {
        if (task.result?.state !== 'fail') continue;
        failed = true;
        steps.push({
          name: `test: ${task.name}`,
          status: 'failed',
          startedAt: startedAt.toISOString(),
          finishedAt: new Date().toISOString(),
          error: String(task.result.errors?.[0]?.message ?? 'failed'),
        });
      }
      const status = failed || steps.some((s) => s.status === 'failed') ? 'failed' : 'passed';
      const scale = env?.clock.scale ?? run.timeScale;
      const record: RunRecord = {
        runId,
        scenario: name,
        environment: run.env,
        system: options.system,
        timeScale: scale,
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        status,
        steps,
        measurements,
        ...(analysis.length > 0 ? { analysis } : {}),
        timeline: {
          samples: sampler?.samples ?? [],
          events: events.map((e) => ({ ...e, t: e.t - startedAtVirtual })),
        },
        notes: [
          `control-plane time scale ×${scale}: durations in the manifests (pauses, analysis intervals, probe periods) ran ${scale}× faster than real time; live processes ran in real time`,
          ...notes,
        ],
        ...(attachments.length > 0 ? { attachments } : {}),
      };
      const files = await writeReport(reportDir, record, { junit: true });
      if (interrupted) {
        // torn down above
      } else if (env && (!run.keep || interruptCause())) {
        await env.down();
        await rm(path.join(reportDir, 'kubeconfig'), { force: true });
      } else if (env) {
        // --keep: the environment stays until this worker is told to stop (Ctrl-C, Vitest closing it).
        const kept = env;
        interruption().addEventListener(
          'abort',
          () => void kept.down().then(() => rm(path.join(reportDir, 'kubeconfig'), { force: true })),
          { once: true },
        );
      }
      progress(`report: ${path.relative(process.cwd(), files.reportHtml)}`);
    }, 60_000);

    body(ctx);
  });
}

let interruptsHandled = false;
function interruptOnce(): void {
  if (interruptsHandled) return;
  interruptsHandled = true;
  handleInterrupts({ log: progress, watchParent: true });
}

function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}
