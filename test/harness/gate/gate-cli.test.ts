import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);

async function twin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', ...args], { cwd: root }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

describe('twin gate (CLI)', () => {
  it('lists its options', async () => {
    const r = await twin(['gate', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--system',
      '--env',
      '--baseline',
      '--update-baseline',
      '--profiles',
      '--runner',
      '--runs',
    ]) {
      expect(r.stdout).toContain(flag);
    }
  }, 30_000);

  it('an unknown profile or a bad --runs is an input error (exit 2) naming the option, before anything starts', async () => {
    const unknown = await twin(['gate', '--profiles', 'smoke,nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      '--profiles: no load profile "nope" (known: smoke, steady, spike, soak)',
    );
    const runs = await twin(['gate', '--runs', '0']);
    expect(runs.code).toBe(2);
    expect(runs.stderr).toContain('--runs: "0" is not a whole number ≥ 1');
  }, 30_000);
});
