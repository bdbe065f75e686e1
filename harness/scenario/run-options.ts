import path from 'node:path';
import { TwinError } from '../../core/errors.ts';
import { DEFAULT_TIME_SCALE } from '../../kube/clock.ts';

export { DEFAULT_TIME_SCALE };

export type GpuMode = 'emulated' | 'passthrough';
export const GPU_MODES: readonly GpuMode[] = ['emulated', 'passthrough'];

/**
 * What a run of the harness is asked to do, parsed once from the command line
 * (harness/cli/run-options-parse.ts) and passed as it is: to `twin up`, the gate and chaos directly,
 * and to a scenario's Vitest worker serialized in one variable (TWIN_RUN_OPTIONS).
 */
export interface RunOptions {
  /** The environment (`--env`): local (the twin) or k3d. */
  env: string;
  /** The system (`--system`: a name of twin.yaml, under infra/ or a directory); a scenario names its own, a generic one takes it. */
  system?: string;
  /** The kustomize overlay (`--overlay`): instead of a scenario's own (required with --env cluster). */
  overlay?: string;
  /** Where `twin up` keeps its state (`--work-dir`), absolute; a scenario works under its report. */
  workDir?: string;
  /**
   * Control-plane time scale (`--time-scale`): the twin runs at it; the cluster environment reads the
   * cluster's clock at it. Not given: on the twin DEFAULT_TIME_SCALE (a scenario may set its own,
   * ScenarioOptions.timeScale), elsewhere 1.
   */
  timeScale: number;
  /** Whether `--time-scale` was given (then it wins over a scenario's own). */
  timeScaleGiven?: boolean;
  /** `--kubeconfig` / `--context` of the cluster environment. */
  kubeconfig?: string;
  context?: string;
  /** The kind of cluster the twin is (`--profile`: eks, k3s); default TWIN_PROFILE, else eks. */
  profile?: string;
  /** GPU nodes' devices (`--gpu`). */
  gpu: GpuMode;
  /** Where reports/<run-id>/ go (`--report-dir`), absolute. */
  reportDir: string;
  /** Leave the environment running after a scenario (`--keep`). */
  keep: boolean;
  /** The run's id (reports/<run-id>/); a scenario makes one when absent. */
  runId?: string;
}

/** The variable that carries RunOptions into a scenario's Vitest worker. */
export const RUN_OPTIONS_VAR = 'TWIN_RUN_OPTIONS';

export function defaultRunOptions(): RunOptions {
  return {
    env: 'local',
    timeScale: DEFAULT_TIME_SCALE,
    gpu: 'emulated',
    reportDir: path.resolve('reports'),
    keep: false,
  };
}

export function serializeRunOptions(options: RunOptions): string {
  return JSON.stringify(options);
}

/**
 * The RunOptions the CLI handed to this worker (TWIN_RUN_OPTIONS), or the defaults for a scenario
 * run by Vitest directly (`npx vitest run --project scenarios`).
 */
export function runOptionsFromWorker(env: NodeJS.ProcessEnv = process.env): RunOptions {
  const text = env[RUN_OPTIONS_VAR];
  if (!text) return defaultRunOptions();
  let parsed: Partial<RunOptions>;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TwinError('TWIN_OPTION_INVALID', `${RUN_OPTIONS_VAR}: not JSON (${(err as Error).message})`);
  }
  const options = { ...defaultRunOptions(), ...parsed };
  if (!(options.timeScale > 0) || !Number.isFinite(options.timeScale))
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `${RUN_OPTIONS_VAR}: timeScale must be a positive number, got ${options.timeScale}`,
    );
  if (!GPU_MODES.includes(options.gpu))
    throw new TwinError('TWIN_OPTION_INVALID', `${RUN_OPTIONS_VAR}: gpu must be emulated or passthrough`);
  return options;
}

/**
 * A scenario's run options: `--time-scale` wins; else on the twin the scenario's own
 * (ScenarioOptions.timeScale), else the default; a real cluster's clock is never rescaled by a scenario.
 */
export function scenarioRunOptions(run: RunOptions, scenarioTimeScale: number | undefined): RunOptions {
  if (run.timeScaleGiven || run.env !== 'local' || scenarioTimeScale === undefined) return run;
  if (!(scenarioTimeScale > 0) || !Number.isFinite(scenarioTimeScale))
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `the scenario's timeScale must be a positive number, got ${scenarioTimeScale}`,
    );
  return { ...run, timeScale: scenarioTimeScale };
}

export function newRunId(scenario: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${scenario}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}
