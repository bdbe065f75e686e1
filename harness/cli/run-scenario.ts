import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createVitest, startVitest } from 'vitest/node';
import { TwinError } from '../../core/errors.ts';
import { interruptCause, interruption, onForcedExit } from '../../core/interrupt.ts';
import { childPids } from '../../core/process.ts';
import { environmentBackend } from '../../env/registry.ts';
import { newRunId, RUN_OPTIONS_VAR, type RunOptions, serializeRunOptions } from '../scenario/run-options.ts';
import type { ScenarioOptions } from '../scenario/scenario.ts';
import { scenarioFile } from './scenario-catalog.ts';

export interface ScenarioFlags {
  testNamePattern?: string;
  watch?: boolean;
  dryRun?: boolean;
}

/**
 * Runs one scenario as a Vitest suite (filtering, watch and reporters come from Vitest); the run's
 * options reach the scenario's worker serialized once (TWIN_RUN_OPTIONS). Returns the exit code.
 *
 * Signals: this process owns them (core/interrupt.ts). An interruption is passed on to the worker,
 * which aborts its waits and tears the environment down in the scenario's afterAll before the run
 * ends; Vitest's own handlers, which would exit at once and orphan the worker, are removed.
 */
export async function runScenario(
  root: string,
  name: string,
  run: RunOptions,
  flags: ScenarioFlags = {},
): Promise<number> {
  if (flags.dryRun) return dryRunScenario(root, name, run);
  const file = scenarioFile(root, name);
  await environmentBackend(run.env).preflight();
  const runId = run.runId ?? newRunId(name);
  process.env[RUN_OPTIONS_VAR] = serializeRunOptions({ ...run, runId });
  const options = {
    root,
    config: path.join(root, 'vitest.config.ts'),
    project: ['scenarios'],
    watch: flags.watch ?? false,
    ...(flags.testNamePattern ? { testNamePattern: flags.testNamePattern } : {}),
  };
  const filters = [path.relative(root, file)];
  throwIfInterrupted();
  if (flags.watch) {
    await startVitest('test', filters, options);
    return 0;
  }
  const own = new Map(SIGNALS.map((s) => [s, process.listeners(s)]));
  const vitest = await createVitest('test', options);
  for (const s of SIGNALS)
    for (const l of process.listeners(s)) if (!own.get(s)!.includes(l)) process.off(s, l as () => void);
  const workers = () => childPids().filter((pid) => pid !== process.pid);
  const relay = () => {
    const sig = interruptCause()?.signal ?? 'SIGTERM';
    for (const pid of workers()) {
      try {
        process.kill(pid, sig);
      } catch {}
    }
  };
  interruption().addEventListener('abort', relay, { once: true });
  const forget = onForcedExit(() => {
    for (const pid of workers()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  });
  try {
    await vitest.start(filters);
  } finally {
    interruption().removeEventListener('abort', relay);
    await vitest.close();
    forget();
  }
  const failed =
    vitest.state.getCountOfFailedTests() > 0 ||
    vitest.state.getFiles().some((f) => f.result?.state === 'fail');
  const reportDir = path.join(run.reportDir, runId);
  process.stderr.write(
    `\nreports: ${path.relative(process.cwd(), reportDir)}/{result.json,junit.xml,report.html}\n`,
  );
  throwIfInterrupted();
  return failed ? 1 : 0;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function throwIfInterrupted(): void {
  const cause = interruptCause();
  if (cause) throw new TwinError('TWIN_ABORTED', `interrupted: ${cause.reason}`);
}

/**
 * `--dry-run`: loads the scenario file only to learn which system it brings up, then prints every
 * command and object the environment would run for it, in order. Nothing is started.
 */
async function dryRunScenario(root: string, name: string, run: RunOptions): Promise<number> {
  const env = run.env;
  // scenario.ts's SCENARIO_CAPTURE (the same registered symbol; the CLI does not load the runtime itself).
  const SCENARIO_CAPTURE = Symbol.for('infra-twin.scenario-capture');
  const backend = environmentBackend(env) as {
    dryRun?: (o: { system: string; overlay?: string; gpu?: RunOptions['gpu'] }) => Promise<string>;
  };
  if (!backend.dryRun)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--dry-run: the ${env} environment has no dry run (use --env k3d)`,
    );
  const file = scenarioFile(root, name);
  let captured: ScenarioOptions | undefined;
  const g = globalThis as Record<symbol, unknown>;
  g[SCENARIO_CAPTURE] = (_name: string, options: ScenarioOptions) => {
    captured = options;
  };
  try {
    await import(pathToFileURL(file).href);
  } finally {
    delete g[SCENARIO_CAPTURE];
  }
  if (!captured)
    throw new TwinError('TWIN_SCENARIO_UNKNOWN', `${path.relative(root, file)}: declares no scenario()`);
  process.stdout.write(
    await backend.dryRun({
      system: captured.system,
      ...(captured.overlay ? { overlay: captured.overlay } : {}),
      gpu: run.gpu,
    }),
  );
  return 0;
}
