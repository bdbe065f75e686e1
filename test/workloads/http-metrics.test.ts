import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpMetrics, routeOf } from '../../workloads/lib/http-metrics.ts';
import { runToExit, type SpawnedWorkload, spawnWorkload } from './spawn-workload.ts';

/** Sample lines of a text exposition whose name is `name` and whose labels include every pair of `labels`. */
function samples(text: string, name: string, labels: Record<string, string> = {}): number[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .map((l) => Number(l.split(' ').at(-1)));
}

describe('request metrics', () => {
  it('names the route template, never the raw path', () => {
    const routes = ['/api/v1/version', '/api/v1/devices/:device/prediction'];
    expect(routeOf(routes, '/api/v1/devices/d-17/prediction')).toBe('/api/v1/devices/:device/prediction');
    expect(routeOf(routes, '/api/v1/devices//prediction')).toBe('unmatched');
    expect(routeOf(routes, '/api/v1/version')).toBe('/api/v1/version');
    expect(routeOf(routes, '/etc/passwd')).toBe('unmatched');
  });

  it('counts requests and observes their duration in the histogram buckets', async () => {
    const m = httpMetrics({ defaultMetrics: false });
    m.observe('GET', '/', 200, 0.003);
    m.observe('GET', '/', 200, 0.7);
    m.observe('GET', '/', 500, 0.02);
    const text = await m.registry.metrics();
    expect(samples(text, 'http_requests_total', { code: '200', route: '/', method: 'GET' })).toEqual([2]);
    expect(samples(text, 'http_requests_total', { code: '500' })).toEqual([1]);
    expect(samples(text, 'http_request_duration_seconds_bucket', { code: '200', le: '0.005' })).toEqual([1]);
    expect(samples(text, 'http_request_duration_seconds_bucket', { code: '200', le: '0.5' })).toEqual([1]);
    expect(samples(text, 'http_request_duration_seconds_bucket', { code: '200', le: '1' })).toEqual([2]);
    expect(samples(text, 'http_request_duration_seconds_bucket', { code: '200', le: '+Inf' })).toEqual([2]);
    expect(samples(text, 'http_request_duration_seconds_count', { code: '500' })).toEqual([1]);
    expect(text).not.toMatch(/service=|namespace=|pod=/);
  });
});

describe('a live api exports its metrics on /metrics', () => {
  let inference: SpawnedWorkload;
  let api: SpawnedWorkload;
  beforeAll(async () => {
    inference = await spawnWorkload('workloads/inference/server.ts');
    await inference.waitReady();
    api = await spawnWorkload('workloads/api/server.ts', {
      INFERENCE_URL: inference.url,
      BUILD_VERSION: '1.2.3',
    });
    await api.waitReady();
  });
  afterAll(async () => {
    await api?.stop();
    await inference?.stop();
  });

  it('counts application requests by route and code, and leaves probes and scrapes out', async () => {
    for (let i = 0; i < 3; i++) await (await fetch(`${api.url}/api/v1/version`)).text();
    await (await fetch(`${api.url}/api/v1/devices/d-1/prediction`)).text();
    await (await fetch(`${api.url}/nope`)).text();
    for (let i = 0; i < 5; i++) await (await fetch(`${api.url}/readyz`)).text();
    await (await fetch(`${api.url}/metrics`)).text();
    const res = await fetch(`${api.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(samples(text, 'http_requests_total', { route: '/api/v1/version', code: '200' })).toEqual([3]);
    expect(
      samples(text, 'http_requests_total', { route: '/api/v1/devices/:device/prediction' }),
    ).toHaveLength(1);
    expect(samples(text, 'http_requests_total', { route: 'unmatched', code: '404' })).toEqual([1]);
    expect(text).not.toContain('/readyz');
    expect(text).not.toContain('route="/metrics"');
    expect(samples(text, 'process_cpu_seconds_total')).toHaveLength(1);
    expect(samples(text, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
  });
});

describe('etl job metrics', () => {
  it('pushes the batch figures, without process metrics, to PUSHGATEWAY_URL', async () => {
    const pushes: Array<{ method: string; url: string; body: string }> = [];
    const gateway = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        pushes.push({ method: req.method ?? '', url: req.url ?? '', body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    try {
      const { code } = await runToExit('workloads/etl/main.ts', {
        BATCH_SIZE: '100',
        SEED: '3',
        PUSHGATEWAY_URL: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`,
      });
      expect(code).toBe(0);
      expect(pushes).toHaveLength(1);
      expect(pushes[0]).toMatchObject({ method: 'POST', url: '/metrics/job/etl' });
      expect(samples(pushes[0]!.body, 'etl_batch_records', { stage: 'extracted' })).toEqual([100]);
      expect(samples(pushes[0]!.body, 'etl_batch_passed')).toEqual([1]);
      expect(pushes[0]!.body).not.toContain('process_cpu_seconds_total');
    } finally {
      gateway.close();
    }
  });
});
