import { nightly } from '../../chaos/nightly.ts';
import { progress } from '../scenario/progress.ts';
import { runScenario } from './run-scenario.ts';

/** Runs the nightly scenarios one after another; the exit code is the worst of them. */
export async function runChaos(
  root: string,
  opts: { env: string; timeScale?: string; reportDir: string },
): Promise<number> {
  let worst = 0;
  for (const entry of nightly) {
    progress(`chaos: ${entry.scenario}`);
    const timeScale = opts.timeScale ?? (entry.timeScale !== undefined ? String(entry.timeScale) : undefined);
    const code = await runScenario(root, entry.scenario, {
      env: opts.env,
      reportDir: opts.reportDir,
      ...(timeScale ? { timeScale } : {}),
    });
    worst = Math.max(worst, code);
  }
  return worst;
}
