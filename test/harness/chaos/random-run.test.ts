import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRandomConfig, planRandomChaos } from '../../../harness/chaos/random-plan.ts';
import { randomCommand } from '../../../harness/chaos/random-run.ts';
import { REPO_ROOT } from '../../../system/repo-root.ts';

const system = 'test/fixtures/systems/chaos-small';
const config = path.join(REPO_ROOT, system, 'random.yaml');

async function journalOf(seed: string): Promise<any> {
  const reportDir = mkdtempSync(path.join(tmpdir(), 'chaos-random-'));
  const code = await randomCommand(REPO_ROOT, {
    env: 'local',
    reportDir,
    seed,
    budget: '9s',
    system,
    config,
    progress: () => {},
  });
  const run = readdirSync(reportDir).find((d) => d.startsWith(`random-seed-${seed}-`))!;
  const journal = JSON.parse(readFileSync(path.join(reportDir, run, 'journal.json'), 'utf8'));
  return { code, journal, reportDir, run };
}

/** What replays: the plan, and per fault what it was, on what, and whether the steady state held. */
function replayed(j: any) {
  return {
    seed: j.seed,
    plan: j.plan,
    steps: j.steps.map((s: any) => ({
      index: s.index,
      kind: s.kind,
      target: s.target,
      acted: s.acted.length,
      during: s.during.map((d: any) => ({ probe: d.probe, ok: d.ok })),
      recovered: s.recovered,
    })),
  };
}

describe('randomized chaos under a seed on the twin', () => {
  it('--random --seed 7 twice gives the same journal', async () => {
    const a = await journalOf('7');
    const b = await journalOf('7');
    expect(a.journal.plan.length).toBeGreaterThanOrEqual(2);
    expect(a.journal.steps).toHaveLength(a.journal.plan.length);
    expect(replayed(b.journal)).toEqual(replayed(a.journal));
    // The plan is the one --dry-run prints for the seed.
    const cfg = await loadRandomConfig(config, REPO_ROOT);
    expect(a.journal.plan).toEqual(
      JSON.parse(JSON.stringify(planRandomChaos(cfg, ['ap-northeast-1a', 'ap-northeast-1c'], 7, 9).faults)),
    );
    // Each fault acted on at most K pods, and the values were recorded.
    for (const s of a.journal.steps) {
      expect(s.acted.length).toBeLessThanOrEqual(1);
      expect(s.during[0]).toHaveProperty('value');
    }
    expect(a.code).toBe(0);
    expect(readdirSync(path.join(a.reportDir, a.run))).toEqual(
      expect.arrayContaining(['journal.json', 'junit.xml', 'report.html', 'result.json']),
    );
  }, 300_000);
});
