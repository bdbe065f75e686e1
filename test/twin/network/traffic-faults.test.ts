import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../core/seeded-random.ts';
import { retransmissionDelayMs, TrafficFaults } from '../../../twin/network/traffic-faults.ts';
import { closeAll, endpoints, getText, pod, service, startNetwork, startPod } from './helpers.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('traffic faults (pure)', () => {
  const req = {
    pod: 'prod/api-a',
    port: 8080,
    client: '127.10.1.7',
    method: 'GET',
    path: '/api/v1/predict?x=1',
  };

  it('applies a rule only to its pods, its peers and its HTTP requests', () => {
    const f = new TrafficFaults();
    expect(f.effect(req)).toEqual({ delayMs: 0, unreachable: false, abort: false, by: [] });
    f.add({ id: 'delay', pods: new Set(['prod/api-a']), delay: { latencyMs: 300 } });
    expect(f.effect(req)).toMatchObject({ delayMs: 300, by: ['delay'] });
    expect(f.effect({ ...req, pod: 'prod/api-b' }).by).toEqual([]);
    f.add({ id: 'peer', pods: new Set(['prod/api-a']), peers: new Set(['127.10.9.9']), partition: true });
    expect(f.effect(req).unreachable).toBe(false);
    expect(f.effect({ ...req, client: '::ffff:127.10.9.9' }).unreachable).toBe(true);
    f.add({
      id: 'http',
      pods: new Set(['prod/api-a']),
      http: { port: 8080, path: '/api/*', method: 'GET', code: 503 },
    });
    expect(f.effect(req).code).toBe(503);
    expect(f.effect({ ...req, path: '/healthz' }).code).toBeUndefined();
    expect(f.effect({ ...req, method: 'POST' }).code).toBeUndefined();
    expect(f.remove('http')).toBe(true);
    expect(f.remove('http')).toBe(false);
    expect(f.ids()).toEqual(['delay', 'peer']);
  });

  it('keeps jitter within latency ± jitter, the same sequence for the same rule', () => {
    const a = new TrafficFaults();
    const b = new TrafficFaults();
    for (const f of [a, b])
      f.add({ id: 'j', pods: new Set(['prod/api-a']), delay: { latencyMs: 100, jitterMs: 20 } });
    const seqA = Array.from({ length: 50 }, () => a.effect(req).delayMs);
    const seqB = Array.from({ length: 50 }, () => b.effect(req).delayMs);
    expect(seqA).toEqual(seqB);
    expect(Math.min(...seqA)).toBeGreaterThanOrEqual(80);
    expect(Math.max(...seqA)).toBeLessThanOrEqual(120);
    expect(new Set(seqA).size).toBeGreaterThan(10);
  });

  it('plays loss as TCP retransmissions: none at 0 %, never at 100 %, about 2p × 200 ms on average', () => {
    const random = seededRandom(1);
    expect(retransmissionDelayMs(0, random)).toBe(0);
    expect(retransmissionDelayMs(1, random)).toBeUndefined();
    const samples = Array.from({ length: 4000 }, () => retransmissionDelayMs(0.1, random)!);
    const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
    // Two packets, each lost with p = 0.1: E ≈ 2 × (0.1 × 200 + 0.01 × 400 + …) ≈ 50 ms.
    expect(mean).toBeGreaterThan(35);
    expect(mean).toBeLessThan(65);
    expect(samples.filter((s) => s === 0).length / samples.length).toBeCloseTo(0.81, 1);
  });
});

describe('traffic faults at the proxies', () => {
  async function api() {
    const { store, net } = await startNetwork();
    cleanups.push(() => net.stop());
    const a = await startPod('127.10.1.2', 'api-a');
    cleanups.push(() => closeAll([a.server]));
    store.create(pod('prod', 'api-a'));
    store.create(service('prod', 'api', [{ name: 'http', port: 8080, targetPort: 'http' }]));
    store.create(
      endpoints('prod', 'api', [{ ip: '127.10.1.2', pod: 'api-a' }], [{ name: 'http', port: a.port }]),
    );
    const url = await net.serviceUrl({ namespace: 'prod', name: 'api', port: 'http' });
    return { net, url, port: a.port };
  }

  it('delays requests to the selected pod, and the delay ends when the rule is removed', async () => {
    const { net, url } = await api();
    const t0 = performance.now();
    expect((await getText(`${url}/a`)).status).toBe(200);
    const before = performance.now() - t0;
    net.trafficFaults.add({
      id: 'NetworkChaos prod/api-delay',
      pods: new Set(['prod/api-a']),
      delay: { latencyMs: 400 },
    });
    const t1 = performance.now();
    expect((await getText(`${url}/b`)).status).toBe(200);
    expect(performance.now() - t1).toBeGreaterThanOrEqual(390);
    net.trafficFaults.remove('NetworkChaos prod/api-delay');
    const t2 = performance.now();
    expect((await getText(`${url}/c`)).status).toBe(200);
    expect(performance.now() - t2).toBeLessThan(before + 300);
    // The proxy's own figures carry the latency (the report's p95 shows it).
    const s = net.metrics.query('prod/api', 60_000);
    expect(s.p99).toBeGreaterThanOrEqual(390);
  });

  it('answers HTTPChaos replace.code and resets on abort (kube-proxy passes the reset through)', async () => {
    const { net, url, port } = await api();
    net.trafficFaults.add({
      id: 'code',
      pods: new Set(['prod/api-a']),
      http: { port, path: '/api/*', code: 503 },
    });
    expect((await getText(`${url}/api/v1/version`)).status).toBe(503);
    expect((await getText(`${url}/other`)).status).toBe(200);
    net.trafficFaults.remove('code');
    net.trafficFaults.add({ id: 'abort', pods: new Set(['prod/api-a']), http: { abort: true } });
    await expect(getText(`${url}/x`)).rejects.toThrow();
    const s = net.metrics.query('prod/api', 60_000);
    expect(s.errors).toBe(2);
  });
});
