import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  budgetSeconds,
  describePlan,
  loadRandomConfig,
  planRandomChaos,
} from '../../../harness/chaos/random-plan.ts';
import { REPO_ROOT } from '../../../system/repo-root.ts';

const zones = ['ap-northeast-1a', 'ap-northeast-1c'];
const load = () => loadRandomConfig(path.join(REPO_ROOT, 'chaos', 'random', 'ai-platform.yaml'), REPO_ROOT);

describe('the plan a seed gives (harness/chaos/random-plan.ts)', () => {
  it('is the same for the same seed and differs between seeds', async () => {
    const c = await load();
    expect(planRandomChaos(c, zones, 7, 600)).toEqual(planRandomChaos(c, zones, 7, 600));
    expect(planRandomChaos(c, zones, 8, 600).faults).not.toEqual(planRandomChaos(c, zones, 7, 600).faults);
    expect(describePlan(planRandomChaos(c, zones, 7, 600))).toBe(
      describePlan(planRandomChaos(c, zones, 7, 600)),
    );
  });

  it('keeps the declared limits: K pods per workload, one zone, the budget, the ranges', async () => {
    const c = await load();
    for (let seed = 0; seed < 40; seed++) {
      const plan = planRandomChaos(c, zones, seed, 600);
      expect(plan.faults.length).toBeGreaterThan(0);
      let end = 0;
      for (const f of plan.faults) {
        expect(f.at).toBeGreaterThanOrEqual(end);
        end = f.at + f.durationSeconds + f.gapSeconds;
        expect(f.at + f.durationSeconds).toBeLessThanOrEqual(600);
        expect(f.durationSeconds).toBeGreaterThanOrEqual(10);
        expect(f.durationSeconds).toBeLessThanOrEqual(30);
        if (f.kind === 'zone-outage') expect(zones).toContain(f.target.zone);
        else {
          expect(f.target.pods).toBe(1);
          expect(f.object!['spec']).toMatchObject({ mode: 'fixed', value: '1' });
        }
        if (f.kind === 'network-delay') expect(f.params.latencyMs! % 10).toBe(0);
        if (f.kind === 'network-delay') expect(f.params.latencyMs).toBeGreaterThanOrEqual(100);
        if (f.kind === 'network-loss') expect(f.params.lossPercent).toBeLessThanOrEqual(30);
      }
    }
    const kinds = new Set(
      Array.from({ length: 20 }, (_, s) =>
        planRandomChaos(c, zones, s, 600).faults.map((f) => f.kind),
      ).flat(),
    );
    expect([...kinds].sort()).toEqual([
      'http-abort',
      'network-delay',
      'network-loss',
      'pod-kill',
      'zone-outage',
    ]);
  });

  it('refuses a bad budget and a config without faults', async () => {
    expect(budgetSeconds('10m')).toBe(600);
    expect(() => budgetSeconds('ten')).toThrow('--budget: "ten" is not a duration');
    await expect(
      loadRandomConfig(path.join(REPO_ROOT, 'chaos', 'random', 'nope.yaml'), REPO_ROOT),
    ).rejects.toThrow('chaos/random/nope.yaml: no randomized-chaos limits for this system');
  });
});
