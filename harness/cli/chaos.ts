import { progress } from '../scenario/progress.ts';
import { runScenario } from './run-scenario.ts';

export interface ChaosCommandOptions {
  env: string;
  timeScale?: string;
  reportDir: string;
  only?: string;
  summary?: string;
  history?: string;
  random?: boolean;
  seed?: string;
  budget?: string;
  system?: string;
  dryRun?: boolean;
}

/**
 * `twin chaos`: the nightly suite (chaos/nightly.ts: experiments and scenarios, one after another), or
 * with --random a seeded randomized run (harness/chaos/random-plan.ts). The exit code is the worst.
 */
export async function runChaos(root: string, opts: ChaosCommandOptions): Promise<number> {
  if (opts.random) {
    const { randomCommand } = await import('../chaos/random-run.ts');
    return randomCommand(root, { ...opts, progress });
  }
  const { runSuite } = await import('../chaos/suite.ts');
  return runSuite(root, {
    env: opts.env,
    ...(opts.timeScale ? { timeScale: opts.timeScale } : {}),
    reportDir: opts.reportDir,
    ...(opts.only
      ? {
          only: opts.only
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        }
      : {}),
    ...(opts.summary ? { summary: opts.summary } : {}),
    ...(opts.history ? { history: opts.history } : {}),
    progress,
    runScenario: (name, o) => runScenario(root, name, o),
  });
}
