#!/usr/bin/env node
import path from 'node:path';
import { Command, Option } from 'commander';
import { isTwinError } from '../../core/errors.ts';
import { handleInterrupts, interruptCause, signalExitCode } from '../../core/interrupt.ts';
import { ENVIRONMENT_NAMES } from '../../env/environment-names.ts';
import { DEFAULT_TIME_SCALE } from '../../kube/clock.ts';
import { PROFILE_NAMES } from '../../system/profiles/profile-names.ts';
import { projectRoot } from '../../system/project.ts';
import { REPO_ROOT as REPO_ROOT_FALLBACK } from '../../system/repo-root.ts';
import { progress } from '../scenario/progress.ts';
import { defaultRunOptions, GPU_MODES, type GpuMode, type RunOptions } from '../scenario/run-options.ts';
import { checkWritableDirectory, parseTimeScale } from './option-values.ts';
import { DEFAULT_SCENARIO, scenarioNames } from './scenario-catalog.ts';

// Commands load their implementation when they run, so `twin --help` does not import the twin,
// both environments, the AWS SDK and testcontainers.
// The repository the user works in (the nearest twin.yaml above the working directory), or this
// package's own with its seed systems.
const root = projectRoot();

const envOption = () =>
  new Option('--env <name>', 'environment to run on').choices(ENVIRONMENT_NAMES).default('local');
const timeScaleOption = () =>
  new Option(
    '--time-scale <n>',
    "control-plane time scale on the twin: manifest durations run N× faster (default: the scenario's own, else 100); with --env cluster, the scale the cluster runs at (default 1; a `twin up`'s scale when the cluster is a twin)",
  ).argParser(parseTimeScale);
const kubeconfigOption = () =>
  new Option(
    '--kubeconfig <file>',
    'kubeconfig of the existing cluster (--env cluster; default $KUBECONFIG, then ~/.kube/config)',
  );
const contextOption = () =>
  new Option(
    '--context <name>',
    'kubeconfig context of the existing cluster (--env cluster; default its current-context)',
  );

const gpuOption = () =>
  new Option(
    '--gpu <mode>',
    'GPU nodes on the twin: emulated nvidia.com/gpu, or the host GPUs nvidia-smi -L lists',
  )
    .choices(GPU_MODES)
    .default('emulated');

/** The kind of cluster the twin is (RunOptions.profile). */
const profileOption = () =>
  new Option(
    '--profile <name>',
    "the cluster the twin is: eks (the seeds' production, default) or k3s (what k3d provides: docs/k3d.md)",
  ).choices(PROFILE_NAMES);

const workDirOption = () =>
  new Option('--work-dir <dir>', 'state of the environment started by `twin up` (pod logs, data)').default(
    path.join(root, '.twin', 'up'),
  );

/** The one parse of the options every command shares; each command adds its own. */
function runOptions(opts: {
  env?: string;
  timeScale?: number;
  gpu?: GpuMode;
  reportDir?: string;
  keep?: boolean;
  system?: string;
  overlay?: string;
  workDir?: string;
  kubeconfig?: string;
  context?: string;
  profile?: string;
}): RunOptions {
  const d = defaultRunOptions();
  const env = opts.env ?? d.env;
  return {
    env,
    // Not given: the twin's default (a scenario may set its own); a real cluster runs in real time.
    timeScale: opts.timeScale ?? (env === 'local' ? d.timeScale : 1),
    timeScaleGiven: opts.timeScale !== undefined,
    ...(opts.kubeconfig !== undefined ? { kubeconfig: opts.kubeconfig } : {}),
    ...(opts.context !== undefined ? { context: opts.context } : {}),
    ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
    gpu: opts.gpu ?? d.gpu,
    reportDir: opts.reportDir ? checkWritableDirectory('--report-dir', opts.reportDir) : d.reportDir,
    keep: opts.keep === true,
    ...(opts.system !== undefined ? { system: opts.system } : {}),
    ...(opts.overlay !== undefined ? { overlay: opts.overlay } : {}),
    ...(opts.workDir !== undefined ? { workDir: checkWritableDirectory('--work-dir', opts.workDir) } : {}),
  };
}

