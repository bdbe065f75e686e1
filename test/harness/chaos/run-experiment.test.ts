import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment } from '../../../harness/chaos/experiment.ts';
import { runExperiment } from '../../../harness/chaos/run-experiment.ts';
import type { RunRecord } from '../../../harness/report/run-record.ts';
import { REPO_ROOT } from '../../../system/repo-root.ts';

const fixture = path.join(REPO_ROOT, 'test', 'fixtures', 'systems', 'chaos-small');

async function run(file: string) {
  const e = await loadExperiment(file, REPO_ROOT);
  const reportDir = path.join(mkdtempSync(path.join(tmpdir(), 'chaos-exp-')), 'run');
  const out = await runExperiment(e, { env: 'local', reportDir, runId: 'run', progress: () => {} });
  const record = JSON.parse(await readFile(path.join(reportDir, 'result.json'), 'utf8')) as RunRecord;
  const journal = JSON.parse(await readFile(path.join(reportDir, 'journal.json'), 'utf8'));
  const html = await readFile(path.join(reportDir, 'report.html'), 'utf8');
  const value = (name: string) => record.measurements.find((m) => m.name === name)?.value;
  return { out, record, journal, html, value };
}

describe('a Chaos Mesh NetworkChaos delay as a YAML experiment on the twin', () => {
  it('shows the latency while it is on, and its rollback takes it away', async () => {
    const { out, record, journal, html, value } = await run(path.join(fixture, 'delay-experiment.yaml'));
    expect(out.status).toBe('completed');
    expect(out.deviated).toBe(false);
    const before = value('before: model latency')!;
    const during = value('method: model latency under the delay')!;
    const afterRollback = value('after the rollbacks: model latency')!;
    expect(during).toBeGreaterThanOrEqual(380);
    expect(afterRollback).toBeLessThan(during);
    expect(before).toBeLessThan(during);
    expect(out.recoverySeconds).not.toBeNull();
    const kinds = record.timeline.events.map((e) => e.kind);
    expect(kinds).toContain('ChaosInjected');
    expect(kinds).toContain('ChaosRecovered');
    expect(record.timeline.events.find((e) => e.kind === 'ChaosInjected')!.message).toMatch(
      /NetworkChaos shop\/model-delay: delay 400 ms on shop\/model-/,
    );
    // The proxies' p95 for the Service in the timeline crossed the delay while it was on.
    const p95 = record.timeline.samples.flatMap((s) =>
      Object.entries(s.series)
        .filter(([k, v]) => k.startsWith('p95{service=shop/model') && v !== null)
        .map(([, v]) => v!),
    );
    expect(Math.max(...p95)).toBeGreaterThanOrEqual(380);
    expect(html).toContain('method: model latency under the delay');
    expect(journal.status).toBe('completed');
    expect(journal.rollbacks).toEqual([
      expect.objectContaining({ name: 'remove the delay', status: 'succeeded' }),
    ]);
    expect(journal.steady_states.during.length).toBeGreaterThan(0);
    expect(out.passed).toBe(true);
    expect(record.status).toBe('passed');
  }, 240_000);
});
