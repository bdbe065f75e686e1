import { describe, expect, it } from 'vitest';
import { ScaledClock } from '../../kube/clock.ts';

const realSleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ScaledClock', () => {
  it('starts at the given time and advances scale× real time', async () => {
    const start = Date.parse('2030-01-01T00:00:00Z');
    const clock = new ScaledClock(100, start);
    expect(clock.now() - start).toBeLessThan(100 * 20);
    const t0 = performance.now();
    const v0 = clock.now();
    await realSleep(50);
    const realElapsed = performance.now() - t0;
    const virtualElapsed = clock.now() - v0;
    expect(virtualElapsed / realElapsed).toBeGreaterThan(95);
    expect(virtualElapsed / realElapsed).toBeLessThan(105);
  });

  it('never runs an after() or sleep() callback before its virtual time, even at high scales', async () => {
    const clock = new ScaledClock(10_000);
    const lateness: number[] = [];
    await Promise.all(
      [1, 333, 30_001, 45_678, 99_999].flatMap((ms) => [
        new Promise<void>((resolve) => {
          const target = clock.now() + ms;
          clock.after(ms, () => {
            lateness.push(clock.now() - target);
            resolve();
          });
        }),
        (async () => {
          const target = clock.now() + ms;
          await clock.sleep(ms);
          lateness.push(clock.now() - target);
        })(),
      ]),
    );
    expect(lateness).toHaveLength(10);
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
  });

  it('converts between real and virtual durations', () => {
    const clock = new ScaledClock(250);
    expect(clock.toReal(10_000)).toBe(40);
    expect(clock.toVirtual(40)).toBe(10_000);
    expect(new ScaledClock().scale).toBe(1);
  });

  it('sleep waits virtualMs / scale of real time', async () => {
    const clock = new ScaledClock(100);
    const t0 = performance.now();
    const v0 = clock.now();
    await clock.sleep(5000);
    const real = performance.now() - t0;
    expect(real).toBeGreaterThanOrEqual(45);
    expect(real).toBeLessThan(500);
    expect(clock.now() - v0).toBeGreaterThanOrEqual(5000 - 100);
  });

  it('sleep rejects with the signal reason, when aborted before or during', async () => {
    const clock = new ScaledClock(1);
    const before = new AbortController();
    before.abort(new Error('already'));
    await expect(clock.sleep(10, before.signal)).rejects.toThrow('already');
    const during = new AbortController();
    const t0 = performance.now();
    const p = clock.sleep(60_000, during.signal);
    setTimeout(() => during.abort(new Error('stop now')), 10);
    await expect(p).rejects.toThrow('stop now');
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('after runs once after the scaled delay and can be cancelled', async () => {
    const clock = new ScaledClock(100);
    const fired: number[] = [];
    const t0 = performance.now();
    clock.after(3000, () => fired.push(performance.now() - t0));
    const cancel = clock.after(3000, () => fired.push(-1));
    cancel();
    await realSleep(120);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(25);
    expect(fired[0]).toBeLessThan(120);
  });

  it('every repeats at the scaled period until stopped', async () => {
    const clock = new ScaledClock(100);
    let n = 0;
    const stop = clock.every(1000, () => n++);
    await realSleep(105);
    stop();
    const atStop = n;
    expect(atStop).toBeGreaterThanOrEqual(4);
    expect(atStop).toBeLessThanOrEqual(11);
    await realSleep(40);
    expect(n).toBe(atStop);
  });

  it('rejects a scale that is not a positive finite number', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new ScaledClock(bad), String(bad)).toThrow(RangeError);
    }
    expect(() => new ScaledClock(0)).toThrow('time scale must be a positive number, got 0');
  });
});
