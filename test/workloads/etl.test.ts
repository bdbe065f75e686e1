import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateReadings } from '../../workloads/etl/extract.ts';
import { qualityCheck } from '../../workloads/etl/quality-check.ts';
import { transform } from '../../workloads/etl/transform.ts';
import { runToExit } from './spawn-workload.ts';

function summaryOf(stdout: string) {
  const line = stdout.split('\n').find((l) => l.includes('"extracted"'));
  if (!line) throw new Error(`no summary line in:\n${stdout}`);
  return JSON.parse(line) as { extracted: number; transformed: number; rejected: number; loaded: number };
}

describe('etl stages', () => {
  it('transforms units and rejects missing and out-of-range values', () => {
    const readings = transform([
      { device_id: 'a', ts: 0, temp_f: 212, humidity: 50, vibration: 1 },
      { device_id: 'b', ts: 0, temp_f: null, humidity: 50, vibration: 1 },
      { device_id: 'c', ts: 0, temp_f: 68, humidity: 140, vibration: 1 },
      { device_id: 'd', ts: 0, temp_f: 68, humidity: 40, vibration: 1 },
    ]);
    expect(readings[0]).toMatchObject({ temperatureC: 100, timestamp: '1970-01-01T00:00:00.000Z' });
    const { accepted, rejected } = qualityCheck(readings);
    expect(accepted.map((r) => r.deviceId)).toEqual(['d']);
    expect(rejected.map((r) => r.reasons)).toEqual([
      ['temperatureC 100 outside -40..85'],
      ['temperatureC missing'],
      ['humidityPct 140 outside 0..100'],
    ]);
  });

  it('generates a reproducible batch for a seed', () => {
    const a = generateReadings(50, { seed: 7, invalidRatio: 0.1, now: 0 });
    expect(generateReadings(50, { seed: 7, invalidRatio: 0.1, now: 0 })).toEqual(a);
  });
});

describe('etl job', () => {
  it('prints the summary and exits 0 on a healthy batch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'etl-'));
    const out = join(dir, 'out.jsonl');
    const { code, stdout } = await runToExit('workloads/etl/main.ts', {
      BATCH_SIZE: '500',
      SEED: '42',
      INJECT_INVALID_RATIO: '0.02',
      OUTPUT_PATH: out,
    });
    expect(code).toBe(0);
    const s = summaryOf(stdout);
    expect(s.extracted).toBe(500);
    expect(s.transformed).toBe(500);
    expect(s.rejected).toBeGreaterThan(0);
    expect(s.loaded).toBe(500 - s.rejected);
    expect((await readFile(out, 'utf8')).trim().split('\n')).toHaveLength(s.loaded);
  });

  it('exits 1 and loads nothing when the reject ratio exceeds QUALITY_MAX_REJECT_RATIO', async () => {
    const { code, stdout } = await runToExit('workloads/etl/main.ts', {
      BATCH_SIZE: '200',
      SEED: '1',
      INJECT_INVALID_RATIO: '0.5',
      QUALITY_MAX_REJECT_RATIO: '0.1',
    });
    expect(code).toBe(1);
    const s = summaryOf(stdout);
    expect(s.rejected / s.transformed).toBeGreaterThan(0.1);
    expect(s.loaded).toBe(0);
  });

  it('reads a batch from INPUT_PATH', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'etl-'));
    const input = join(dir, 'in.jsonl');
    await writeFile(
      input,
      [
        { device_id: 'x', ts: 1, temp_f: 70, humidity: 40, vibration: 2 },
        { device_id: 'y', ts: 1, temp_f: 70, humidity: 40 },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const { code, stdout } = await runToExit('workloads/etl/main.ts', {
      INPUT_PATH: input,
      QUALITY_MAX_REJECT_RATIO: '0.5',
    });
    expect(code).toBe(0);
    expect(summaryOf(stdout)).toMatchObject({ extracted: 2, transformed: 2, rejected: 1, loaded: 1 });
  });
});
