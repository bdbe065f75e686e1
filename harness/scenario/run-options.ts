import { TwinError } from '../../core/errors.ts';
import { DEFAULT_TIME_SCALE } from '../../kube/clock.ts';

export { DEFAULT_TIME_SCALE };

/** What the CLI passes to a scenario run (through the environment, since vitest runs it in a worker). */
export interface RunOptions {
  env: string;
  timeScale: number;
  keep: boolean;
  reportRoot: string;
  runId: string | undefined;
  /** The system a generic scenario runs on (`twin scenario <name> --system …`). */
  system: string | undefined;
  /** The overlay it brings up (`--overlay`); undefined: local. */
  overlay: string | undefined;
}

export function runOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RunOptions {
  const timeScale =
    env['TWIN_TIME_SCALE'] === undefined ? DEFAULT_TIME_SCALE : Number(env['TWIN_TIME_SCALE']);
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) {
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--time-scale must be a positive number, got "${env['TWIN_TIME_SCALE']}"`,
    );
  }
  return {
    env: env['TWIN_ENV'] ?? 'local',
    timeScale,
    keep: env['TWIN_KEEP'] === '1',
    reportRoot: env['TWIN_REPORT_DIR'] ?? 'reports',
    runId: env['TWIN_RUN_ID'] || undefined,
    system: env['TWIN_SYSTEM'] || undefined,
    overlay: env['TWIN_OVERLAY'] || undefined,
  };
}

export function newRunId(scenario: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${scenario}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}
