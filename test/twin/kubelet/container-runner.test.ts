import { mkdtempSync, rmSync } from 'node:fs';
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
