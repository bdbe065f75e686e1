import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  isSameProcess,
  killTrackedProcessGroups,
  processRuns,
  processStartTime,
  trackProcessGroup,
} from '../../core/process.ts';

const onLinux = process.platform === 'linux';

describe('process identity', () => {
  it.skipIf(!onLinux)('the start time tells this process from another one with the same pid', () => {
    const mine = processStartTime(process.pid);
    expect(mine).toMatch(/^\d+$/);
    expect(isSameProcess(process.pid, mine)).toBe(true);
    expect(isSameProcess(process.pid, String(Number(mine) + 1))).toBe(false);
    expect(processStartTime(2 ** 22 + 7)).toBeUndefined();
  });

  it('kills tracked process groups on demand (what a forced exit does)', async () => {
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    trackProcessGroup(child.pid!);
    expect(killTrackedProcessGroups()).toBe(1);
    await exited;
    expect(processRuns(child.pid!)).toBe(false);
  });
});
