import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createVitest, startVitest } from 'vitest/node';
import { TwinError } from '../../core/errors.ts';
import { interruptCause, interruption, onForcedExit } from '../../core/interrupt.ts';
import { childPids } from '../../core/process.ts';
import { assertFaultsSupported } from '../../env/fault-needs.ts';
import { environmentBackend } from '../../env/registry.ts';
import { defaultOverlayOf, loadProject } from '../../system/project.ts';
import { newRunId, RUN_OPTIONS_VAR, type RunOptions, serializeRunOptions } from '../scenario/run-options.ts';
import type { ScenarioOptions } from '../scenario/scenario.ts';
import { assertOverlay } from './option-values.ts';
import { isGenericScenario, scenarioFile } from './scenario-catalog.ts';

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
  const backend = environmentBackend(run.env);
  await backend.preflight({
    ...(run.kubeconfig !== undefined ? { kubeconfig: run.kubeconfig } : {}),
    ...(run.context !== undefined ? { context: run.context } : {}),
  });
  const file = scenarioFile(root, name, run.system !== undefined ? { system: run.system } : {});
  const target = genericTarget(root, file, run);
  const runId = run.runId ?? newRunId(name);
  // The worker resolves systems from the same repository (its working directory may be the package's).
  process.env['TWIN_PROJECT_ROOT'] = root;
  process.env[RUN_OPTIONS_VAR] = serializeRunOptions({
    ...run,
    runId,
    ...(target ? { system: target.system } : {}),
    ...(target?.overlay !== undefined ? { overlay: target.overlay } : {}),
  });
  // Checked before anything starts: the faults the scenario declares, and the overlay it will deploy.
  // (After the options are in place: a generic scenario reads its system from them when it loads.)
  const declared = await captureScenario(root, file);
  assertFaultsSupported(backend, `scenario ${name}`, declared.faults ?? []);
  if (run.env === 'cluster') await assertOverlay(target?.system ?? declared.system, run.overlay, root);
  const filter = flags.testNamePattern ? { testNamePattern: flags.testNamePattern } : {};
  const ownProject = loadProject(root) === undefined && !isGenericScenario(file);
  const options = ownProject
    ? {
        root,
        config: path.join(root, 'vitest.config.ts'),
        project: ['scenarios'],
        watch: flags.watch ?? false,
        ...filter,
      }
    : // A generic scenario (inside this package, perhaps under node_modules) or one of a user's
      // repository: the scenarios project's settings, rooted at the scenario's own folder.
      {
        root: path.dirname(file),
        config: false as const,
        include: [`*${SCENARIO_FILE_SUFFIX}`],
        exclude: [],
        pool: 'forks' as const,
        testTimeout: 300_000,
        hookTimeout: 180_000,
        fileParallelism: false,
        watch: flags.watch ?? false,
        // Transformed, not loaded by Node as a dependency: the package's TypeScript under node_modules.
        server: { deps: { inline: [/infra-twin/, /\.ts$/] } },
        ...filter,
      };
  const filters = [ownProject ? path.relative(root, file) : path.basename(file)];
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

const SCENARIO_FILE_SUFFIX = '.scenario.ts';

/**
 * The system and overlay a generic scenario runs on: --system (else the only system of twin.yaml) and
 * --overlay (else the system's default overlay of twin.yaml, else local).
 */
function genericTarget(
  root: string,
  file: string,
  run: RunOptions,
): { system: string; overlay?: string } | undefined {
  if (!isGenericScenario(file)) return undefined;
  const project = loadProject(root);
  const system = run.system ?? (project?.systems.length === 1 ? project.systems[0]!.name : undefined);
  if (system === undefined)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `scenario ${path.basename(file, SCENARIO_FILE_SUFFIX)} is generic: name the system it runs on with --system <name|dir>${project ? ` (twin.yaml names ${project.systems.map((s) => s.name).join(', ') || 'none'})` : ''}`,
    );
  const configured = project?.systems.find((s) => s.name === system);
  const overlay = run.overlay ?? (configured ? defaultOverlayOf(configured) : undefined);
  return overlay === undefined ? { system } : { system, overlay };
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
  const backend = environmentBackend(env) as {
    dryRun?: (o: { system: string; overlay?: string; gpu?: RunOptions['gpu'] }) => Promise<string>;
  };
  if (!backend.dryRun)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--dry-run: the ${env} environment has no dry run (use --env k3d)`,
    );
  const captured = await captureScenario(root, scenarioFile(root, name));
  process.stdout.write(
    await backend.dryRun({
      system: captured.system,
      ...(captured.overlay ? { overlay: captured.overlay } : {}),
      gpu: run.gpu,
    }),
  );
  return 0;
}

/** Loads a scenario file only to read what its scenario() declares (system, overlay, faults); runs nothing. */
export async function captureScenario(root: string, file: string): Promise<ScenarioOptions> {
  // scenario.ts's SCENARIO_CAPTURE (the same registered symbol; the CLI does not load the runtime itself).
  const SCENARIO_CAPTURE = Symbol.for('infra-twin.scenario-capture');
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
  return captured;
}

/** --env cluster deploys the overlay it is told to on someone's cluster: never a default, and one that exists. */
