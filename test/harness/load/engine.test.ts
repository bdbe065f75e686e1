import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProfile } from '../../../harness/load/engine.ts';
import { arrivalTimes, vuTarget } from '../../../harness/load/schedule.ts';
import { validateProfile } from '../../../load/profile.ts';

/** A loopback server whose behaviour the test switches: stall (hold responses) or fail with a status. */
function testServer() {
  const state = { stallUntil: 0, status: 200, delayMs: 0, hits: 0, paths: new Map<string, number>() };
  const server = http.createServer((req, res) => {
    state.hits++;
    state.paths.set(req.url ?? '', (state.paths.get(req.url ?? '') ?? 0) + 1);
    const wait = Math.max(state.delayMs, state.stallUntil - performance.now());
    const answer = () => {
      res.writeHead(state.status, { 'content-type': 'text/plain' });
      res.end('ok');
    };
    if (wait > 0) setTimeout(answer, wait);
    else answer();
  });
  return { server, state };
}

const { server, state } = testServer();
let baseUrl = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const target = { kind: 'Service', namespace: 'test', name: 'server' } as const;

describe('arrival schedule', () => {
  it('constant-arrival-rate spaces iterations fractionally: 200/s for 5 s is 1000 starts', () => {
    const s = validateProfile({
      name: 'x',
      target,
      scenario: { executor: 'constant-arrival-rate', rate: 200, duration: '5s', preAllocatedVUs: 1 },
      requests: [{ path: '/' }],
    }).scenario as Extract<
      ReturnType<typeof validateProfile>['scenario'],
      { executor: 'constant-arrival-rate' }
    >;
    const times = [...arrivalTimes(s)];
    expect(times).toHaveLength(1000);
    expect(times[1]).toBeCloseTo(5);
    expect(times.at(-1)).toBeCloseTo(4995);
  });

  it('ramping-arrival-rate integrates the linear ramp (0→100/s over 10 s is 500 starts) and honours timeUnit', () => {
    const p = validateProfile({
      name: 'x',
      target,
      scenario: {
        executor: 'ramping-arrival-rate',
        startRate: 0,
        timeUnit: '1s',
        preAllocatedVUs: 1,
        stages: [
          { duration: '10s', target: 100 },
          { duration: '2s', target: 100 },
        ],
      },
      requests: [{ path: '/' }],
    });
    const times = [...arrivalTimes(p.scenario as never)];
    expect(times).toHaveLength(500 + 200);
    // Half the ramp's iterations fall in its last 30 % (the rate grows linearly).
    expect(times.filter((t) => t < 5000).length).toBe(125);
    const perMinute = validateProfile({
      ...p,
      scenario: {
        executor: 'constant-arrival-rate',
        rate: 60,
        timeUnit: '1m',
        duration: '10s',
        preAllocatedVUs: 1,
      },
    });
    expect([...arrivalTimes(perMinute.scenario as never)]).toHaveLength(10);
  });

  it('ramping-vus targets change linearly between stages', () => {
    const p = validateProfile({
      name: 'x',
      target,
      scenario: {
        executor: 'ramping-vus',
        startVUs: 0,
        stages: [
          { duration: '10s', target: 10 },
          { duration: '5s', target: 0 },
        ],
      },
      requests: [{ path: '/' }],
    });
    const s = p.scenario as never;
    expect(vuTarget(s, 0)).toBe(0);
    expect(vuTarget(s, 5000)).toBe(5);
    expect(vuTarget(s, 10_000)).toBe(10);
    expect(vuTarget(s, 12_500)).toBe(5);
    expect(vuTarget(s, 20_000)).toBe(0);
  });
});

