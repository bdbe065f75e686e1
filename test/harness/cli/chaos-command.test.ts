import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');

function twin(args: string[]) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'harness/cli/main.ts'), ...args],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, TWIN_QUIET: '1' },
      timeout: 60_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('twin chaos (CLI)', () => {
  it('--random --dry-run prints the plan a seed gives, the same twice, and starts nothing', () => {
    const a = twin([
      'chaos',
      '--random',
      '--seed',
      '7',
      '--budget',
      '2m',
      '--system',
      'ai-platform',
      '--dry-run',
    ]);
    const b = twin([
      'chaos',
      '--random',
      '--seed',
      '7',
      '--budget',
      '2m',
      '--system',
      'ai-platform',
      '--dry-run',
    ]);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(
      /^randomized chaos: system ai-platform, seed 7, budget 120 s, \d+ faults\n {2}#0 at 0 s: /,
    );
    expect(b.stdout).toBe(a.stdout);
  }, 180_000);

  it('input errors exit 2 and say what to do', () => {
    const noSeed = twin(['chaos', '--random', '--dry-run']);
    expect(noSeed.code).toBe(2);
    expect(noSeed.stderr).toContain(
      'twin: --seed: a non-negative integer is required with --random, got undefined',
    );
    const badBudget = twin(['chaos', '--random', '--seed', '1', '--budget', 'soon', '--dry-run']);
    expect(badBudget.code).toBe(2);
    expect(badBudget.stderr).toContain('--budget: "soon" is not a duration (e.g. 10m, 90s)');
    const unknown = twin(['chaos', '--only', 'no-such-experiment']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      '--only no-such-experiment: not in the suite (chaos/nightly.ts: api-latency, api-pod-kill, canary-rollout',
    );
    const nothing = twin(['chaos', '--only', ',']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('--only ",": names no suite entry (chaos/nightly.ts)');
    const reportUnderFile = twin(['chaos', '--only', 'api-latency', '--report-dir', 'package.json/r']);
    expect(reportUnderFile.code).toBe(2);
    expect(reportUnderFile.stderr).toContain('--report-dir');
    const noSystem = twin(['chaos', '--random', '--seed', '1', '--system', 'tonebridge', '--dry-run']);
    expect(noSystem.code).toBe(2);
    expect(noSystem.stderr).toContain(
      'chaos/random/tonebridge.yaml: no randomized-chaos limits for this system',
    );
  }, 300_000);
});
