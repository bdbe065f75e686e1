import { describe, expect, it } from 'vitest';
import { versionOf } from '../../../twin/network/pod-version.ts';
import { TrafficMetrics } from '../../../twin/network/traffic-metrics.ts';
import { pod } from './helpers.ts';

function metrics(options?: ConstructorParameters<typeof TrafficMetrics>[1]) {
  const clock = {
    t: 1_000_000,
    now() {
      return this.t;
    },
  };
  return { clock, m: new TrafficMetrics(clock, options) };
}

describe('TrafficMetrics', () => {
  it('counts requests, errors and nearest-rank percentiles per version over a control-plane window', () => {
    const { clock, m } = metrics();
    for (let i = 1; i <= 100; i++)
      m.record({ t: clock.t, service: 'prod/api', version: 'v1', pod: 'prod/a', status: 200, latencyMs: i });
    for (let i = 0; i < 10; i++)
      m.record({
        t: clock.t,
        service: 'prod/api',
        version: 'v2',
        pod: 'prod/b',
        status: i < 3 ? 503 : 200,
        latencyMs: 5,
      });
    m.record({
      t: clock.t,
      service: 'prod/api',
      version: 'v2',
      pod: 'prod/b',
      status: 0,
      latencyMs: 1,
      error: 'ECONNREFUSED',
    });
    expect(m.query('prod/api', 60_000, 'v1')).toEqual({
      requests: 100,
      errors: 0,
      errorRate: 0,
      p50: 50,
      p95: 95,
      p99: 99,
    });
    const v2 = m.query('prod/api', 60_000, 'v2');
    expect(v2.requests).toBe(11);
    expect(v2.errors).toBe(4);
    expect(Object.keys(m.byVersion('prod/api', 60_000))).toEqual(['v1', 'v2']);
    expect(m.query('prod/api', 60_000).requests).toBe(111);
    clock.t += 61_000;
    expect(m.query('prod/api', 60_000)).toEqual({
      requests: 0,
      errors: 0,
      errorRate: null,
      p50: null,
      p95: null,
      p99: null,
    });
    expect(m.query('prod/api', 120_000).requests).toBe(111);
    expect(m.query('prod/other', 60_000).errorRate).toBeNull();
    expect(m.byVersion('prod/other', 60_000)).toEqual({});
  });

  it('keeps memory bounded by retention and sample count', () => {
    const { clock, m } = metrics({ retentionMs: 10_000, maxSamples: 50_000 });
    for (let i = 0; i < 200_000; i++) {
      clock.t += 1;
      m.record({ t: clock.t, service: 'prod/api', version: 'v1', pod: 'p', status: 200, latencyMs: 1 });
    }
    expect(m.sampleCount).toBeLessThanOrEqual(50_000);
    expect(m.query('prod/api', 5_000).requests).toBe(5_000);
    clock.t += 20_000;
    for (let i = 0; i < 1024; i++)
      m.record({ t: clock.t, service: 'prod/web', version: 'v1', pod: 'p', status: 200, latencyMs: 1 });
    expect(m.query('prod/api', 1e9).requests).toBe(0);
  });

  it('takes the version from app.kubernetes.io/version, then the pod-template hashes', () => {
    expect(
      versionOf(pod('a', 'p', { 'app.kubernetes.io/version': '1.2.3', 'pod-template-hash': 'abc' })),
    ).toBe('1.2.3');
    expect(versionOf(pod('a', 'p', { 'rollouts-pod-template-hash': 'r1', 'pod-template-hash': 'abc' }))).toBe(
      'r1',
    );
    expect(versionOf(pod('a', 'p', { 'pod-template-hash': 'abc' }))).toBe('abc');
    expect(versionOf(pod('a', 'p'))).toBe('unknown');
  });
});
