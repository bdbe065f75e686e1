import { TwinError } from '../../core/errors.ts';
import { environmentBackend } from '../../env/registry.ts';
import { clusterTargetOptions } from '../chaos/chaos-session.ts';
import { progress } from '../scenario/progress.ts';
import type { RunOptions } from '../scenario/run-options.ts';
import { assertOverlay } from './option-values.ts';
import { runScenario } from './run-scenario.ts';

/** What `twin chaos` adds to the run options every command shares. */
export interface ChaosCommandOptions {
  /** --time-scale was given: it overrides a scenario's own in chaos/nightly.ts. */
  timeScaleGiven: boolean;
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
export async function runChaos(root: string, run: RunOptions, opts: ChaosCommandOptions): Promise<number> {
  const timeScale = opts.timeScaleGiven ? { timeScale: run.timeScale } : {};
  // --env cluster: the experiments and the randomized run bring the cluster up with these too.
  const target = clusterTargetOptions(run);
  const where = { ...target, ...(run.overlay !== undefined ? { overlay: run.overlay } : {}) };
  const cluster = Object.keys(where).length > 0 ? { cluster: where } : {};
  // Checked before anything starts, as `twin scenario` does: the environment can run here, and with
  // --env cluster the kubeconfig and context exist (an input error exits 2 with no report written).
  if (!(opts.random && opts.dryRun)) {
    await environmentBackend(run.env).preflight(target);
    // The suite spans systems: each entry deploys the overlay of that name of its own system.
    if (run.env === 'cluster' && opts.random)
      await assertOverlay(opts.system ?? 'ai-platform', run.overlay, root);
    else if (run.env === 'cluster' && !run.overlay)
      throw new TwinError(
        'TWIN_OPTION_INVALID',
        '--env cluster needs --overlay <name>: which overlay of each system in the suite to deploy on the cluster',
      );
  }
  if (opts.random) {
    const { randomCommand } = await import('../chaos/random-run.ts');
    return randomCommand(root, {
      env: run.env,
      reportDir: run.reportDir,
      ...timeScale,
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(opts.budget !== undefined ? { budget: opts.budget } : {}),
      ...(opts.system !== undefined ? { system: opts.system } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
      ...(opts.summary ? { summary: opts.summary } : {}),
      ...(opts.history ? { history: opts.history } : {}),
      ...cluster,
      progress,
    });
  }
  const only = opts.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (only !== undefined && only.length === 0)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--only ${JSON.stringify(opts.only)}: names no suite entry (chaos/nightly.ts); leave it out to run them all`,
    );
  const { runSuite } = await import('../chaos/suite.ts');
  return runSuite(root, {
    env: run.env,
    ...timeScale,
    reportDir: run.reportDir,
    ...(only ? { only } : {}),
    ...(opts.summary ? { summary: opts.summary } : {}),
    ...(opts.history ? { history: opts.history } : {}),
    ...cluster,
    progress,
    runScenario: (name, o) => runScenario(root, name, { ...run, ...o }),
  });
}