const program = new Command('twin')
  .description('Bring production infrastructure definitions up locally and run scenarios against them')
  .showHelpAfterError()
  .exitOverride();

program
  .command('scenario')
  .description(`run a scenario (default: ${DEFAULT_SCENARIO}); scenarios: ${scenarioNames(root).join(', ')}`)
  .argument('[name]', 'scenario name (scenarios/<name>.scenario.ts)', DEFAULT_SCENARIO)
  .option(
    '--system <name|dir>',
    'the system a generic scenario (az-outage, canary, postgres-failover) runs on: a system of twin.yaml, under infra/, or a directory',
  )
  .addOption(envOption())
  .option(
    '--overlay <name>',
    "kustomize overlay to deploy instead of the scenario's own (a generic scenario: the system's default overlay; required with --env cluster)",
  )
  .addOption(kubeconfigOption())
  .addOption(contextOption())
  .addOption(timeScaleOption())
  .addOption(gpuOption())
  .addOption(profileOption())
  .option('--keep', 'leave the environment running after the scenario (Ctrl-C to stop)')
  .option('--report-dir <dir>', 'where reports/<run-id>/ go', 'reports')
  .option('-t, --test-name-pattern <pattern>', 'run only the scenario parts whose names match')
  .option('--watch', 'rerun on changes (Vitest watch mode)')
  .option('--dry-run', 'print every command and object the environment would run, in order, and exit (k3d)')
  .action(async (name: string, opts) => {
    const { runScenario } = await import('./run-scenario.ts');
    process.exitCode = await runScenario(root, name, runOptions(opts), {
      ...(opts.testNamePattern ? { testNamePattern: opts.testNamePattern } : {}),
      watch: opts.watch === true,
      dryRun: opts.dryRun === true,
    });
  });

program
  .command('init')
  .description(
    "write a system's twin files from its kustomize base or overlay: topology.yaml, twin-bindings.yaml, addons.yaml, and its entry in twin.yaml (docs/own-system.md)",
  )
  .argument(
    '<kustomize-dir>',
    'a kustomize base or overlay of the system (its production overlay, unchanged)',
  )
  .option('--name <name>', 'the system’s name (default: from the path)')
  .option('--out <dir>', 'where the twin files go (default: twin/<name>)')
  .option('--overlay <name>', 'the overlay’s name in twin.yaml (default: the directory’s name)')
  .option('--force', 'overwrite the twin files if they exist')
  .action(async (dir: string, opts) => {
    const { initCommand } = await import('./init-command.ts');
    // twin.yaml goes into the repository: the nearest one above, else the working directory.
    process.exitCode = await initCommand(root === REPO_ROOT_FALLBACK ? process.cwd() : root, dir, opts);
  });

const chaos = program
  .command('chaos')
  .description(
    'run the chaos suite (chaos/nightly.ts: experiments under chaos/experiments/ and scenarios), or a seeded randomized run (docs/chaos.md)',
  )
  .addOption(envOption())
  .addOption(
    new Option(
      '--time-scale <n>',
      `control-plane time scale on the twin (default ${DEFAULT_TIME_SCALE}, or what chaos/nightly.ts sets for a scenario)`,
    ).argParser(parseTimeScale),
  )
  .addOption(gpuOption())
  .addOption(kubeconfigOption())
  .addOption(contextOption())
  .option(
    '--overlay <name>',
    'the overlay each entry deploys instead of its own (required with --env cluster)',
  )
  .option('--report-dir <dir>', 'where reports go', 'reports')
  .option('--only <names>', 'comma-separated suite entries to run (default: all)')
  .option('--summary <file>', 'append the key figures as Markdown ($GITHUB_STEP_SUMMARY)')
  .option('--history <dir>', 'append this run to a history directory (a chaos-history checkout)')
  .option('--random', 'randomized chaos: faults picked under a seed within the system’s declared limits')
  .option('--seed <n>', 'seed of the randomized run (the same seed gives the same plan and journal)')
  .option('--budget <duration>', 'time budget of the randomized run (Go duration)', '10m')
  .option('--system <name>', 'system of the randomized run', 'ai-platform')
  .option('--dry-run', 'print the plan a seed gives and exit (--random)')
  .action(async (opts) => {
    const { runChaos } = await import('./chaos.ts');
    process.exitCode = await runChaos(root, runOptions(opts), {
      ...opts,
      timeScaleGiven: opts.timeScale !== undefined,
    });
  });
