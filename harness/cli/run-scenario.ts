import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startVitest } from 'vitest/node';
import { TwinError } from '../../core/errors.ts';
import { assertFaultsSupported } from '../../env/fault-needs.ts';
import { environmentBackend } from '../../env/registry.ts';
import { defaultOverlayOf, loadProject } from '../../system/project.ts';
import { resolveSystem } from '../../system/system.ts';
import { newRunId, runOptionsFromEnv } from '../scenario/run-options.ts';
import type { ScenarioOptions } from '../scenario/scenario.ts';
import { isGenericScenario, scenarioFile } from './scenario-catalog.ts';

export interface ScenarioCommandOptions {
  env: string;
  timeScale?: string;
  keep?: boolean;
  reportDir: string;
  testNamePattern?: string;
  watch?: boolean;
  dryRun?: boolean;
  /** The system a generic scenario runs on (a name of twin.yaml, under infra/, or a directory). */
  system?: string;
  /** The overlay to deploy instead of the scenario's own (required with --env cluster). */
  overlay?: string;
  /** The cluster environment's kubeconfig file and context. */
  kubeconfig?: string;
  context?: string;
}

/**
 * Runs one scenario as a Vitest suite (filtering, watch and reporters come from Vitest); the options
 * reach the scenario's worker through TWIN_* variables. Returns the process exit code.
 */
export async function runScenario(
  root: string,
  name: string,
  options: ScenarioCommandOptions,
): Promise<number> {
  if (options.dryRun) return dryRunScenario(root, name, options.env);
  process.env['TWIN_ENV'] = options.env;
  process.env['TWIN_PROJECT_ROOT'] = root;
  if (options.overlay !== undefined) process.env['TWIN_OVERLAY'] = options.overlay;
  if (options.kubeconfig !== undefined) process.env['TWIN_KUBECONFIG'] = options.kubeconfig;
  if (options.context !== undefined) process.env['TWIN_KUBE_CONTEXT'] = options.context;
  if (options.timeScale !== undefined) process.env['TWIN_TIME_SCALE'] = options.timeScale;
  const backend = environmentBackend(options.env);
  await backend.preflight();
  const file = scenarioFile(root, name, options.system !== undefined ? { system: options.system } : {});
  const target = genericTarget(root, file, options);
  if (target) {
    process.env['TWIN_SYSTEM'] = target.system;
    if (target.overlay !== undefined) process.env['TWIN_OVERLAY'] = target.overlay;
  }
  // Checked before anything starts: the faults the scenario declares, and the overlay it will deploy.
  const declared = await captureScenario(root, file);
  assertFaultsSupported(backend, `scenario ${name}`, declared.faults ?? []);
  if (options.env === 'cluster') await assertOverlay(declared.system, options.overlay, root);
  const runId = newRunId(name);
  process.env['TWIN_KEEP'] = options.keep ? '1' : '0';
  process.env['TWIN_REPORT_DIR'] = path.resolve(options.reportDir);
  process.env['TWIN_RUN_ID'] = runId;
  runOptionsFromEnv();
  const filter = options.testNamePattern ? { testNamePattern: options.testNamePattern } : {};
  const ownProject = loadProject(root) === undefined && !isGenericScenario(file);
  const vitest = ownProject
    ? await startVitest('test', [path.relative(root, file)], {
        root,
        config: path.join(root, 'vitest.config.ts'),
        project: ['scenarios'],
        watch: options.watch ?? false,
        ...filter,
      })
    : // A generic scenario (inside this package, perhaps under node_modules) or one of a user's
      // repository: the scenarios project's settings, rooted at the scenario's own folder.
      await startVitest('test', [path.basename(file)], {
        root: path.dirname(file),
        config: false,
        include: [`*${SCENARIO_FILE_SUFFIX}`],
        exclude: [],
        pool: 'forks',
        testTimeout: 300_000,
        hookTimeout: 180_000,
        fileParallelism: false,
        watch: options.watch ?? false,
        // Transformed, not loaded by Node as a dependency: the package's TypeScript under node_modules.
        server: { deps: { inline: [/infra-twin/, /\.ts$/] } },
        ...filter,
      });
  if (!vitest) return 1;
  if (options.watch) return 0;
  await vitest.close();
  const failed =
    vitest.state.getCountOfFailedTests() > 0 ||
    vitest.state.getFiles().some((f) => f.result?.state === 'fail');
  const reportDir = path.join(path.resolve(options.reportDir), runId);
  process.stderr.write(
    `\nreports: ${path.relative(process.cwd(), reportDir)}/{result.json,junit.xml,report.html}\n`,
  );
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
  options: ScenarioCommandOptions,
): { system: string; overlay?: string } | undefined {
  if (!isGenericScenario(file)) return undefined;
  const project = loadProject(root);
  const system = options.system ?? (project?.systems.length === 1 ? project.systems[0]!.name : undefined);
  if (system === undefined)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `scenario ${path.basename(file, SCENARIO_FILE_SUFFIX)} is generic: name the system it runs on with --system <name|dir>${project ? ` (twin.yaml names ${project.systems.map((s) => s.name).join(', ') || 'none'})` : ''}`,
    );
  const configured = project?.systems.find((s) => s.name === system);
  const overlay = options.overlay ?? (configured ? defaultOverlayOf(configured) : undefined);
  return overlay === undefined ? { system } : { system, overlay };
}

/**
 * `--dry-run`: loads the scenario file only to learn which system it brings up, then prints every
 * command and object the environment would run for it, in order. Nothing is started.
 */
async function dryRunScenario(root: string, name: string, env: string): Promise<number> {
  const backend = environmentBackend(env) as {
    dryRun?: (o: { system: string; overlay?: string }) => Promise<string>;
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
async function assertOverlay(system: string, overlay: string | undefined, root: string): Promise<void> {
  const layout = await resolveSystem(system, root);
  const overlays = layout.overlays();
  if (!overlay)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--env cluster needs --overlay <name>: which overlay of ${system} to deploy on the cluster (overlays: ${overlays.join(', ')})`,
    );
  if (!layout.hasOverlay(overlay))
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--overlay: ${path.relative(process.cwd(), layout.overlayDir(overlay))} does not exist (overlays of ${system}: ${overlays.join(', ')})`,
    );
}
