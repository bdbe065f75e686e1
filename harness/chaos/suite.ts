import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { nightly, type SuiteEntry } from '../../chaos/nightly.ts';
import { TwinError } from '../../core/errors.ts';
import { interruptCause } from '../../core/interrupt.ts';
import type { RunRecord } from '../report/run-record.ts';
import { newRunId } from '../scenario/run-options.ts';
import type { ClusterTarget } from './chaos-session.ts';
import { loadExperiment } from './experiment.ts';
import { runExperiment } from './run-experiment.ts';

/** One night's results of one suite invocation: what the history keeps (chaos-run-<stamp>.json). */
export interface ChaosRun {
  kind: 'infra-twin/chaos-run';
  version: 1;
  startedAt: string;
  finishedAt: string;
  environment: string;
  /** The git commit that ran, when known (GITHUB_SHA). */
  commit?: string;
  entries: ChaosRunEntry[];
}

export interface ChaosRunEntry {
  name: string;
  type: 'experiment' | 'scenario' | 'random';
  passed: boolean;
  /** Chaos Toolkit's status of an experiment; passed/failed for a scenario. */
  status: string;
  runId: string;
  durationSeconds: number;
  /** Real seconds the steady state took to hold again (experiments), or the scenario's "time to recover". */
  recoverySeconds?: number | null;
  /** Share of the error budget consumed, in % (scenarios that measure it). */
  errorBudgetPercent?: number | null;
  /** The measurements that failed, "name = value unit (assertion)". */
  failed: string[];
}

export interface SuiteOptions {
  env: string;
  /** The control-plane time scale given on the command line (else each entry's own, or the default). */
  timeScale?: number;
  reportDir: string;
  /** Entries to run, by name (default: the whole suite). */
  only?: string[];
  /** A Markdown file the key figures are appended to ($GITHUB_STEP_SUMMARY). */
  summary?: string;
  /** A history directory (a checkout of the chaos-history branch) the run is appended to. */
  history?: string;
  progress: (message: string) => void;
  /** --env cluster: the existing cluster's kubeconfig and context (experiments; scenarios get them from runScenario). */
  cluster?: ClusterTarget;
  /** Runs a scenario under the run id given (its report is <reportDir>/<runId>/). */
  runScenario: (name: string, options: { runId: string; timeScale?: number }) => Promise<number>;
}

export const CHAOS_RUN_PREFIX = 'chaos-run-';

/** Runs the suite (chaos/nightly.ts) one entry after another; the exit code is the worst of them. */
export async function runSuite(root: string, o: SuiteOptions): Promise<number> {
  const entries = selectEntries(o.only);
  const reportRoot = path.resolve(o.reportDir);
  const startedAt = new Date();
  const results: ChaosRunEntry[] = [];
  let worst = 0;
  for (const entry of entries) {
    // An interruption (Ctrl-C, SIGTERM) ends the suite after the entry it interrupted.
    if (interruptCause()) break;
    const name = entryName(entry);
    o.progress(`chaos: ${name}`);
    const t0 = performance.now();
    if ('experiment' in entry) {
      const runId = newRunId(name);
      try {
        const e = await loadExperiment(path.join(root, 'chaos', 'experiments', `${name}.yaml`), root);
        const out = await runExperiment(e, {
          env: o.env,
          ...(o.timeScale !== undefined ? { timeScale: o.timeScale } : {}),
          reportDir: path.join(reportRoot, runId),
          runId,
          progress: o.progress,
          ...(o.cluster ? { cluster: o.cluster } : {}),
        });
        worst = Math.max(worst, out.passed ? 0 : 1);
        results.push(
          await entryOf(name, 'experiment', out.status, runId, reportRoot, t0, out.recoverySeconds),
        );
      } catch (err) {
        if (err instanceof TwinError && err.isInputError) throw err;
        worst = 1;
        results.push({
          name,
          type: 'experiment',
          passed: false,
          status: 'failed',
          runId,
          durationSeconds: secondsSince(t0),
          failed: [(err as Error).message],
        });
      }
    } else {
      const timeScale = o.timeScale ?? entry.timeScale;
      const runId = newRunId(name);
      const code = await o.runScenario(name, { runId, ...(timeScale !== undefined ? { timeScale } : {}) });
      worst = Math.max(worst, code);
      results.push(await entryOf(name, 'scenario', code === 0 ? 'passed' : 'failed', runId, reportRoot, t0));
    }
  }
  await finish(o, { startedAt, entries: results });
  return worst;
}

