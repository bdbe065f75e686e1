import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { interruption } from '../../core/interrupt.ts';
import { environmentBackend } from '../../env/registry.ts';
import { GATE_PROFILES, loadProfile, REGRESSION_PROFILES } from '../../load/profiles/index.ts';
import {
  assertOverlay,
  checkInputFile,
  checkWritableDirectory,
  parseNameList,
  parseRuns,
} from '../cli/option-values.ts';
import { progress } from '../scenario/progress.ts';
import type { RunOptions } from '../scenario/run-options.ts';
import { type Runner, runGate } from './gate.ts';
import { describeFailures } from './verdict.ts';

export interface GateFlags {
  profiles?: string;
  baseline?: string;
  updateBaseline?: boolean;
  runs?: string;
  runner: Runner;
}

/** `twin gate`: exit 0 when the gate passes, 1 when a threshold or the regression rule fails, 2 on bad input. */
export async function gateCommand(root: string, run: RunOptions, flags: GateFlags): Promise<number> {
  const names = flags.profiles !== undefined ? parseNameList('--profiles', flags.profiles) : GATE_PROFILES;
  const profiles = names.map(loadProfile);
  const runs = flags.runs !== undefined ? parseRuns(flags.runs) : flags.updateBaseline ? 3 : 1;
  const system = run.system ?? 'ai-platform';
  const systemName = path.basename(system);
  // An explicit baseline must exist (a typo must not silently skip the regression rule); the default
  // one may be missing, and the report says the rule was skipped.
  const baselinePath = flags.updateBaseline
    ? checkBaselineTarget(
        flags.baseline ?? path.join(root, 'load', 'baselines', `${systemName}.${run.env}.json`),
      )
    : flags.baseline !== undefined
      ? checkInputFile('--baseline', flags.baseline)
      : path.join(root, 'load', 'baselines', `${systemName}.${run.env}.json`);
  // Checked before anything starts, as `twin scenario` does (--env cluster: the kubeconfig and context).
  await environmentBackend(run.env).preflight({
    ...(run.kubeconfig !== undefined ? { kubeconfig: run.kubeconfig } : {}),
    ...(run.context !== undefined ? { context: run.context } : {}),
  });
  if (run.env === 'cluster') await assertOverlay(system, run.overlay, root);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const reportDir = path.resolve(run.reportDir, `gate-${systemName}-${stamp}`);
  const outcome = await runGate({
    system,
    env: run.env,
    overlay: run.overlay ?? 'local',
    profiles,
    baselinePath,
    updateBaseline: flags.updateBaseline === true,
    regressionProfiles: REGRESSION_PROFILES,
    runs,
    runner: flags.runner,
    reportDir,
    timeScale: run.timeScale,
    gpu: run.gpu,
    ...(run.kubeconfig !== undefined ? { kubeconfig: run.kubeconfig } : {}),
    ...(run.context !== undefined ? { context: run.context } : {}),
    signal: interruption(),
    progress,
  });
  const v = outcome.verdict;
  process.stdout.write(`\n${await readFile(outcome.report.markdown, 'utf8')}\n`);
  process.stdout.write(
    `reports: ${path.relative(process.cwd(), outcome.report.html)} (also gate.json, junit.xml, summary.md)\n`,
  );
  if (outcome.baselineWritten) process.stdout.write(`baseline written: ${outcome.baselineWritten}\n`);
  if (v.passed) {
    process.stdout.write('gate: PASSED\n');
    return 0;
  }
  for (const line of describeFailures(v)) process.stderr.write(`gate: FAILED: ${line}\n`);
  return 1;
}

/** Where --update-baseline writes: not a directory, in a directory that can be written. */
function checkBaselineTarget(file: string): string {
  const abs = checkInputFile('--baseline', file, { mayBeMissing: true });
  checkWritableDirectory('--baseline', path.dirname(abs));
  return abs;
}

/** `twin k6-scripts`: writes the k6 TypeScript script of each profile (run with `k6 run -e BASE_URL=…`). */
export async function k6ScriptsCommand(opts: { profiles?: string; out: string }): Promise<number> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { k6Script } = await import('../load/k6-script.ts');
  const { PROFILE_NAMES } = await import('../../load/profiles/index.ts');
  const names = opts.profiles !== undefined ? parseNameList('--profiles', opts.profiles) : PROFILE_NAMES;
  const profiles = names.map(loadProfile);
  const out = checkWritableDirectory('--out', opts.out);
  await mkdir(out, { recursive: true });
  for (const p of profiles) {
    const file = path.join(out, `${p.name}.ts`);
    await writeFile(file, k6Script(p, `load/profiles/${p.name}.ts`));
    process.stdout.write(
      `${path.relative(process.cwd(), file)}  (${p.target.kind} ${p.target.namespace}/${p.target.name})\n`,
    );
  }
  return 0;
}
