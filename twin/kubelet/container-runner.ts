import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, statSync, type WriteStream } from 'node:fs';
import { trackProcessGroup } from '../../core/process.ts';
import { findBinary } from '../data/binaries.ts';

export interface ContainerProcessSpec {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  /** The clock log lines are timed by (the kubelet's: control-plane time); real time by default. */
  now?: () => number;
  /** The signal that stops the container (the image's STOPSIGNAL; SIGTERM by default). */
  stopSignal?: NodeJS.Signals;
  /**
   * Send the stop signal to the main process only (a container runtime signals process 1; the
   * sandbox launcher passes it on), not to its whole process group.
   */
  stopMainProcessOnly?: boolean;
}

/** How many chunks of output keep their arrival time (for `kubectl logs --timestamps` and `--since`). */
const MAX_TIMED_CHUNKS = 20_000;

/**
 * One live container: a child process in its own process group (so the whole tree can be signalled),
 * with stdout and stderr appended to the container's log file (readable by the twin's user only).
 * However the twin ends, the group gets SIGKILL (core/process.ts trackProcessGroup); when the twin
 * itself is killed with SIGKILL, the container's process gets SIGKILL from the kernel (a parent-death
 * signal set through util-linux's setpriv, which then execs the command: same pid, same group), and a
 * node pod's orphan guard ends it where setpriv is missing.
 */
export class ContainerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly log: WriteStream;
  private exitedFlag = false;
  /** Byte offset in the log file where this instance's output begins (the file holds every restart's output). */
  readonly logStart: number;
  /** When this instance started (the spec's clock). */
  readonly startedAt: number;
  /** Where each chunk of output begins in the log file and when it arrived, oldest first (bounded). */
  readonly timedChunks: { offset: number; time: number }[] = [];
  readonly logFile: string;

  private readonly stopSignal: NodeJS.Signals;
  private readonly stopMainProcessOnly: boolean;

  constructor(spec: ContainerProcessSpec) {
    this.stopSignal = spec.stopSignal ?? 'SIGTERM';
    this.stopMainProcessOnly = spec.stopMainProcessOnly ?? false;
    const now = spec.now ?? Date.now;
    this.logFile = spec.logFile;
    let size = 0;
    try {
      size = statSync(spec.logFile).size;
    } catch {}
    this.logStart = size;
    this.startedAt = now();
    let offset = size;
    const timeChunk = (chunk: Buffer) => {
      this.timedChunks.push({ offset, time: now() });
      if (this.timedChunks.length > MAX_TIMED_CHUNKS)
        this.timedChunks.splice(0, this.timedChunks.length - MAX_TIMED_CHUNKS);
      offset += chunk.length;
    };
    this.log = createWriteStream(spec.logFile, { flags: 'a', mode: 0o600 });
    // A log that cannot be written (its directory removed under a running pod) loses lines, never the twin.
    this.log.on('error', () => {
      this.child?.stdout?.resume(); // keep draining, so the process never blocks on a full pipe
      this.child?.stderr?.resume();
    });
    const [file, ...args] = withParentDeathSignal(spec.argv);
    this.child = spawn(file!, args, {
      env: spec.env,
      cwd: spec.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const untrack = this.child.pid !== undefined ? trackProcessGroup(this.child.pid) : () => {};
    this.child.stdout!.on('data', timeChunk);
    this.child.stderr!.on('data', timeChunk);
    this.child.stdout!.pipe(this.log, { end: false });
    this.child.stderr!.pipe(this.log, { end: false });
    // The exit is reported once the log holds everything the container wrote, as a runtime's log does
    // when it reports the container terminated (`kubectl logs` of a finished pod is complete).
    this.exited = new Promise((resolve) => {
      const finish = (result: { code: number | null; signal: NodeJS.Signals | null }) =>
        this.log.end(() => resolve(result));
      this.child.once('error', (err) => {
        this.log.write(`twin: failed to start ${file}: ${err.message}\n`);
        this.exitedFlag = true;
        finish({ code: 128, signal: null });
      });
      this.child.once('exit', (code, signal) => {
        untrack();
        this.exitedFlag = true;
        // A container ends with its main process: what it left running in its group goes too, and its
        // output pipes close; a descendant that left the group and holds them cannot delay the exit.
        this.killGroup();
        const result = { code, signal };
        const late = setTimeout(() => finish(result), 1000);
        this.child.once('close', () => {
          clearTimeout(late);
          finish(result);
        });
      });
    });
  }

  private killGroup(): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {}
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exitedFlag;
  }

  /** The stop signal (to the process group, or the main process only), SIGKILL after graceMs (at once for 0); resolves once it has exited. */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    if (graceMs <= 0) {
      // No grace (a node losing power): everything dies at once.
      this.signal('SIGKILL');
      await this.exited;
      return;
    }
    if (this.stopMainProcessOnly) {
      try {
        this.child.kill(this.stopSignal);
      } catch {}
    } else this.signal(this.stopSignal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    this.signal('SIGKILL');
  }

  /** Set once the container was killed for going over its memory limit. */
  oomKilled = false;

  /** Kills the whole container for going over its memory limit (its exit is then reported as OOMKilled). */
  killOutOfMemory(): void {
    this.oomKilled = true;
    this.signal('SIGKILL');
  }

  /** Sends a signal to the whole process group (SIGSTOP/SIGCONT freeze and resume a partitioned node's pods). */
  signalGroup(sig: NodeJS.Signals): void {
    this.signal(sig);
  }

  private signal(sig: NodeJS.Signals): void {
    if (!this.running || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      try {
        this.child.kill(sig);
      } catch {}
    }
  }
}

let setpriv: string | null | undefined;

/** argv run through `setpriv --pdeathsig=KILL` where setpriv exists (Linux), else unchanged. */
export function withParentDeathSignal(argv: string[]): string[] {
  if (setpriv === undefined) setpriv = findBinary({ name: 'setpriv' }) ?? null;
  return setpriv ? [setpriv, '--pdeathsig=KILL', '--', ...argv] : argv;
}
