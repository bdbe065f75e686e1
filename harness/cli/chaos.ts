import { nightly } from '../../chaos/nightly.ts';
import { interruptCause } from '../../core/interrupt.ts';
import { progress } from '../scenario/progress.ts';
import type { RunOptions } from '../scenario/run-options.ts';
import { runScenario } from './run-scenario.ts';

/**
 * Runs the nightly scenarios one after another; the exit code is the worst of them. A scenario's
 * time scale in chaos/nightly.ts applies unless --time-scale was given.
 */
export async function runChaos(
  root: string,
  run: RunOptions,
  options: { timeScaleGiven: boolean },
): Promise<number> {
  let worst = 0;
  for (const entry of nightly) {
    if (interruptCause()) break;
    progress(`chaos: ${entry.scenario}`);
    const timeScale =
      !options.timeScaleGiven && entry.timeScale !== undefined ? entry.timeScale : run.timeScale;
    const code = await runScenario(root, entry.scenario, { ...run, timeScale });
    worst = Math.max(worst, code);
  }
  return worst;
}
