import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const fixture = path.resolve(import.meta.dirname, '../fixtures/core/interruptible.ts');

function start(mode: string, viaShell = false) {
  const argv = [process.execPath, '--import', 'tsx', fixture, mode];
  // Through a shell that waits for it: SIGKILL to the shell is a SIGKILLed npm.
  const child = viaShell
    ? spawn('sh', ['-c', `${argv.map((a) => `'${a}'`).join(' ')} & wait`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const closed = new Promise<void>((r) => child.stdout.once('close', () => r()));
  const waiting = new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if (out.includes('waiting')) {
        clearInterval(t);
        resolve();
      }
    }, 20);
  });
  return { child, exited, closed, waiting, output: () => out };
}

describe('handleInterrupts', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)(
    '%s aborts every wait, the teardown runs, exit %i',
    async (signal, code) => {
      const p = start('clean');
      await p.waiting;
      p.child.kill(signal);
      expect(await p.exited).toBe(code);
      expect(p.output()).toContain(`aborted after`);
      expect(p.output()).toContain(`while waiting for a signal: interrupted: ${signal}`);
      expect(p.output()).toContain('torn down');
    },
    30_000,
  );

  it('a teardown that hangs is ended after the grace period', async () => {
    const p = start('stuck');
    await p.waiting;
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(143);
    expect(p.output()).toContain('teardown still running after 1.5 s: ending now');
  }, 30_000);

  it('the loss of the parent (a SIGKILLed npm) is an interruption too', async () => {
    const p = start('parent', true);
    await p.waiting;
    p.child.kill('SIGKILL');
    await p.closed; // the fixture held the pipe until it exited
    expect(p.output()).toContain('is gone: tearing down');
    expect(p.output()).toContain('torn down');
  }, 30_000);
});
