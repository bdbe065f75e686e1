import { TwinError } from '../../core/errors.ts';
import { DEFAULT_TIME_SCALE } from '../../kube/clock.ts';

export { DEFAULT_TIME_SCALE };

/** What the CLI passes to a scenario run (through the environment, since vitest runs it in a worker). */
export interface RunOptions {
  env: string;
  /** The control plane's time scale: the twin's (default 100); 1 elsewhere unless stated (a twin reached as a cluster). */
  timeScale: number;
  /** `--overlay`: the overlay to deploy instead of the scenario's own (the cluster environment needs one; a generic scenario's: undefined is the system's default). */
  overlay: string | undefined;
  /** `--kubeconfig` / `--context` of the cluster environment. */
  kubeconfig: string | undefined;
  context: string | undefined;
  keep: boolean;
  reportRoot: string;
  runId: string | undefined;
  /** The system a generic scenario runs on (`twin scenario <name> --system …`). */
  system: string | undefined;
}

/**
 * The run's options from TWIN_* variables. The time scale is `--time-scale` when given, else on the
 * twin the scenario's own (`scenarioTimeScale`, see ScenarioOptions.timeScale) or DEFAULT_TIME_SCALE;
 * elsewhere 1: a real cluster's control plane runs in real time.
 */
export function runOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  scenarioTimeScale?: number,
): RunOptions {
  const name = env['TWIN_ENV'] ?? 'local';
  const timeScale =
    env['TWIN_TIME_SCALE'] === undefined
      ? name === 'local'
        ? (scenarioTimeScale ?? DEFAULT_TIME_SCALE)
        : 1
      : Number(env['TWIN_TIME_SCALE']);
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) {
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      env['TWIN_TIME_SCALE'] === undefined
        ? `the scenario's timeScale must be a positive number, got ${timeScale}`
        : `--time-scale must be a positive number, got "${env['TWIN_TIME_SCALE']}"`,
    );
  }
  return {
    env: name,
    timeScale,
    overlay: env['TWIN_OVERLAY'] || undefined,
    kubeconfig: env['TWIN_KUBECONFIG'] || undefined,
    context: env['TWIN_KUBE_CONTEXT'] || undefined,
    keep: env['TWIN_KEEP'] === '1',
    reportRoot: env['TWIN_REPORT_DIR'] ?? 'reports',
    runId: env['TWIN_RUN_ID'] || undefined,
    system: env['TWIN_SYSTEM'] || undefined,
  };
}

export function newRunId(scenario: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${scenario}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}
