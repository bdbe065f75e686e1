import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PHASES, planTrials, runTrial, type Trial } from '../../bench/interrupt.ts';

const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
const onLinux = process.platform === 'linux'; // the checks read /proc

describe('interruption trials (bench/interrupt.ts)', () => {
  it('a seed gives the same trials every time, and every phase is covered', () => {
    const a = planTrials(50, 7);
    expect(planTrials(50, 7)).toEqual(a);
    expect(new Set(a.map((t) => t.phase))).toEqual(new Set(PHASES));
    expect(new Set(a.map((t) => t.signal)).size).toBe(4);
    expect(new Set(a.map((t) => t.target)).size).toBe(3);
  });

  // The short form of `npm run bench -- interrupt`: one interruption of each kind that matters.
  describe.skipIf(!hasKustomize || !onLinux)('the short form (needs kustomize and /proc)', () => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'twin-interrupt-test-'));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));
    const cases: Trial[] = [
      { index: 0, phase: 'readiness', signal: 'SIGTERM', target: 'npm', delayMs: 0 },
      { index: 1, phase: 'up', signal: 'SIGKILL', target: 'cli', delayMs: 100 },
      { index: 2, phase: 'boot', signal: 'SIGKILL', target: 'npm', delayMs: 50 },
      { index: 3, phase: 'scenario', signal: 'SIGINT', target: 'group', delayMs: 500 },
    ];
    it.each(cases)(
      '$signal to $target at $phase: torn down, nothing left, the next up works',
      async (trial) => {
        const r = await runTrial(trial, {
          system: 'ai-platform',
          workDir: path.join(scratch, 'up'),
          scratch,
          log: () => {},
          // ×10 rather than the CLI's ×100: on a loaded machine the AI platform's Prometheus (liveness
          // probe every 0.15 s at ×100, 1 s real timeout) restarts and the next up times out for that
          // reason alone; the interruption and teardown do not depend on the scale.
          timeScale: 10,
        });
        expect(r.sent).toBe(true);
        expect(r.leftProcesses).toEqual([]);
        expect(r.leftListeners).toEqual([]);
        expect(r.leftDirectories).toEqual([]);
        expect(r.nextUpOk).toBe(true);
        expect(r.problems).toEqual([]);
      },
      300_000,
    );
  });
});
