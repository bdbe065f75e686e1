import { describe, expect, it } from 'vitest';
import { labelsFrom, labelsToRecord } from '../../../../twin/prometheus/labels.ts';
import { DEFAULT_ENGINE_OPTIONS, Engine } from '../../../../twin/prometheus/promql/engine.ts';
import { bucketQuantile } from '../../../../twin/prometheus/promql/histogram-quantile.ts';
import { Head } from '../../../../twin/prometheus/tsdb/head.ts';

function headWith(
  series: Array<{ labels: Record<string, string>; samples: Array<[number, number] | [number, 'stale']> }>,
) {
  const head = new Head();
  for (const s of series) {
    const { series: mem } = head.getOrCreate(labelsFrom(s.labels));
    for (const [t, v] of s.samples) head.append(mem, t * 1000, v === 'stale' ? Number.NaN : v, v === 'stale');
  }
  return new Engine(head, DEFAULT_ENGINE_OPTIONS);
}

function values(engine: Engine, q: string, t: number) {
  const r = engine.instantQuery(q, t * 1000);
  if (r.type === 'scalar') return r.v;
  if (r.type !== 'vector') throw new Error(`not a vector: ${r.type}`);
  return r.samples.map((s) => ({ ...labelsToRecord(s.labels), value: s.v }));
}