/** Writes chaos-run-<stamp>.json, appends the job summary, and copies the run into the history. */
export async function finish(
  o: Pick<SuiteOptions, 'env' | 'reportDir' | 'summary' | 'history' | 'progress'>,
  r: { startedAt: Date; entries: ChaosRunEntry[] },
  heading = 'Chaos suite',
): Promise<ChaosRun> {
  const run: ChaosRun = {
    kind: 'infra-twin/chaos-run',
    version: 1,
    startedAt: r.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    environment: o.env,
    ...(process.env['GITHUB_SHA'] ? { commit: process.env['GITHUB_SHA'] } : {}),
    entries: r.entries,
  };
  const reportRoot = path.resolve(o.reportDir);
  await mkdir(reportRoot, { recursive: true });
  const file = path.join(reportRoot, `${CHAOS_RUN_PREFIX}${stamp(r.startedAt)}.json`);
  await writeFile(file, `${JSON.stringify(run, null, 2)}\n`);
  if (o.summary) await appendFile(o.summary, summaryMarkdown(run, heading));
  if (o.history) await appendToHistory(o.history, [file]);
  o.progress(`chaos run: ${path.relative(process.cwd(), file)}`);
  return run;
}

/** Copies chaos-run files into <history>/runs/ under a name that says when and where they ran. */
export async function appendToHistory(history: string, files: string[], label?: string): Promise<string[]> {
  const dir = path.join(history, 'runs');
  await mkdir(dir, { recursive: true });
  const out: string[] = [];
  for (const f of files) {
    const run = JSON.parse(await readFile(f, 'utf8')) as ChaosRun;
    if (run.kind !== 'infra-twin/chaos-run')
      throw new TwinError('TWIN_OPTION_INVALID', `${f}: not a chaos run (kind ${JSON.stringify(run.kind)})`);
    const name = `${stamp(new Date(run.startedAt))}-${run.environment}${label ? `-${label.replace(/[^\w.-]/g, '_')}` : ''}.json`;
    const target = path.join(dir, name);
    if (!existsSync(target)) await copyFile(f, target);
    out.push(target);
  }
  return out;
}

export function summaryMarkdown(run: ChaosRun, heading: string): string {
  const passed = run.entries.filter((e) => e.passed).length;
  const rows = run.entries.map((e) => {
    const rec =
      e.recoverySeconds === undefined || e.recoverySeconds === null ? '—' : `${e.recoverySeconds} s`;
    const budget =
      e.errorBudgetPercent === undefined || e.errorBudgetPercent === null
        ? '—'
        : `${e.errorBudgetPercent.toFixed(1)} %`;
    const why = e.failed.length > 0 ? e.failed.slice(0, 2).join('; ').replace(/\|/g, '\\|') : '';
    return `| ${e.passed ? '✅' : '❌'} | ${e.name} | ${e.type} | ${e.status} | ${e.durationSeconds} s | ${rec} | ${budget} | ${why} |`;
  });
  return [
    `### ${heading} on ${run.environment}: ${passed}/${run.entries.length} passed`,
    '',
    '| | name | type | status | duration | time to recover | error budget used | failed |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '',
  ].join('\n');
}

function selectEntries(only: string[] | undefined): SuiteEntry[] {
  if (!only || only.length === 0) return nightly;
  const known = nightly.map(entryName);
  for (const n of only)
    if (!known.includes(n))
      throw new TwinError(
        'TWIN_OPTION_INVALID',
        `--only ${n}: not in the suite (chaos/nightly.ts: ${known.join(', ')})`,
      );
  return nightly.filter((e) => only.includes(entryName(e)));
}

export function entryName(e: SuiteEntry): string {
  return 'experiment' in e ? e.experiment : e.scenario;
}

async function entryOf(
  name: string,
  type: ChaosRunEntry['type'],
  status: string,
  runId: string,
  reportRoot: string,
  t0: number,
  recoverySeconds?: number | null,
): Promise<ChaosRunEntry> {
  const record = await readRecord(path.join(reportRoot, runId, 'result.json'));
  const failed = (record?.measurements ?? [])
    .filter((m) => m.passed === false)
    .map((m) => `${m.name} = ${m.value} ${m.unit}${m.assertion ? ` (${m.assertion})` : ''}`);
  for (const s of record?.steps ?? [])
    if (s.status === 'failed') failed.push(`${s.name}: ${s.error ?? 'failed'}`);
  const find = (re: RegExp) => record?.measurements.find((m) => re.test(m.name));
  const recovery = recoverySeconds ?? find(/^time to recover/i)?.value ?? null;
  const budget = find(/error budget/i)?.value ?? null;
  return {
    name,
    type,
    passed: record ? record.status === 'passed' : status === 'passed',
    status,
    runId,
    durationSeconds: secondsSince(t0),
    recoverySeconds: recovery !== null && Number.isFinite(recovery) ? recovery : null,
    errorBudgetPercent: budget !== null && Number.isFinite(budget) ? budget : null,
    failed,
  };
}

async function readRecord(file: string): Promise<RunRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

function secondsSince(t0: number): number {
  return Math.round((performance.now() - t0) / 100) / 10;
}

export function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
}
