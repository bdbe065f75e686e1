import { describe, expect, it } from 'vitest';
import { isTwinError } from '../../core/errors.ts';
import { sleep, waitUntil } from '../../core/wait.ts';

describe('waitUntil', () => {
  it('resolves with the first result the check returns', async () => {
    let n = 0;
    const v = await waitUntil(() => (++n >= 3 ? `after ${n}` : undefined), {
      what: 'three checks',
      timeout: 5000,
      interval: 5,
    });
    expect(v).toBe('after 3');
  });

  it('times out with TWIN_TIMEOUT naming what it waited for, for how long, and the last status', async () => {
    const err = await waitUntil(
      (p) => {
        p.status('2/3 ready');
        return false;
      },
      { what: 'Deployment shop/cart to be available', timeout: 150, interval: 20 },
    ).catch((e) => e);
    expect(isTwinError(err, 'TWIN_TIMEOUT')).toBe(true);
    expect(err.message).toMatch(
      /^timed out after 0\.\d s waiting for Deployment shop\/cart to be available \(2\/3 ready\)$/,
    );
  });

  it('aborts with TWIN_ABORTED when the signal aborts, without waiting for the timeout', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('Ctrl-C')), 30);
    const t0 = performance.now();
    const err = await waitUntil(() => false, {
      what: 'nothing',
      timeout: 60_000,
      interval: 10_000,
      signal: ac.signal,
    }).catch((e) => e);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(isTwinError(err, 'TWIN_ABORTED')).toBe(true);
    expect(err.message).toContain('while waiting for nothing: Ctrl-C');
  });

  it('checks again at once when woken (a watch), not only every interval', async () => {
    let ready = false;
    let notify: (() => void) | undefined;
    let unsubscribed = false;
    setTimeout(() => {
      ready = true;
      notify?.();
    }, 20);
    const t0 = performance.now();
    await waitUntil(() => ready, {
      what: 'the watch',
      timeout: 60_000,
      interval: 30_000,
      wake: (recheck) => {
        notify = recheck;
        return () => {
          unsubscribed = true;
        };
      },
    });
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(unsubscribed).toBe(true);
  });

  it('retries errors retryIf accepts and names the last one on timeout; other errors end the wait', async () => {
    const err = await waitUntil(
      () => {
        throw new Error('ECONNREFUSED');
      },
      { what: 'the server', timeout: 100, interval: 10, retryIf: () => true },
    ).catch((e) => e);
    expect(isTwinError(err, 'TWIN_TIMEOUT')).toBe(true);
    expect(err.message).toContain('(last error: ECONNREFUSED)');
    expect((err.cause as Error).message).toBe('ECONNREFUSED');

    let calls = 0;
    const fatal = await waitUntil(
      () => {
        calls++;
        throw new Error('bad input');
      },
      { what: 'x', timeout: 10_000, interval: 10 },
    ).catch((e) => e);
    expect(fatal.message).toBe('bad input');
    expect(calls).toBe(1);
  });

  it('logs the status while it waits', async () => {
    const lines: string[] = [];
    await waitUntil(
      (p) => {
        if (p.elapsed() > 120) return true;
        p.status('still starting');
        return false;
      },
      { what: 'the twin', timeout: 5000, interval: 10, logEvery: 30, log: (m) => lines.push(m) },
    );
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toBe('waiting for the twin: still starting');
  });
});

describe('sleep', () => {
  it('ends early with TWIN_ABORTED on abort', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    const err = await sleep(60_000, ac.signal).catch((e) => e);
    expect(isTwinError(err, 'TWIN_ABORTED')).toBe(true);
  });
});
