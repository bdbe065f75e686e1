import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
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
  }, 90_000); // each run of the CLI starts tsx: seconds on a loaded machine

  it('an unknown profile or a bad --runs is an input error (exit 2) naming the option, before anything starts', async () => {
    const unknown = await twin(['gate', '--profiles', 'smoke,nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      '--profiles: no load profile "nope" (known: smoke, steady, spike, soak)',
    );
    const runs = await twin(['gate', '--runs', '0']);
    expect(runs.code).toBe(2);
    expect(runs.stderr).toContain('--runs: "0" is not a whole number ≥ 1');
  }, 90_000); // each run of the CLI starts tsx: seconds on a loaded machine

  it('k6-scripts writes the k6 script of each chosen profile', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'k6-scripts-'));
    try {
      const r = await twin(['k6-scripts', '--profiles', 'smoke,steady', '--out', out]);
      expect(r.code).toBe(0);
      const steady = await readFile(path.join(out, 'steady.ts'), 'utf8');
      expect(steady).toContain('executor": "constant-arrival-rate"');
      expect(steady).toContain("'p(95)<500'".replace(/'/g, '"'));
      await expect(readFile(path.join(out, 'spike.ts'), 'utf8')).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 90_000); // each run of the CLI starts tsx: seconds on a loaded machine
});
