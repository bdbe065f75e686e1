import { afterEach, describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../../kube/duration.ts';
import { startNetwork } from './helpers.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('metrics API', () => {
  it('parses Go durations', () => {
    expect(parseGoDuration('1m')).toBe(60_000);
    expect(parseGoDuration('30s')).toBe(30_000);
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('250ms')).toBe(250);
    expect(parseGoDuration('5')).toBeUndefined();
    expect(parseGoDuration('')).toBeUndefined();
    expect(parseGoDuration('1d')).toBeUndefined();
  });

  it('serves traffic figures at twin-metrics.twin-system, with 400 for bad parameters', async () => {
    const { net, clock } = await startNetwork();
    cleanups.push(() => net.stop());
    const ip = net.dns.resolve('twin-metrics.twin-system')![0]!;
    expect(net.metricsUrl.startsWith(`http://${ip}:`)).toBe(true);
    const now = clock.now();
    for (let i = 1; i <= 20; i++) {
      net.metrics.record({
        t: now,
        service: 'prod/api',
        version: i <= 10 ? 'v1' : 'v2',
        pod: 'p',
        status: i === 20 ? 500 : 200,
        latencyMs: i,
      });
    }
    const get = async (q: string) => {
      const res = await fetch(`${net.metricsUrl}/api/v1/traffic?${q}`);
      return { status: res.status, body: await res.json() };
    };
    expect(await get('service=prod/api&window=1m')).toEqual({
      status: 200,
      body: {
        service: 'prod/api',
        window: '1m',
        requests: 20,
        errors: 1,
        errorRate: 0.05,
        latency: { p50: 10, p95: 19, p99: 20 },
      },
    });
    expect((await get('service=prod/api&window=30s&version=v2')).body).toMatchObject({
      version: 'v2',
      requests: 10,
      errors: 1,
      errorRate: 0.1,
    });
    expect((await get('service=prod/none&window=30s')).body).toEqual({
      service: 'prod/none',
      window: '30s',
      requests: 0,
      errors: 0,
      errorRate: null,
      latency: { p50: null, p95: null, p99: null },
    });
    const bad = await get('service=api&window=1m');
    expect(bad.status).toBe(400);
    expect((bad.body as { error: string }).error).toMatch(/<namespace>\/<name>/);
    expect((await get('service=prod/api&window=soon')).status).toBe(400);
    expect((await get('service=prod/api')).status).toBe(400);
  });
});
