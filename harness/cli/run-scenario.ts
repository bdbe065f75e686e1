import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startVitest } from 'vitest/node';
import { TwinError } from '../../core/errors.ts';
import { environmentBackend } from '../../env/registry.ts';
import { newRunId, runOptionsFromEnv } from '../scenario/run-options.ts';
import type { ScenarioOptions } from '../scenario/scenario.ts';
import { scenarioFile } from './scenario-catalog.ts';

export interface ScenarioCommandOptions {
  env: string;
  timeScale?: string;
  keep?: boolean;
  reportDir: string;
  testNamePattern?: string;
  watch?: boolean;
  dryRun?: boolean;
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
  await environmentBackend(options.env).preflight();
  const file = scenarioFile(root, name);
  const runId = newRunId(name);
  process.env['TWIN_ENV'] = options.env;
  if (options.timeScale !== undefined) process.env['TWIN_TIME_SCALE'] = options.timeScale;
  process.env['TWIN_KEEP'] = options.keep ? '1' : '0';
  process.env['TWIN_REPORT_DIR'] = path.resolve(options.reportDir);
  process.env['TWIN_RUN_ID'] = runId;
  runOptionsFromEnv();
  const vitest = await startVitest('test', [path.relative(root, file)], {
    root,
    config: path.join(root, 'vitest.config.ts'),
    project: ['scenarios'],
    watch: options.watch ?? false,
    ...(options.testNamePattern ? { testNamePattern: options.testNamePattern } : {}),
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

/**
 * `--dry-run`: loads the scenario file only to learn which system it brings up, then prints every
 * command and object the environment would run for it, in order. Nothing is started.
 */
async function dryRunScenario(root: string, name: string, env: string): Promise<number> {
  // scenario.ts's SCENARIO_CAPTURE (the same registered symbol; the CLI does not load the runtime itself).
  const SCENARIO_CAPTURE = Symbol.for('infra-twin.scenario-capture');
  const backend = environmentBackend(env) as {
    dryRun?: (o: { system: string; overlay?: string }) => Promise<string>;
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
    }),
  );
  return 0;
}