chaos
  .command('report')
  .description('render trends from a chaos history: pass rate, recovery times, error budgets, flaky entries')
  .option('--history <dir>', 'the history directory (runs/*.json)', 'chaos-history')
  .option('--out <dir>', 'where trends.html, trends.json and summary.md go', 'reports/chaos-trends')
  .option('--summary <file>', 'append the trends as Markdown ($GITHUB_STEP_SUMMARY)')
  .action(async (opts) => {
    const { trendsCommand } = await import('../chaos/trends.ts');
    process.exitCode = await trendsCommand(opts);
  });
chaos
  .command('history')
  .description('append the chaos runs (chaos-run-*.json) found under a directory to a history directory')
  .requiredOption('--from <dir>', 'where the runs’ reports are')
  .option('--history <dir>', 'the history directory', 'chaos-history')
  .option('--run-label <label>', 'added to each appended file’s name (the CI run id)')
  .action(async (opts) => {
    const { historyCommand } = await import('../chaos/trends.ts');
    process.exitCode = await historyCommand(opts);
  });

program
  .command('gate')
  .description(
    'pre-release performance gate: run the load profiles, judge thresholds and the baseline (docs/load-and-gate.md)',
  )
  .option('--system <name|dir>', 'system under infra/', 'ai-platform')
  .addOption(envOption())
  .option('--overlay <name>', 'kustomize overlay (default local; --env cluster needs one named)')
  .option('--profiles <list>', 'comma-separated load profiles (load/profiles/); default smoke,steady,spike')
  .option('--baseline <file>', 'baseline file (default load/baselines/<system>.<env>.json)')
  .option('--update-baseline', 'record a new baseline from the runs instead of comparing')
  .option(
    '--runs <n>',
    'repetitions of each profile (default 1; 3 with --update-baseline, for the noise allowance)',
  )
  .addOption(
    new Option('--runner <name>', 'load generator: k6 on real clusters where found, else the embedded engine')
      .choices(['auto', 'embedded', 'k6'])
      .default('auto'),
  )
  .option('--report-dir <dir>', 'where reports/gate-<system>-<time>/ goes', 'reports')
  .addOption(timeScaleOption())
  .addOption(gpuOption())
  .addOption(kubeconfigOption())
  .addOption(contextOption())
  .action(async (opts) => {
    const { gateCommand } = await import('../gate/cli.ts');
    process.exitCode = await gateCommand(root, runOptions(opts), {
      ...(opts.profiles !== undefined ? { profiles: opts.profiles } : {}),
      ...(opts.baseline !== undefined ? { baseline: opts.baseline } : {}),
      updateBaseline: opts.updateBaseline === true,
      ...(opts.runs !== undefined ? { runs: opts.runs } : {}),
      runner: opts.runner,
    });
  });

program
  .command('k6-scripts')
  .description('write the k6 TypeScript script of each load profile (k6 run -e BASE_URL=<target URL> <file>)')
  .option('--profiles <list>', 'comma-separated load profiles (default: all in load/profiles/)')
  .option('--out <dir>', 'where the scripts go', 'reports/k6-scripts')
  .action(async (opts) => {
    const { k6ScriptsCommand } = await import('../gate/cli.ts');
    process.exitCode = await k6ScriptsCommand(opts);
  });

