import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultInjector } from '../../workloads/api/fault-injector.ts';
import { runToExit, type SpawnedWorkload, spawnWorkload } from './spawn-workload.ts';

describe('api fault injector', () => {
  it('fails the configured fraction of requests', async () => {
    let i = 0;
    const sequence = () => (i++ % 10) / 10;
    const faults = faultInjector(0.2, 0, sequence);
    const outcomes = await Promise.all(Array.from({ length: 100 }, () => faults.apply()));
    expect(outcomes.filter(Boolean)).toHaveLength(20);
  });
});

describe('api with a live inference', () => {
  let inference: SpawnedWorkload;
  let api: SpawnedWorkload;
  beforeAll(async () => {
    inference = await spawnWorkload('workloads/inference/server.ts');
    await inference.waitReady();
    api = await spawnWorkload('workloads/api/server.ts', {
      INFERENCE_URL: inference.url,
      BUILD_VERSION: '1.2.3',
      POD_NAME: 'api-abc',
    });
    await api.waitReady();
  });
  afterAll(async () => {
    await api?.stop();
    await inference?.stop();
  });

  it('answers the probes and the version with x-app-version', async () => {
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
    const res = await fetch(`${api.url}/api/v1/version`);
    expect(res.headers.get('x-app-version')).toBe('1.2.3');
    expect(await res.json()).toEqual({ version: '1.2.3', pod: 'api-abc' });
  });

  it('predicts through inference by GET and POST', async () => {
    const get = await fetch(`${api.url}/api/v1/predict?sensor=s-1&value=21`);
    expect(get.status).toBe(200);
    expect(await get.json()).toMatchObject({
      sensor: 's-1',
      prediction: { score: expect.any(Number), label: expect.any(String) },
      model: '2024.06.1',
      version: '1.2.3',
    });
    const post = await fetch(`${api.url}/api/v1/predict`, {
      method: 'POST',
      body: JSON.stringify({ features: [30, 50, 7] }),
    });
    expect(await post.json()).toMatchObject({ prediction: { label: 'anomaly' }, version: '1.2.3' });
  });

  it('answers 400 on bad input, also when inference rejects the features', async () => {
    expect((await fetch(`${api.url}/api/v1/predict?sensor=s-1&value=abc`)).status).toBe(400);
    const res = await fetch(`${api.url}/api/v1/predict`, {
      method: 'POST',
      body: JSON.stringify({ features: [1] }),
    });
    expect(res.status).toBe(400);
  });

  it('answers 404 outside its routes', async () => {
    expect((await fetch(`${api.url}/nope`)).status).toBe(404);
  });
});

describe('api faults and failures', () => {
  it('answers 502 JSON when inference is unreachable', async () => {
    const api = await spawnWorkload('workloads/api/server.ts', { INFERENCE_URL: 'http://127.0.0.1:9' });
    try {
      const res = await fetch(`${api.url}/api/v1/predict?sensor=s&value=1`);
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: string }).error).toMatch(/inference unreachable/);
    } finally {
      await api.stop();
    }
  });

  it('fails about FAULT_ERROR_RATE of /api requests with 500 "injected fault"', async () => {
    const api = await spawnWorkload('workloads/api/server.ts', {
      FAULT_ERROR_RATE: '0.2',
      BUILD_VERSION: 'bad',
    });
    try {
      let failed = 0;
      for (let batch = 0; batch < 10; batch++) {
        const statuses = await Promise.all(
          Array.from({ length: 50 }, async () => {
            const res = await fetch(`${api.url}/api/v1/version`);
            if (res.status === 500) expect(await res.json()).toEqual({ error: 'injected fault' });
            else await res.arrayBuffer();
            return res.status;
          }),
        );
        failed += statuses.filter((s) => s === 500).length;
      }
      // Binomial(500, 0.2): mean 100, sd ≈ 9; the band is ±4.5 sd.
      expect(failed).toBeGreaterThan(60);
      expect(failed).toBeLessThan(140);
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    } finally {
      await api.stop();
    }
  });

  it('adds FAULT_LATENCY_MS to /api requests', async () => {
    const api = await spawnWorkload('workloads/api/server.ts', { FAULT_LATENCY_MS: '200' });
    try {
      const started = performance.now();
      expect((await fetch(`${api.url}/api/v1/version`)).status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    } finally {
      await api.stop();
    }
  });

  it('exits 1 with a message on a bad FAULT_ERROR_RATE', async () => {
    const result = await runToExit('workloads/api/server.ts', { FAULT_ERROR_RATE: '1.5', PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/FAULT_ERROR_RATE="1.5" is not a number in 0..1/);
  });

  it('turns unready and exits 0 on SIGTERM', async () => {
    const api = await spawnWorkload('workloads/api/server.ts', { SHUTDOWN_DELAY_MS: '300' });
    await api.waitReady();
    api.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${api.url}/readyz`)).status).toBe(503);
    expect(await api.stop()).toBe(0);
    expect(api.output()).toMatch(/"msg":"stopped"/);
  });
});