describe('PromQL evaluation', () => {
  it('looks back 5 minutes (inclusive) for the latest sample, and a staleness marker ends a series', () => {
    const e = headWith([
      {
        labels: { __name__: 'g', i: '1' },
        samples: [
          [0, 1],
          [60, 2],
        ],
      },
      {
        labels: { __name__: 'g', i: '2' },
        samples: [
          [0, 5],
          [30, 'stale'],
        ],
      },
    ]);
    expect(values(e, 'g', 360)).toEqual([{ __name__: 'g', i: '1', value: 2 }]);
    expect(values(e, 'g', 361)).toEqual([]);
    expect(values(e, 'g', 29)).toEqual([
      { __name__: 'g', i: '1', value: 1 },
      { __name__: 'g', i: '2', value: 5 },
    ]);
    expect(values(e, 'g offset 1m', 120)).toEqual([{ __name__: 'g', i: '1', value: 2 }]);
    expect(values(e, 'g @ 10', 1000)).toHaveLength(2);
  });

  it('extrapolates rate and increase to the window as Prometheus does', () => {
    // A counter sampled every 15 s, +30 per sample (2/s), starting at 0 at t=15.
    const samples: Array<[number, number]> = [];
    for (let t = 15; t <= 300; t += 15) samples.push([t, (t - 15) * 2]);
    const e = headWith([{ labels: { __name__: 'c_total' }, samples }]);
    // Window (240, 300]: 4 samples 255..300 cover 45 s; 15 s to the start is within 1.1 × 15 s.
    expect(values(e, 'rate(c_total[1m])', 300)).toEqual([{ value: 2 }]);
    expect(values(e, 'increase(c_total[1m])', 300)).toEqual([{ value: 120 }]);
    // At t=20 the window (−40, 20] holds one sample: no rate.
    expect(values(e, 'rate(c_total[1m])', 20)).toEqual([]);
    // Near the counter's start it is not extrapolated below zero: [0, 45] from 0 to 60.
    expect(values(e, 'increase(c_total[1m])', 45)).toEqual([{ value: 60 }]);
  });

  it('adds counter resets back in rate, and irate takes the last two samples', () => {
    const e = headWith([
      {
        labels: { __name__: 'c_total' },
        samples: [
          [0, 10],
          [15, 20],
          [30, 5],
          [45, 15],
        ],
      },
    ]);
    // 10 → 20 → reset → 5 → 15: increase 10 + 5 + 10 = 25 over 45 s of samples in [-15, 45].
    expect(values(e, 'increase(c_total[1m])', 45)).toEqual([{ value: 25 * (60 / 45) }]);
    expect(values(e, 'irate(c_total[1m])', 45)).toEqual([{ value: 10 / 15 }]);
    expect(values(e, 'resets(c_total[1m])', 45)).toEqual([{ value: 1 }]);
  });

  it('computes histogram_quantile with Prometheus interpolation and edge cases', () => {
    const b = (upperBound: number, count: number) => ({ upperBound, count });
    expect(bucketQuantile(0.5, [b(0.1, 50), b(0.5, 90), b(Number.POSITIVE_INFINITY, 100)])).toBe(0.1);
    expect(bucketQuantile(0.95, [b(0.1, 50), b(0.5, 90), b(Number.POSITIVE_INFINITY, 100)])).toBe(0.5);
    expect(bucketQuantile(0.7, [b(0.1, 50), b(0.5, 90), b(Number.POSITIVE_INFINITY, 100)])).toBeCloseTo(0.3);
    expect(bucketQuantile(0.9, [b(0.1, 50), b(0.5, 90)])).toBeNaN(); // no +Inf bucket
    expect(bucketQuantile(0.5, [b(Number.POSITIVE_INFINITY, 0), b(1, 0)])).toBeNaN(); // no observations
    expect(bucketQuantile(-1, [b(1, 1), b(Number.POSITIVE_INFINITY, 1)])).toBe(Number.NEGATIVE_INFINITY);
    expect(bucketQuantile(2, [b(1, 1), b(Number.POSITIVE_INFINITY, 1)])).toBe(Number.POSITIVE_INFINITY);
    // Non-monotonic counts are forced monotonic.
    expect(bucketQuantile(0.5, [b(1, 10), b(2, 8), b(Number.POSITIVE_INFINITY, 20)])).toBe(1);
  });

  it('matches vectors one-to-one, many-to-one and rejects ambiguous matches', () => {
    const e = headWith([
      { labels: { __name__: 'req', code: '200', pod: 'a' }, samples: [[0, 90]] },
      { labels: { __name__: 'req', code: '500', pod: 'a' }, samples: [[0, 10]] },
      { labels: { __name__: 'total', pod: 'a', zone: 'z1' }, samples: [[0, 100]] },
    ]);
    expect(values(e, 'req / ignoring(code, zone) group_left total', 0)).toEqual([
      { code: '200', pod: 'a', value: 0.9 },
      { code: '500', pod: 'a', value: 0.1 },
    ]);
    expect(values(e, 'req / on(pod) group_left(zone) total', 0)).toEqual([
      { code: '200', pod: 'a', zone: 'z1', value: 0.9 },
      { code: '500', pod: 'a', zone: 'z1', value: 0.1 },
    ]);
    expect(() => values(e, 'total / on(pod) req', 0)).toThrow(
      'found duplicate series for the match group {pod="a"} on the right hand-side of the operation',
    );
    expect(() => values(e, 'req / on(pod) total', 0)).toThrow(
      'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
    );
    expect(() => values(e, '{__name__=~"req|total"} * 2', 0)).not.toThrow();
    expect(() => values(e, 'abs({__name__=~"req"})', 0)).not.toThrow();
  });

  it('evaluates subqueries at multiples of their step', () => {
    const e = headWith([
      {
        labels: { __name__: 'g' },
        samples: [
          [0, 1],
          [60, 2],
          [120, 3],
          [180, 4],
        ],
      },
    ]);
    // Steps 0, 60, 120, 180 within [0, 180] of count_over_time(g[3m:1m]) at 180.
    expect(values(e, 'count_over_time(g[3m:1m])', 180)).toEqual([{ value: 4 }]);
    expect(values(e, 'max_over_time(g[3m:1m] offset 1m)', 180)).toEqual([{ value: 3 }]);
  });

  it('answers a query over a few thousand series quickly (no timing assertion: see the bench)', () => {
    const head = new Head();
    for (let i = 0; i < 3000; i++) {
      const { series } = head.getOrCreate(
        labelsFrom({
          __name__: 'http_requests_total',
          pod: `p${i % 30}`,
          service: i % 2 ? 'api-canary' : 'api-stable',
          code: String(200 + (i % 5) * 100),
          route: `/r${i}`,
        }),
      );
      for (let t = 0; t <= 600; t += 15) head.append(series, t * 1000, t * (i % 7));
    }
    const engine = new Engine(head, DEFAULT_ENGINE_OPTIONS);
    const r = engine.instantQuery(
      '(sum(rate(http_requests_total{service="api-canary",code=~"5.."}[1m])) or vector(0)) / sum(rate(http_requests_total{service="api-canary"}[1m]))',
      600_000,
    );
    expect(r.type).toBe('vector');
  });
});
