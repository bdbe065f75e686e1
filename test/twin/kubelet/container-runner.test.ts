import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContainerProcess } from '../../../twin/kubelet/container-runner.ts';

describe('ContainerProcess', () => {
  it('keeps running, and draining its output, when its log cannot be written', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'twin-runner-'));
    rmSync(dir, { recursive: true, force: true }); // the log's directory is gone before it opens
    const proc = new ContainerProcess({
      // 1 MiB of output: more than a pipe holds, so an undrained pipe would block the process.
      argv: [process.execPath, '-e', "process.stdout.write('x'.repeat(1 << 20)); process.exit(7)"],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      cwd: os.tmpdir(),
      logFile: path.join(dir, 'main.log'),
    });
    const exit = await proc.exited;
    expect(exit.code).toBe(7);
  });
});

describe('ContainerProcess exit', () => {
  it('reports the exit only once the log holds all the container wrote', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'twin-runner-'));
    const logFile = path.join(dir, 'main.log');
    const proc = new ContainerProcess({
      argv: ['sh', '-c', "head -c 1048576 /dev/zero | tr '\\0' y; echo last line"],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      cwd: os.tmpdir(),
      logFile,
    });
    expect((await proc.exited).code).toBe(0);
    const log = readFileSync(logFile, 'utf8');
    expect(log.length).toBe((1 << 20) + 'last line\n'.length);
    expect(log.endsWith('last line\n')).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends the processes its main process left running, as a container ends with its PID 1', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'twin-runner-'));
    const proc = new ContainerProcess({
      argv: ['sh', '-c', 'sleep 30 & echo $! > child.pid; exit 4'],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      cwd: dir,
      logFile: path.join(dir, 'main.log'),
    });
    const started = performance.now();
    expect((await proc.exited).code).toBe(4);
    expect(performance.now() - started).toBeLessThan(10_000);
    const child = Number(readFileSync(path.join(dir, 'child.pid'), 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
    // Gone, or a zombie waiting for the machine's init to reap it: either way no longer running.
    let state = 'gone';
    try {
      state = readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]!.split(' ')[0]!;
    } catch {}
    expect(['gone', 'Z', 'X']).toContain(state);
    rmSync(dir, { recursive: true, force: true });
  });
});
