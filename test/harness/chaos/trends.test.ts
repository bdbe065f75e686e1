import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChaosRun } from '../../../harness/chaos/suite.ts';
import { appendToHistory, summaryMarkdown } from '../../../harness/chaos/suite.ts';
import {
  computeTrends,
  historyCommand,
  readHistory,
  trendsCommand,
  trendsHtml,
} from '../../../harness/chaos/trends.ts';

const run = (day: number, env: string, outcomes: Record<string, boolean>, recovery = 2): ChaosRun => ({
  kind: 'infra-twin/chaos-run',
  version: 1,
  startedAt: `2026-11-${String(day).padStart(2, '0')}T02:17:00.000Z`,
  finishedAt: `2026-11-${String(day).padStart(2, '0')}T03:00:00.000Z`,
  environment: env,
  entries: Object.entries(outcomes).map(([name, passed]) => ({
    name,
    type: name.includes('-') ? 'experiment' : 'scenario',
    passed,
    status: passed ? 'completed' : 'failed',
    runId: `${name}-${day}`,
    durationSeconds: 30,
    recoverySeconds: passed ? recovery + day / 10 : null,
    errorBudgetPercent: name === 'azoutage' ? 10 + day : null,
    failed: passed ? [] : ['time to recover = NaN s (≤ 30)'],
  })),
});

describe('chaos history and trends (harness/chaos/trends.ts)', () => {
  const runs = [
    run(1, 'local', { 'api-latency': true, azoutage: true, 'api-pod-kill': true }),
    run(2, 'local', { 'api-latency': false, azoutage: true, 'api-pod-kill': true }),
    run(3, 'local', { 'api-latency': true, azoutage: true, 'api-pod-kill': false }),
    run(4, 'local', { 'api-latency': false, azoutage: true, 'api-pod-kill': false }),
    run(4, 'k3d', { 'api-latency': true }),
  ];

  it('pass rate, flips (flaky), recovery and error budget per entry and environment', () => {
    const t = computeTrends(runs);
    const latency = t.entries.find((e) => e.name === 'api-latency' && e.environment === 'local')!;
    expect(latency).toMatchObject({ passRate: 0.5, flips: 3, flaky: true, lastPassed: false });
    const kill = t.entries.find((e) => e.name === 'api-pod-kill')!;
    expect(kill).toMatchObject({ passRate: 0.5, flips: 1, flaky: false });
    const az = t.entries.find((e) => e.name === 'azoutage')!;
    expect(az).toMatchObject({ passRate: 1, flips: 0, flaky: false, errorBudget: { max: 14, last: 14 } });
    expect(az.recovery.median).toBeCloseTo(2.25);
    expect(t.entries.find((e) => e.environment === 'k3d')!.runs).toHaveLength(1);
    expect(t.nights.map((n) => `${n.passed}/${n.total}`)).toEqual(['3/3', '2/3', '2/3', '1/3', '1/1']);
  });

  it('appends runs to a history directory once each, and renders trends.html, trends.json and summary.md', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'chaos-history-'));
    const from = path.join(work, 'reports', 'twin');
    const history = path.join(work, 'chaos-history');
    const files = runs.map((r, i) => {
      const f = path.join(work, `chaos-run-${i}.json`);
      writeFileSync(f, JSON.stringify(r));
      return f;
    });
    await appendToHistory(history, files.slice(0, 2));
    await appendToHistory(history, files.slice(0, 2));
    expect(readdirSync(path.join(history, 'runs'))).toHaveLength(2);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(from, { recursive: true });
    for (const [i, r] of runs.entries())
      writeFileSync(path.join(from, `chaos-run-2026110${i}.json`), JSON.stringify(r));
    await historyCommand({ from: path.join(work, 'reports'), history, runLabel: '123' });
    expect((await readHistory(history)).length).toBe(7);
    const out = path.join(work, 'trends');
    const summary = path.join(work, 'summary.md');
    await trendsCommand({ history, out, summary });
    expect(readdirSync(out).sort()).toEqual(['summary.md', 'trends.html', 'trends.json']);
    expect(readFileSync(summary, 'utf8')).toContain('| ❌ | api-latency | local |');
    expect(readFileSync(path.join(out, 'trends.html'), 'utf8')).toContain('<b class="bad">flaky</b>');
    await expect(historyCommand({ from: path.join(work, 'none'), history })).rejects.toThrow(
      'no chaos-run-*.json under it',
    );
  });

  it('the job summary has a row per entry with what failed', () => {
    const md = summaryMarkdown(runs[1]!, 'Chaos suite');
    expect(md).toContain('### Chaos suite on local: 2/3 passed');
    expect(md).toContain(
      '| ❌ | api-latency | experiment | failed | 30 s | — | — | time to recover = NaN s (≤ 30) |',
    );
    expect(trendsHtml(computeTrends([]))).toContain('No runs in the history yet.');
  });
});
