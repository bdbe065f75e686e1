import { constants } from 'node:os';
import { TwinError } from './errors.ts';

/**
 * The process-wide interruption: one AbortSignal that a SIGINT, SIGTERM or SIGHUP (or the loss of
 * the parent process) aborts, once `handleInterrupts` owns the process's signals. Every wait
 * (core/wait.ts) listens to it, so Ctrl-C ends them all at once, and the code that holds resources
 * unwinds its teardown stack (core/teardown.ts) as the error travels up.
 */
let controller = new AbortController();
let cause: { signal?: NodeJS.Signals; reason: string } | undefined;

export function interruption(): AbortSignal {
  return controller.signal;
}

/** Why the process was interrupted, or undefined while it runs on. */
export function interruptCause(): { signal?: NodeJS.Signals; reason: string } | undefined {
  return cause;
}

/** Aborts every wait of this process (idempotent: the first reason stays). */
export function interrupt(reason: string, signal?: NodeJS.Signals): void {
  if (cause) return;
  cause = { reason, ...(signal ? { signal } : {}) };
  controller.abort(new TwinError('TWIN_ABORTED', `interrupted: ${reason}`));
}

/** The exit code of a process ended by `signal` (128 + its number), as shells report it. */
export function signalExitCode(signal: NodeJS.Signals | undefined): number {
  return signal ? 128 + (constants.signals[signal] ?? 15) : 130;
}

/** Synchronous last resorts run before a forced exit (SIGKILL to the process groups this process started). */
const lastResorts = new Set<() => void>();

export function onForcedExit(fn: () => void): () => void {
  lastResorts.add(fn);
  return () => lastResorts.delete(fn);
}

function runLastResorts(): void {
  for (const fn of lastResorts) {
    try {
      fn();
    } catch {}
  }
}

export interface InterruptHandling {
  /** Progress lines ("interrupted by SIGTERM: tearing down"). */
  log?: (message: string) => void;
  /** Real milliseconds the teardown may take after the first signal before the process is ended anyway. */
  graceMs?: number;
  /** Treat the parent's exit (a SIGKILLed npm, a crashed CLI) as an interruption (polled every 250 ms). */
  watchParent?: boolean;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Makes SIGINT, SIGTERM and SIGHUP interrupt this process instead of ending it: the first one aborts
 * `interruption()`, and the code that holds resources tears them down. A signal more than a second
 * after the first (a second Ctrl-C; npm and the terminal both deliver the first one) or the end of
 * `graceMs` runs the last resorts and exits with 128 + the signal's number. Returns the function
 * that gives the signals back.
 */
export function handleInterrupts(options: InterruptHandling = {}): () => void {
  const graceMs = options.graceMs ?? 9000;
  let firstAt: number | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  const force = (why: string, signal: NodeJS.Signals | undefined) => {
    options.log?.(`${why}: ending now`);
    runLastResorts();
    process.exit(signalExitCode(signal));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstAt === undefined) {
      firstAt = performance.now();
      options.log?.(`interrupted by ${signal}: tearing down (again after a second to force)`);
      interrupt(signal, signal);
      watchdog = setTimeout(() => force(`teardown still running after ${graceMs / 1000} s`, signal), graceMs);
      watchdog.unref();
    } else if (performance.now() - firstAt > 1000) {
      force(`second ${signal}`, signal);
    }
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  let parentTimer: NodeJS.Timeout | undefined;
  if (options.watchParent) {
    const parent = process.ppid;
    parentTimer = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(parentTimer);
      if (firstAt !== undefined) return;
      firstAt = performance.now();
      options.log?.(`the parent process (pid ${parent}) is gone: tearing down`);
      interrupt(`the parent process (pid ${parent}) exited`, 'SIGHUP');
      watchdog = setTimeout(() => force('teardown still running', 'SIGHUP'), graceMs);
      watchdog.unref();
    }, 250);
    parentTimer.unref();
  }
  return () => {
    for (const s of SIGNALS) process.off(s, onSignal);
    if (parentTimer) clearInterval(parentTimer);
    if (watchdog) clearTimeout(watchdog);
  };
}

/** For tests: a fresh interruption. */
export function resetInterruptionForTests(): void {
  controller = new AbortController();
  cause = undefined;
}
