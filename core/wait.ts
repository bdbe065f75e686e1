import { isTwinError, TwinError } from './errors.ts';
import { interruption } from './interrupt.ts';

/**
 * One wait for everything the harness waits on (Playwright's server/progress.ts is the model): a
 * deadline in real time, an abort signal (the caller's and the process's interruption, so Ctrl-C
 * ends every wait at once) and a log, so that any timeout says what it waited for, for how long,
 * and what it saw last.
 */
export interface WaitOptions {
  /** What is waited for, as the messages name it: "Deployment production/api to be available". */
  what: string;
  /** Real milliseconds before TWIN_TIMEOUT (Infinity: until done or aborted). */
  timeout: number;
  signal?: AbortSignal;
  /** Progress lines: the check's status, every `logEvery` ms while it changes nothing. */
  log?: (message: string) => void;
  /** Real milliseconds between checks (default 100). */
  interval?: number;
  /** Also checks again whenever this calls back (a watch); returns what ends the subscription. */
  wake?: (recheck: () => void) => () => void;
  /** Errors the check may throw that mean "not yet" (the last is named on timeout); any other ends the wait. */
  retryIf?: (err: unknown) => boolean;
  /** Real milliseconds between progress lines (default 2000). */
  logEvery?: number;
}

/** What a check sees of its wait. */
export interface WaitProgress {
  readonly what: string;
  /** Real milliseconds since the wait began. */
  elapsed(): number;
  /** Real milliseconds left (Infinity without a timeout). */
  remaining(): number;
  /** Why it is not done yet: shown in progress lines and in the timeout's message. */
  status(text: string): void;
}

/** A check returns the result once the condition holds, and undefined, null or false until then. */
export type Check<T> = (
  progress: WaitProgress,
) => T | undefined | null | false | Promise<T | undefined | null | false>;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Calls `check` until it returns a result; rejects with TWIN_TIMEOUT or TWIN_ABORTED naming `what`. */
export async function waitUntil<T>(check: Check<T>, options: WaitOptions): Promise<T> {
  const t0 = performance.now();
  const interval = options.interval ?? 100;
  const logEvery = options.logEvery ?? 2000;
  let status: string | undefined;
  let lastError: unknown;
  let lastLog = t0;
  const progress: WaitProgress = {
    what: options.what,
    elapsed: () => performance.now() - t0,
    remaining: () => Math.max(0, t0 + options.timeout - performance.now()),
    status(text) {
      status = text;
    },
  };
  const signals = [interruption(), ...(options.signal ? [options.signal] : [])];
  const aborted = () => signals.find((s) => s.aborted);
  const abortError = (s: AbortSignal) => {
    const reason = s.reason;
    const why = isTwinError(reason)
      ? `: ${reason.message}`
      : reason instanceof Error
        ? `: ${reason.message}`
        : '';
    return new TwinError(
      'TWIN_ABORTED',
      `aborted after ${seconds(progress.elapsed())} while waiting for ${options.what}${why}`,
      { cause: reason },
    );
  };

  let woken = false;
  let wakeUp: (() => void) | undefined;
  const recheck = () => {
    woken = true;
    wakeUp?.();
  };
  const unsubscribe = options.wake?.(recheck);
  const onAbort = () => wakeUp?.();
  for (const s of signals) s.addEventListener('abort', onAbort);
  try {
    for (;;) {
      const a = aborted();
      if (a) throw abortError(a);
      woken = false;
      try {
        const result = await check(progress);
        if (result !== undefined && result !== null && result !== false) return result;
      } catch (err) {
        if (!options.retryIf?.(err)) throw err;
        lastError = err;
        status = `last error: ${(err as Error)?.message ?? String(err)}`;
      }
      const now = performance.now();
      if (now - t0 >= options.timeout) {
        throw new TwinError(
          'TWIN_TIMEOUT',
          `timed out after ${seconds(now - t0)} waiting for ${options.what}${status ? ` (${status})` : ''}`,
          lastError !== undefined ? { cause: lastError } : undefined,
        );
      }
      if (options.log && status && now - lastLog >= logEvery) {
        options.log(`waiting for ${options.what}: ${status}`);
        lastLog = now;
      }
      if (woken) continue;
      const pause = Math.min(interval, Math.max(0, t0 + options.timeout - now));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pause);
        function done() {
          clearTimeout(timer);
          wakeUp = undefined;
          resolve();
        }
        wakeUp = done;
      });
    }
  } finally {
    unsubscribe?.();
    for (const s of signals) s.removeEventListener('abort', onAbort);
  }
}

/** Real-time sleep that ends early with TWIN_ABORTED when `signal` or the process's interruption aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  const signals = [interruption(), ...(signal ? [signal] : [])];
  return new Promise((resolve, reject) => {
    const already = signals.find((s) => s.aborted);
    if (already) return reject(new TwinError('TWIN_ABORTED', 'aborted', { cause: already.reason }));
    const onAbort = (e: Event) => {
      finish();
      reject(new TwinError('TWIN_ABORTED', 'aborted', { cause: (e.target as AbortSignal).reason }));
    };
    const timer = setTimeout(() => {
      finish();
      resolve();
    }, ms);
    function finish() {
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', onAbort);
    }
    for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
  });
}
