/**
 * The control plane's clock. In the twin it is scaled: durations the manifests state (pauses,
 * analysis intervals, probe periods, grace periods) pass `scale` times faster than real time, while
 * live processes run in real time. now() is virtual epoch milliseconds.
 */
export interface Clock {
  readonly scale: number;
  now(): number;
  /** Waits `virtualMs` of control-plane time. Rejects with the signal's reason when aborted. */
  sleep(virtualMs: number, signal?: AbortSignal): Promise<void>;
  /** Runs fn after `virtualMs`; returns a function that cancels it. */
  after(virtualMs: number, fn: () => void): () => void;
  /** Runs fn every `virtualMs`; returns a function that stops it. */
  every(virtualMs: number, fn: () => void): () => void;
  /** Real milliseconds that `virtualMs` of control-plane time take. */
  toReal(virtualMs: number): number;
  /** Control-plane milliseconds that pass in `realMs`. */
  toVirtual(realMs: number): number;
}

/** The twin's default control-plane time scale: a 10-minute canary analysis takes 6 s. */
export const DEFAULT_TIME_SCALE = 100;

export class ScaledClock implements Clock {
  private readonly realStart = performance.now();
  private readonly virtualStart: number;

  constructor(
    readonly scale = 1,
    start = Date.now(),
  ) {
    if (!(scale > 0) || !Number.isFinite(scale))
      throw new RangeError(`time scale must be a positive number, got ${scale}`);
    this.virtualStart = start;
  }

  now(): number {
    return this.virtualStart + (performance.now() - this.realStart) * this.scale;
  }

  toReal(virtualMs: number): number {
    return virtualMs / this.scale;
  }

  toVirtual(realMs: number): number {
    return realMs * this.scale;
  }

  sleep(virtualMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        cancel();
        reject(signal!.reason);
      };
      const cancel = this.at(this.now() + virtualMs, false, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  after(virtualMs: number, fn: () => void): () => void {
    return this.at(this.now() + virtualMs, true, fn);
  }

  /**
   * Runs fn once now() has reached `target`: real timers round and may fire a fraction of a
   * millisecond early, which at high scales is whole virtual seconds, so an early timer re-arms.
   */
  private at(target: number, unref: boolean, fn: () => void): () => void {
    let timer: NodeJS.Timeout;
    const arm = () => {
      const remaining = target - this.now();
      if (remaining <= 0) return void fn();
      timer = setTimeout(arm, Math.max(1, Math.ceil(this.toReal(remaining))));
      if (unref) timer.unref?.();
    };
    timer = setTimeout(arm, Math.max(0, Math.ceil(this.toReal(target - this.now()))));
    if (unref) timer.unref?.();
    return () => clearTimeout(timer);
  }

  every(virtualMs: number, fn: () => void): () => void {
    const timer = setInterval(fn, Math.max(1, this.toReal(virtualMs)));
    timer.unref?.();
    return () => clearInterval(timer);
  }
}