program
  .command('up')
  .description('bring a system up on an environment and keep it running until Ctrl-C or `twin down`')
  .option('--system <name|dir>', 'system under infra/, or a directory laid out like one', 'ai-platform')
  .option(
    '--overlay <name>',
    "kustomize overlay (default on the twin: the profile's, local on eks, k3d on k3s where the system has one; k3d on k3d; required with --env cluster)",
  )
  .addOption(envOption())
  .addOption(kubeconfigOption())
  .addOption(contextOption())
  .addOption(timeScaleOption())
  .addOption(gpuOption())
  .addOption(profileOption())
  .addOption(workDirOption())
  .action(async (opts) => {
    const { environmentUp } = await import('./environment-commands.ts');
    process.exitCode = await environmentUp(runOptions(opts));
  });

program
  .command('check')
  .description(
    'every static finding of a system for a kind of cluster, without starting anything; exit 1 on errors (docs/twin-check.md)',
  )
  .option(
    '--system <name|dir>',
    'system under infra/, or a directory laid out like one (default ai-platform; with --all, every system)',
  )
  .option(
    '--overlay <name>',
    "kustomize overlay (default: the profile's: local on eks; k3d on k3s where the system has one)",
  )
  .addOption(new Option('--profile <name>', 'the kind of cluster (default eks)').choices(PROFILE_NAMES))
  .option('--all', 'every system (or the one --system names), each profile with the overlays written for it')
  .addOption(new Option('--format <format>', 'output').choices(['text', 'json']).default('text'))
  .action(async (opts) => {
    const { checkCommand } = await import('./check-command.ts');
    process.exitCode = await checkCommand(root, opts);
  });

program
  .command('status')
  .description('show the environment started by `twin up`: workloads, ingress URLs, logs')
  .addOption(workDirOption())
  .action(async (opts) => {
    const { environmentStatus } = await import('./environment-commands.ts');
    process.exitCode = await environmentStatus(checkWritableDirectory('--work-dir', opts.workDir));
  });

program
  .command('kubeconfig')
  .description(
    'print the path of the kubeconfig of the environment started by `twin up` (export KUBECONFIG=$(twin kubeconfig))',
  )
  .addOption(workDirOption())
  .action(async (opts) => {
    const { environmentKubeconfig } = await import('./environment-commands.ts');
    process.exitCode = await environmentKubeconfig(checkWritableDirectory('--work-dir', opts.workDir));
  });

program
  .command('down')
  .description('stop the environment started by `twin up` and remove what it created')
  .addOption(workDirOption())
  .action(async (opts) => {
    const { environmentDown } = await import('./environment-commands.ts');
    process.exitCode = await environmentDown(checkWritableDirectory('--work-dir', opts.workDir));
  });

// Ctrl-C, SIGTERM and SIGHUP (also relayed by npm) and the loss of the parent (a SIGKILLed npm) end
// every wait at once and tear down what the command started; a second signal forces the exit.
handleInterrupts({ log: progress, watchParent: true });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const interrupted = interruptCause();
  if (interrupted && isTwinError(err, 'TWIN_ABORTED')) {
    process.stderr.write(`twin: interrupted (${interrupted.reason})\n`);
    process.exitCode = signalExitCode(interrupted.signal);
  } else if (isTwinError(err)) {
    process.stderr.write(`twin: ${err.message}\n`);
    process.exitCode = err.isInputError ? 2 : 1;
  } else if (
    err &&
    typeof err === 'object' &&
    'code' in err &&
    String((err as any).code).startsWith('commander.')
  ) {
    const code = (err as any).code as string;
    process.exitCode =
      code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help' ? 0 : 2;
  } else {
    process.stderr.write(`twin: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  }
}
const interrupted = interruptCause();
if (interrupted && process.exitCode === undefined) process.exitCode = signalExitCode(interrupted.signal);