describe('embedded engine', () => {
  it('an arrival rate of 200 req/s for 5 s sends 1000 ± 2 % requests, with k6 metric names', async () => {
    state.stallUntil = 0;
    state.status = 200;
    const hitsBefore = state.hits;
    const r = await runProfile(
      {
        name: 'timing',
        target,
        scenario: {
          executor: 'constant-arrival-rate',
          rate: 200,
          duration: '5s',
          // Enough VUs that none is dropped even when a loaded machine stalls the in-process server.
          preAllocatedVUs: 400,
          maxVUs: 400,
          gracefulStop: '20s',
        },
        requests: [
          { name: 'a', path: '/a', weight: 3 },
          { name: 'b', path: '/b', weight: 1 },
        ],
        thresholds: { http_req_failed: ['rate==0'], 'http_reqs{name:a}': ['count>600'] },
      },
      { baseUrl },
    );
    const sent = state.hits - hitsBefore;
    expect(sent).toBeGreaterThanOrEqual(980);
    expect(sent).toBeLessThanOrEqual(1020);
    const reqs = r.metrics['http_reqs']!.values['count']!;
    const dropped = r.metrics['dropped_iterations']!.values['count']!;
    expect(reqs + dropped).toBe(1000);
    expect(r.metrics['iterations']!.values['count']).toBe(reqs);
    expect(r.metrics['http_req_failed']!.values['rate']).toBe(0);
    expect(Object.keys(r.metrics)).toEqual(
      expect.arrayContaining([
        'http_reqs',
        'http_req_duration',
        'http_req_failed',
        'iterations',
        'vus',
        'vus_max',
        'dropped_iterations',
      ]),
    );
    expect(Object.keys(r.metrics['http_req_duration']!.values)).toEqual([
      'avg',
      'min',
      'med',
      'max',
      'p(90)',
      'p(95)',
      'p(99)',
    ]);
    // The weighted mix: 3:1.
    expect(state.paths.get('/a')! / state.paths.get('/b')!).toBeGreaterThan(2.7);
    expect(r.thresholds.every((t) => t.ok)).toBe(true);
    expect(r.timeline.length).toBeGreaterThanOrEqual(5);
  });

  it('measures from the scheduled send time: a 1 s stall of the server shows in p99 (no coordinated omission)', async () => {
    state.status = 200;
    const run = runProfile(
      {
        name: 'stall',
        target,
        scenario: {
          executor: 'constant-arrival-rate',
          rate: 100,
          duration: '4s',
          preAllocatedVUs: 150,
          maxVUs: 200,
        },
        requests: [{ path: '/stall' }],
        thresholds: { http_req_duration: ['p(99)<500', 'p(50)<500'] },
      },
      { baseUrl },
    );
    setTimeout(() => {
      state.stallUntil = performance.now() + 1000;
    }, 1500);
    const r = await run;
    state.stallUntil = 0;
    const d = r.metrics['http_req_duration']!.values;
    // ~100 requests (a quarter) arrived during the stall and waited up to 1 s: p90/p99 see it, the median does not.
    expect(d['p(99)']).toBeGreaterThan(800);
    expect(d['p(90)']).toBeGreaterThan(300);
    expect(d['med']).toBeLessThan(500);
    expect(d['max']).toBeGreaterThan(900);
    expect(r.thresholds.find((t) => t.expression === 'p(99)<500')).toMatchObject({ ok: false });
    expect(r.thresholds.find((t) => t.expression === 'p(50)<500')).toMatchObject({ ok: true });
    expect(r.metrics['dropped_iterations']!.values['count']).toBe(0);
    // The stalled second stands out on the latency-over-time series.
    expect(Math.max(...r.timeline.map((p) => p.p99 ?? 0))).toBeGreaterThan(800);
  });

  it('drops iterations as k6 does when no VU is free, and grows VUs only up to maxVUs', async () => {
    state.delayMs = 200;
    const r = await runProfile(
      {
        name: 'drops',
        target,
        scenario: {
          executor: 'constant-arrival-rate',
          rate: 50,
          duration: '2s',
          preAllocatedVUs: 2,
          maxVUs: 5,
          gracefulStop: '20s',
        },
        requests: [{ path: '/slow' }],
        thresholds: { dropped_iterations: ['count==0'] },
      },
      { baseUrl },
    );
    state.delayMs = 0;
    // 5 VUs × 200 ms per iteration can carry 25/s of the 50/s asked for.
    const dropped = r.metrics['dropped_iterations']!.values['count']!;
    expect(dropped).toBeGreaterThan(35);
    expect(r.metrics['vus_max']!.values['value']).toBe(5);
    expect(r.metrics['http_reqs']!.values['count']! + dropped).toBe(100);
    expect(r.thresholds[0]).toMatchObject({ metric: 'dropped_iterations', ok: false });
  });

  it('constant-vus is a closed loop; failures count in http_req_failed by k6 expected statuses', async () => {
    state.status = 503;
    const r = await runProfile(
      {
        name: 'vus',
        target,
        scenario: { executor: 'constant-vus', vus: 3, duration: '1s' },
        requests: [{ path: '/v' }],
        sleep: 0.05,
        thresholds: {
          http_req_failed: ['rate<0.01'],
          'http_req_duration{expected_response:true}': ['max==0'],
        },
      },
      { baseUrl },
    );
    state.status = 200;
    expect(r.metrics['http_req_failed']!.values['rate']).toBe(1);
    // 3 VUs × (request + 50 ms sleep) for 1 s: at most 3 × 20 iterations.
    expect(r.metrics['iterations']!.values['count']).toBeLessThanOrEqual(60);
    expect(r.metrics['iterations']!.values['count']).toBeGreaterThanOrEqual(3);
    expect(r.metrics['vus']!.values['max']).toBe(3);
    expect(r.thresholds.map((t) => t.ok)).toEqual([false, true]);
  });

  it('an abortOnFail threshold stops the test early and names itself', async () => {
    state.status = 500;
    const t0 = performance.now();
    const r = await runProfile(
      {
        name: 'abort',
        target,
        scenario: { executor: 'constant-arrival-rate', rate: 50, duration: '20s', preAllocatedVUs: 10 },
        requests: [{ path: '/e' }],
        thresholds: { http_req_failed: [{ threshold: 'rate<0.5', abortOnFail: true, delayAbortEval: '1s' }] },
      },
      { baseUrl },
    );
    state.status = 200;
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(r.abortedBy).toBe('http_req_failed: rate<0.5');
    expect(r.thresholds[0]).toMatchObject({ ok: false, abortOnFail: true });
  });

  it('connection errors are failed requests with status 0', async () => {
    const closed = http.createServer();
    await new Promise<void>((res) => closed.listen(0, '127.0.0.1', res));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((res) => closed.close(() => res()));
    const r = await runProfile(
      {
        name: 'refused',
        target,
        scenario: { executor: 'constant-arrival-rate', rate: 20, duration: '1s', preAllocatedVUs: 5 },
        requests: [{ path: '/' }],
        thresholds: { 'http_reqs{status:0}': ['count>=15'] },
      },
      { baseUrl: `http://127.0.0.1:${port}` },
    );
    expect(r.metrics['http_req_failed']!.values['rate']).toBe(1);
    expect(r.thresholds[0]!.ok).toBe(true);
  });
});
