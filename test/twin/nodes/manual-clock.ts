import type { Clock } from '../../../kube/clock.ts';

/** A control-plane clock the test advances by hand: timers fire in time order as `advance` passes them. */
export class ManualClock implements Clock {
  readonly scale = 1;
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void; every?: number }>();

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  toReal(virtualMs: number): number {
    return virtualMs;
  }

  toVirtual(realMs: number): number {
    return realMs;
  }

  after(virtualMs: number, fn: () => void): () => void {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + virtualMs, fn });
    return () => this.timers.delete(id);
  }

  every(virtualMs: number, fn: () => void): () => void {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + virtualMs, fn, every: virtualMs });
    return () => this.timers.delete(id);
  }

  sleep(virtualMs: number): Promise<void> {
    return new Promise((resolve) => this.after(virtualMs, resolve));
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void; every?: number }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      const [id, timer] = next;
      this.t = Math.max(this.t, timer.at);
      if (timer.every) timer.at += timer.every;
      else this.timers.delete(id);
      timer.fn();
    }
    this.t = end;
  }
}
