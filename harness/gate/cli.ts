import path from 'node:path';
import { TwinError } from '../../core/errors.ts';
import { GATE_PROFILES, loadProfile, REGRESSION_PROFILES } from '../../load/profiles/index.ts';
import { progress } from '../scenario/progress.ts';
import { type Runner, runGate } from './gate.ts';
import { describeFailures } from './verdict.ts';

export interface GateCliOptions {
  system: string;
  env: string;
  overlay: string;
  profiles?: string;
  baseline?: string;
  updateBaseline?: boolean;
  runs?: string;
  runner: Runner;
  reportDir: string;
  timeScale?: string;
}

/**
 * The gate's control-plane time scale on the twin: ×10 brings the system up in seconds, while the
 * node heartbeat grace period (40 s → 4 s of real time) is not starved by the load on a small machine
 * (at the scenarios' ×100 it is 0.4 s, and a CPU-bound load run made every node NotReady).
 */
export const GATE_TIME_SCALE = 10;

/** `twin gate`: exit 0 when the gate passes, 1 when a threshold or the regression rule fails. */
export async function gateCommand(root: string, opts: GateCliOptions): Promise<number> {
  const names = (opts.profiles ?? GATE_PROFILES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const profiles = names.map(loadProfile);
  const runs = opts.runs !== undefined ? Number(opts.runs) : opts.updateBaseline ? 3 : 1;
  if (!Number.isInteger(runs) || runs < 1) {
    throw new TwinError('TWIN_OPTION_INVALID', `--runs: "${opts.runs}" is not a whole number ≥ 1`);
  }
  const timeScale = opts.timeScale !== undefined ? Number(opts.timeScale) : GATE_TIME_SCALE;
  if (!(timeScale > 0)) {
    throw new TwinError('TWIN_OPTION_INVALID', `--time-scale: "${opts.timeScale}" is not a positive number`);
  }
  const systemName = path.basename(opts.system);
  const baselinePath =
    opts.baseline ?? path.join(root, 'load', 'baselines', `${systemName}.${opts.env}.json`);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const reportDir = path.resolve(opts.reportDir, `gate-${systemName}-${stamp}`);
  const controller = new AbortController();
  const onSignal = () => {
    progress('interrupted: stopping the load and the environment');
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const outcome = await runGate({
      system: opts.system,
      env: opts.env,
      overlay: opts.overlay,
      profiles,
      baselinePath,
      updateBaseline: opts.updateBaseline === true,
      regressionProfiles: REGRESSION_PROFILES,
      runs,
      runner: opts.runner,
      reportDir,
      timeScale,
      signal: controller.signal,
      progress,
    });
    const v = outcome.verdict;
    process.stdout.write(
      `\n${await import('node:fs/promises').then((f) => f.readFile(outcome.report.markdown, 'utf8'))}\n`,
    );
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
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `twin k6-scripts`: writes the k6 TypeScript script of each profile (run with `k6 run -e BASE_URL=…`). */
export async function k6ScriptsCommand(opts: { profiles?: string; out: string }): Promise<number> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { k6Script } = await import('../load/k6-script.ts');
  const { PROFILE_NAMES } = await import('../../load/profiles/index.ts');
  const names = (opts.profiles ?? PROFILE_NAMES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const profiles = names.map(loadProfile);
  await mkdir(opts.out, { recursive: true });
  for (const p of profiles) {
    const file = path.join(opts.out, `${p.name}.ts`);
    await writeFile(file, k6Script(p, `load/profiles/${p.name}.ts`));
    process.stdout.write(
      `${path.relative(process.cwd(), file)}  (${p.target.kind} ${p.target.namespace}/${p.target.name})\n`,
    );
  }
  return 0;
}
