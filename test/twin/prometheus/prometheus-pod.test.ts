import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Environment } from '../../../env/environment.ts';
import { upEnvironment } from '../../../env/registry.ts';
import { hasKubectl } from '../../infra/manifests.ts';

/**
 * The Prometheus image as a live pod of the twin: the manifest's own arguments, its config from a
 * ConfigMap volume, scraping a live workload through its Service's cluster DNS name, on the
 * control-plane clock (×100 here: a 15 s scrape interval is 150 ms of real time).
 */
describe.skipIf(!hasKubectl())('the twin Prometheus as a pod (needs kubectl to render the fixture)', () => {
  let env: Environment;
  let prometheus: string;
  const query = async (q: string) => {
    const res = await fetch(`${prometheus}/api/v1/query?${new URLSearchParams({ query: q })}`);
    return (
      (await res.json()) as {
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      }
    ).data.result;
  };

  beforeAll(async () => {
    env = await upEnvironment('local', {
      system: 'test/fixtures/systems/prometheus-static',
      overlay: 'local',
      timeScale: 100,
      workDir: mkdtempSync(path.join(tmpdir(), 'twin-prom-pod-')),
    });
    prometheus = await env.net.serviceUrl({ namespace: 'metrics', name: 'prometheus' });
  }, 120_000);

  afterAll(async () => {
    await env?.down();
  });

  it('scrapes the workload through its Service on the control-plane clock', async () => {
    const app = await env.net.serviceUrl({ namespace: 'metrics', name: 'app' });
    for (let i = 0; i < 5; i++) await (await fetch(`${app}/v1/model`)).text();
    const deadline = Date.now() + 30_000;
    let requests: Awaited<ReturnType<typeof query>> = [];
    while (Date.now() < deadline) {
      requests = await query('http_requests_total{route="/v1/model"}');
      if (requests.length > 0 && Number(requests[0]!.value[1]) >= 5) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(requests[0]?.metric).toMatchObject({
      job: 'app',
      service: 'app',
      instance: 'app.metrics.svc.cluster.local:80',
      code: '200',
      method: 'GET',
    });
    expect(Number(requests[0]!.value[1])).toBeGreaterThanOrEqual(5);
    await new Promise((r) => setTimeout(r, 1000)); // 100 s of control-plane time
    const [up] = await query('up{job="app"}');
    expect(up?.value[1]).toBe('1');
    // Timestamps are control-plane time (far ahead of the machine's clock at ×100), 15 s apart.
    const [ts] = await query('timestamp(up{job="app"})');
    const sampleMs = Number(ts!.value[1]) * 1000;
    expect(Math.abs(sampleMs - env.clock.now())).toBeLessThan(60_000);
    expect(sampleMs - Date.now()).toBeGreaterThan(60_000); // not the machine's clock: at ×100 the lead is minutes even on a loaded machine
    const [count] = await query('count_over_time(up{job="app"}[1m])');
    expect(Number(count!.value[1])).toBeGreaterThanOrEqual(3);
    expect(Number(count!.value[1])).toBeLessThanOrEqual(5);
    const [interval] = await query(
      'max_over_time(timestamp(up{job="app"})[2m:15s]) - min_over_time(timestamp(up{job="app"})[2m:15s])',
    );
    expect(Number(interval!.value[1])).toBeGreaterThan(60);
  }, 60_000);
});
