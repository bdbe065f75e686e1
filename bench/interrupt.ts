/**
 * `npm run bench -- interrupt [--runs 50] [--seed 1] [--system ai-platform] [--time-scale N]`: seeded interruptions of
 * the commands users run, as a terminal, `timeout`, a supervisor or a CI runner send them: SIGINT,
 * SIGTERM, SIGHUP or SIGKILL, to npm, to the CLI, or to the whole process group, at render, boot,
 * readiness, once up, and in the middle of a scenario. After each one it checks that no process of
 * the run is left (pods, servers, the scenario's worker), that none of them holds a listener on the
 * twin's addresses, that no directory is left (the `up` environment and state file, relocated pod
 * directories, kustomize wrappers), and that the next `up` on the same work directory comes up.
 * A SIGKILLed CLI cannot clean up after itself: there `twin down` (what a user runs next) must.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { childPids, processesWithEnvironment, processRuns } from '../core/process.ts';
import { seededRandom } from '../core/seeded-random.ts';
import { waitUntil } from '../core/wait.ts';
import { REPO_ROOT } from '../system/repo-root.ts';
import { relocatedDir } from '../twin/kubelet/pods-dir.ts';

export type Phase = 'render' | 'boot' | 'readiness' | 'up' | 'scenario';
export type Target = 'npm' | 'cli' | 'group';
export const PHASES: Phase[] = ['render', 'boot', 'readiness', 'up', 'scenario'];
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGKILL'];
const TARGETS: Target[] = ['npm', 'cli', 'group'];

/** What each phase waits for in the progress lines before the signal goes (plus a seeded delay). */
const TRIGGERS: Record<Phase, { pattern: RegExp; maxDelayMs: number }> = {
  render: { pattern: /rendering infra\//, maxDelayMs: 200 },
  boot: { pattern: /nodes from the topology; applying|AWS edge on/, maxDelayMs: 300 },
  readiness: { pattern: /waiting for every workload/, maxDelayMs: 200 },
  up: { pattern: /is up on local/, maxDelayMs: 500 },
  scenario: { pattern: /▶ roll out api 2\.0\.0|environment up in/, maxDelayMs: 4000 },
};

export interface Trial {
  index: number;
  phase: Phase;
  signal: NodeJS.Signals;
  target: Target;
  delayMs: number;
}

export interface TrialResult extends Trial {
  /** The phase's progress line was seen and the signal sent (false: the command ended first). */
  sent: boolean;
  /** Real ms from the signal until the CLI process had exited. */
  cliExitMs?: number;
  /** Real ms from the signal until no process of the run was left (before any `twin down`). */
  settledMs?: number;
  /** Whether `twin down` had to clean up (after a SIGKILLed CLI), and what it said. */
  downAfter?: string;
  leftProcesses: string[];
  leftListeners: string[];
  /** Left when the run had ended (only after SIGKILL may something wait for the next twin). */
  leftBeforeNextUp: string[];
  /** Still left after the next up and down: always a problem. */
  leftDirectories: string[];
  /** The next `up` on the same work directory came up (and went down with `twin down`). */
  nextUpOk: boolean;
  problems: string[];
}

/** The trials of a seed: every phase in turn (so each is covered), signal, target and delay drawn. */
export function planTrials(runs: number, seed: number): Trial[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  return Array.from({ length: runs }, (_, index) => {
    const phase = PHASES[index % PHASES.length]!;
    return {
      index,
      phase,
      signal: pick(SIGNALS),
      target: pick(TARGETS),
      delayMs: Math.round(rnd() * TRIGGERS[phase].maxDelayMs),
    };
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Listening TCP sockets on the twin's addresses (127.10/16 pods, 127.96/16 Services, the edge's 127.0.0.1:4566): inode → address. */
function twinListeners(): Map<string, string> {
  const out = new Map<string, string>();
  let text = '';
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '0A') continue; // 0A: LISTEN
    const [hexIp, hexPort] = f[1]!.split(':');
    const b = Buffer.from(hexIp!, 'hex').reverse();
    const ip = `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
    const port = Number.parseInt(hexPort!, 16);
    if ((b[0] === 127 && (b[1] === 10 || b[1] === 96)) || (ip === '127.0.0.1' && port === 4566))
      out.set(f[9]!, `${ip}:${port}`);
  }
  return out;
}

function kustomizeWrappers(): string[] {
  return readdirSync(os.tmpdir())
    .filter((n) => /^twin-kustomize-\d+-/.test(n))
    .map((n) => path.join(os.tmpdir(), n));
}

/** The pid holding a socket inode, when any. */
function socketOwner(inode: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${entry}/fd/${fd}`) === `socket:[${inode}]`) return Number(entry);
      } catch {}
    }
  }
  return undefined;
}

function describePid(pid: number): string {
  try {
    return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 120)}`;
  } catch {
    return String(pid);
  }
}

interface Launched {
  npm: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function launch(args: string[], marker: string): Launched {
  const npm = spawn('npm', ['run', '--silent', ...args], {
    cwd: REPO_ROOT,
    detached: true, // its own process group, as a CI runner's job or a terminal's foreground job
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TWIN_QUIET: '0', TWIN_TRIAL: marker },
  });
  let out = '';
  npm.stdout!.on('data', (d) => {
    out += d;
  });
  npm.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => npm.once('exit', (code) => r(code)));
  return { npm, output: () => out, exited };
}

/** Whether `pattern` appears in the command's output before it exits or `timeoutMs` passes. */
function waitFor(pattern: RegExp, l: Launched, timeoutMs: number): Promise<boolean> {
  return waitUntil(
    () => (pattern.test(l.output()) ? 'seen' : l.npm.exitCode !== null ? 'exited' : undefined),
    {
      what: `${pattern} in the output`,
      timeout: timeoutMs,
      interval: 20,
    },
  ).then(
    (r) => r === 'seen',
    () => false,
  );
}

/** Real ms from t0 until `done` holds, or undefined when `timeoutMs` passed first. */
function timeUntil(
  done: () => boolean,
  what: string,
  timeoutMs: number,
  t0: number,
): Promise<number | undefined> {
  return waitUntil(done, { what, timeout: timeoutMs, interval: 20 }).then(
    () => Math.round(performance.now() - t0),
    () => undefined,
  );
}

/** The CLI (`node … harness/cli/main.ts`): npm's child, as the npm scripts exec node. */
function cliPid(npmPid: number): number | undefined {
  return childPids(npmPid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('harness/cli/main.ts');
    } catch {
      return false;
    }
  });
}

function twinCommand(args: string[], marker: string): Promise<{ code: number | null; output: string }> {
  const l = launch(['twin', '--', ...args], marker);
  return l.exited.then((code) => ({ code, output: l.output() }));
}

/** Runs one trial in `scratch`; the work directory is shared by every trial (the next up reuses it). */
export async function runTrial(
  trial: Trial,
  options: {
    system: string;
    workDir: string;
    scratch: string;
    log: (m: string) => void;
    /** The commands' --time-scale (default: the CLI's). */
    timeScale?: number;
  },
): Promise<TrialResult> {
  const scale = options.timeScale !== undefined ? ['--time-scale', String(options.timeScale)] : [];
  const marker = `interrupt-${process.pid}-${trial.index}`;
  const reportDir = path.join(options.scratch, `reports-${trial.index}`);
  const result: TrialResult = {
    ...trial,
    sent: false,
    leftProcesses: [],
    leftListeners: [],
    leftBeforeNextUp: [],
    leftDirectories: [],
    nextUpOk: false,
    problems: [],
  };
  const listenersBefore = new Set(twinListeners().keys());
  const wrappersBefore = new Set(kustomizeWrappers());
  const args =
    trial.phase === 'scenario'
      ? ['scenario', '--', 'canary-rollout', '--report-dir', reportDir, ...scale]
      : ['twin', '--', 'up', '--system', options.system, '--work-dir', options.workDir, ...scale];
  const run = launch(args, marker);
  const trialProcesses = () => [
    ...new Set([
      ...processesWithEnvironment(`TWIN_TRIAL=${marker}\0`),
      ...processesWithEnvironment(trial.phase === 'scenario' ? reportDir : `${options.workDir}/`),
    ]),
  ];
  const seen = await waitFor(TRIGGERS[trial.phase].pattern, run, 180_000);
  const cli = cliPid(run.npm.pid!);
  if (seen && cli !== undefined) {
    await sleep(trial.delayMs);
    const t0 = performance.now();
    try {
      if (trial.target === 'npm') process.kill(run.npm.pid!, trial.signal);
      else if (trial.target === 'cli') process.kill(cli, trial.signal);
      else process.kill(-run.npm.pid!, trial.signal);
      result.sent = true;
    } catch (err) {
      result.problems.push(`signal: ${(err as Error).message}`);
    }
    // The CLI tears down within 10 s of SIGINT, SIGTERM or SIGHUP (and of its npm's death).
    const exitMs = await timeUntil(() => !processRuns(cli), 'the CLI to exit', 20_000, t0);
    if (exitMs === undefined) result.problems.push('the CLI was still running 20 s after the signal');
    else {
      result.cliExitMs = exitMs;
      if ((trial.signal !== 'SIGKILL' || trial.target === 'npm') && exitMs > 10_000)
        result.problems.push(`the CLI took ${exitMs} ms to tear down (> 10 s)`);
    }
    const settled = await timeUntil(
      () => trialProcesses().length === 0,
      'every process of the run to exit',
      Math.max(0, 20_000 - (performance.now() - t0)),
      t0,
    );
    if (settled !== undefined) result.settledMs = settled;
  } else {
    result.problems.push(
      seen
        ? 'the CLI process was not found'
        : `"${TRIGGERS[trial.phase].pattern}" never appeared (exit ${run.npm.exitCode})`,
    );
  }
  // Make sure nothing of this trial keeps running into the next one.
  try {
    process.kill(-run.npm.pid!, 'SIGKILL');
  } catch {}
  await Promise.race([run.exited, sleep(5000)]);
  result.leftProcesses = trialProcesses().map(describePid);
  for (const [inode, addr] of twinListeners()) {
    if (listenersBefore.has(inode)) continue;
    const owner = socketOwner(inode);
    // Another engineer's twin on this machine may listen meanwhile: only this trial's count.
    if (owner !== undefined && result.leftProcesses.some((p) => p.startsWith(`${owner} `)))
      result.leftListeners.push(`${addr} (pid ${owner})`);
  }
  // A SIGKILLed CLI leaves its state: `twin down` is what a user runs next, and it must clean.
  if (trial.phase !== 'scenario' && existsSync(path.join(options.workDir, 'state.json'))) {
    const down = await twinCommand(['down', '--work-dir', options.workDir], `${marker}-down`);
    result.downAfter = `exit ${down.code}: ${down.output.trim().split('\n').at(-1)}`;
    if (trial.signal !== 'SIGKILL' || trial.target === 'npm')
      result.problems.push(`state.json was left after ${trial.signal} to ${trial.target}`);
  }
  const env = path.join(options.workDir, 'environment');
  const scenarioWork = () =>
    trial.phase === 'scenario' && existsSync(reportDir)
      ? readdirSync(reportDir).map((run) => path.join(reportDir, run, 'work'))
      : [];
  const leftDirectories = () =>
    [
      env,
      path.join(options.workDir, 'state.json'),
      relocatedDir(env, 'pods'),
      relocatedDir(env, 'volumes'),
      ...scenarioWork().flatMap((w) => [relocatedDir(w, 'pods'), relocatedDir(w, 'volumes')]),
      // Kustomize wrappers (named after their process) that appeared during the trial and whose process is gone.
      ...kustomizeWrappers()
        .filter((d) => !wrappersBefore.has(d))
        .filter((d) => !processRuns(Number(/twin-kustomize-(\d+)-/.exec(d)![1]))),
    ].filter((d) => existsSync(d));
  // What only the next twin can remove (a SIGKILLed scenario worker's relocated pods): counted only
  // when it is still there after the next up and down below.
  result.leftBeforeNextUp = leftDirectories();
  // The next up on the same work directory works.
  const next = launch(
    ['twin', '--', 'up', '--system', options.system, '--work-dir', options.workDir, ...scale],
    `${marker}-next`,
  );
  result.nextUpOk = await waitFor(/is up on local/, next, 180_000);
  if (!result.nextUpOk) result.problems.push(`the next up did not come up:\n${next.output().slice(-2000)}`);
  const down = await twinCommand(['down', '--work-dir', options.workDir], `${marker}-next-down`);
  if (down.code !== 0) result.problems.push(`twin down after the next up: exit ${down.code}`);
  await Promise.race([next.exited, sleep(15_000)]);
  try {
    process.kill(-next.npm.pid!, 'SIGKILL');
  } catch {}
  result.leftDirectories = leftDirectories();
  if (result.leftBeforeNextUp.length && (trial.signal !== 'SIGKILL' || trial.target === 'npm'))
    result.problems.push(
      `left until the next up after ${trial.signal} to ${trial.target}: ${result.leftBeforeNextUp.join(', ')}`,
    );
  rmSync(reportDir, { recursive: true, force: true });
  if (result.leftProcesses.length) result.problems.push(`processes left: ${result.leftProcesses.join('; ')}`);
  if (result.leftListeners.length) result.problems.push(`listeners left: ${result.leftListeners.join(', ')}`);
  if (result.leftDirectories.length)
    result.problems.push(`directories left: ${result.leftDirectories.join(', ')}`);
  options.log(
    `#${trial.index} ${trial.signal} to ${trial.target} at ${trial.phase} (+${trial.delayMs} ms): ${
      result.sent ? `CLI gone in ${result.cliExitMs} ms, all processes in ${result.settledMs} ms` : 'not sent'
    }${result.downAfter ? `; twin down: ${result.downAfter}` : ''}${
      result.leftBeforeNextUp.length
        ? `; removed by the next twin: ${result.leftBeforeNextUp.join(', ')}`
        : ''
    }; next up ${result.nextUpOk ? 'ok' : 'FAILED'}${
      result.problems.length ? `\n    PROBLEMS: ${result.problems.join('\n    ')}` : ''
    }`,
  );
  return result;
}

export async function runInterruptions(options: {
  runs: number;
  seed: number;
  system?: string;
  timeScale?: number;
  log?: (m: string) => void;
}): Promise<TrialResult[]> {
  const log = options.log ?? ((m: string) => console.log(m));
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'twin-interrupt-'));
  const workDir = path.join(scratch, 'up');
  const results: TrialResult[] = [];
  try {
    for (const trial of planTrials(options.runs, options.seed))
      results.push(
        await runTrial(trial, {
          system: options.system ?? 'ai-platform',
          workDir,
          scratch,
          log,
          ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
        }),
      );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return results;
}

export function summarize(results: TrialResult[]): string {
  const sent = results.filter((r) => r.sent);
  const teardown = sent
    .filter((r) => r.signal !== 'SIGKILL' || r.target === 'npm')
    .map((r) => r.cliExitMs!)
    .sort((a, b) => a - b);
  const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? Number.NaN;
  const by = (key: 'phase' | 'signal' | 'target') =>
    [...new Set(results.map((r) => r[key]))]
      .map((k) => `${k} ${results.filter((r) => r[key] === k).length}`)
      .join(', ');
  return [
    `${results.length} interruptions (${sent.length} sent): ${by('phase')}; ${by('signal')}; to ${by('target')}`,
    `teardown after SIGINT/SIGTERM/SIGHUP or a SIGKILLed npm: median ${q(teardown, 0.5)} ms, p95 ${q(teardown, 0.95)} ms, max ${teardown.at(-1)} ms (limit 10000)`,
    `left behind: ${results.reduce((n, r) => n + r.leftProcesses.length, 0)} processes, ${results.reduce((n, r) => n + r.leftListeners.length, 0)} listeners, ${results.reduce((n, r) => n + r.leftDirectories.length, 0)} directories; next up ok ${results.filter((r) => r.nextUpOk).length}/${results.length}`,
    `after a SIGKILL, left for the next twin to remove: ${results.reduce((n, r) => n + r.leftBeforeNextUp.length, 0)} directories (in ${results.filter((r) => r.leftBeforeNextUp.length).length} trials)`,
    `trials with problems: ${results.filter((r) => r.problems.length).length}`,
  ].join('\n');
}

export async function benchInterrupt(args: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const runs = Number(arg('--runs') ?? 50);
  const seed = Number(arg('--seed') ?? 1);
  const system = arg('--system') ?? 'ai-platform';
  const scale = arg('--time-scale');
  const timeScale = scale !== undefined ? Number(scale) : undefined;
  console.log(
    `interrupt: ${runs} seeded interruptions (seed ${seed}) of ${system}${scale ? ` at time scale ×${scale}` : ''}`,
  );
  const results = await runInterruptions({
    runs,
    seed,
    system,
    ...(timeScale !== undefined ? { timeScale } : {}),
  });
  console.log(summarize(results));
  if (results.some((r) => r.problems.length > 0)) process.exitCode = 1;
}
