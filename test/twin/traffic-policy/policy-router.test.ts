import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../core/seeded-random.ts';
import { parseRetryOn, retryPolicy } from '../../../twin/traffic-policy/retry-policy.ts';
import type { Route, RouteTable } from '../../../twin/traffic-policy/route-table.ts';
import { call, cluster, front, upstream } from './engine-harness.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function table(...routes: Route[]): RouteTable {
  return { source: 'test', routes };
}

function to(
  clusterName: string,
  extra: Partial<Extract<Route['action'], { type: 'route' }>> = {},
): Route['action'] {
  return { type: 'route', clusters: [{ cluster: clusterName, weight: 100 }], timeoutMs: 0, ...extra };
}

async function up(name: string, handler?: Parameters<typeof upstream>[1]) {
  const u = await upstream(name, handler);
  cleanups.push(() => new Promise((r) => u.server.close(r)));
  return u;
}

async function serve(t: () => RouteTable, clusters: Parameters<typeof front>[1], random?: () => number) {
  const f = await front(t, clusters, random);
  cleanups.push(f.close);
  return f;
}

describe('traffic-policy engine: routing', () => {
  it('matches routes in order by prefix, exact path and header, and splits by weight', async () => {
    const a = await up('a');
    const b = await up('b');
    const routes = table(
      { name: 'exact', matches: [{ path: { exact: '/v1/exact' } }], action: to('b') },
      {
        name: 'header',
        matches: [{ path: { prefix: '/v1/' }, headers: [{ name: 'x-canary', value: { exact: 'yes' } }] }],
        action: to('b'),
      },
      { name: 'prefix', matches: [{ path: { prefix: '/v1/' } }], action: to('a') },
      {
        name: 'split',
        matches: [{ path: { prefix: '/split' } }],
        action: {
          type: 'route',
          clusters: [
            { cluster: 'a', weight: 80 },
            { cluster: 'b', weight: 20 },
          ],
          timeoutMs: 0,
        },
      },
    );
    const f = await serve(() => routes, [cluster('a', [a.host]), cluster('b', [b.host])], seededRandom(7));
    expect((await call(`${f.url}/v1/exact`)).body).toBe('b /v1/exact');
    expect((await call(`${f.url}/v1/jobs`)).body).toBe('a /v1/jobs');
    expect((await call(`${f.url}/v1/jobs`, { headers: { 'x-canary': 'yes' } })).body).toBe('b /v1/jobs');
    const none = await call(`${f.url}/other`);
    expect(none.status).toBe(404);
    expect(f.results.at(-1)?.flags).toEqual(['NR']);
    let toA = 0;
    for (let i = 0; i < 200; i++) if ((await call(`${f.url}/split`)).body.startsWith('a ')) toA++;
    expect(toA).toBeGreaterThan(130);
    expect(toA).toBeLessThan(190);
  });

  it('rewrites the matched prefix and redirects HTTP to HTTPS', async () => {
    const a = await up('a');
    const routes = table(
      { name: 'api', matches: [{ path: { prefix: '/api/' } }], action: to('a', { rewritePath: '/' }) },
      { name: 'redirect', matches: [], action: { type: 'redirect', scheme: 'https', status: 301 } },
    );
    const f = await serve(() => routes, [cluster('a', [a.host])]);
    expect((await call(`${f.url}/api/jobs?x=1`)).body).toBe('a /jobs?x=1');
    const r = await call(`${f.url}/login?next=1`, { headers: { host: 'shop.example.com:8080' } });
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('https://shop.example.com/login?next=1');
  });
});

describe('traffic-policy engine: retries and timeouts', () => {
  it('retries 5xx up to num_retries with the body replayed, and answers the last try', async () => {
    const bodies: string[] = [];
    const flaky = await up('flaky', (req, res, hit) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        bodies.push(b);
        res.statusCode = hit < 3 ? 503 : 200;
        res.end(`try ${hit}`);
      });
    });
    const retry = retryPolicy({ retryOn: parseRetryOn('5xx', 'retryOn'), numRetries: 3, baseIntervalMs: 5 });
    const routes = table({ name: 'r', matches: [], action: to('c', { retry }) });
    const f = await serve(() => routes, [cluster('c', [flaky.host])]);
    const r = await call(`${f.url}/x`, { method: 'POST', body: 'payload' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('try 3');
    expect(bodies).toEqual(['payload', 'payload', 'payload']);
    expect(f.results.at(-1)?.tries).toBe(3);
  });

  it('gives up after num_retries: 1 + num_retries tries, the last answer passed on', async () => {
    const down = await up('down', (_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    let retries = 2;
    const routes = () =>
      table({
        name: 'r',
        matches: [],
        action: to('c', {
          retry: retryPolicy({
            retryOn: parseRetryOn('gateway-error', 'x'),
            numRetries: retries,
            baseIntervalMs: 2,
          }),
        }),
      });
    const f = await serve(routes, [cluster('c', [down.host])]);
    expect((await call(f.url)).status).toBe(503);
    expect(down.hits()).toBe(3);
    retries = 0;
    await call(f.url);
    expect(down.hits()).toBe(4);
  });

  it('does not retry what retry_on does not name (a 500 under gateway-error; a 409 only under retriable-4xx)', async () => {
    const s500 = await up('s500', (_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const s409 = await up('s409', (_req, res) => {
      res.statusCode = 409;
      res.end();
    });
    const routes = table(
      {
        name: 'a',
        matches: [{ path: { exact: '/500' } }],
        action: to('a', {
          retry: retryPolicy({ retryOn: parseRetryOn('gateway-error', 'x'), numRetries: 3 }),
        }),
      },
      {
        name: 'b',
        matches: [{ path: { exact: '/409' } }],
        action: to('b', {
          retry: retryPolicy({
            retryOn: parseRetryOn('retriable-4xx', 'x'),
            numRetries: 2,
            baseIntervalMs: 2,
          }),
        }),
      },
    );
    const f = await serve(() => routes, [cluster('a', [s500.host]), cluster('b', [s409.host])]);
    expect((await call(`${f.url}/500`)).status).toBe(500);
    expect(s500.hits()).toBe(1);
    expect((await call(`${f.url}/409`)).status).toBe(409);
    expect(s409.hits()).toBe(3);
  });

  it('per-try timeout cuts a slow try and retries it; the route timeout bounds all tries (504)', async () => {
    const slowFirst = await up('slow', (_req, res, hit) => {
      setTimeout(() => res.end(`try ${hit}`), hit === 1 ? 3000 : 10);
    });
    const retry = retryPolicy({
      retryOn: parseRetryOn('5xx', 'x'),
      numRetries: 2,
      perTryTimeoutMs: 300,
      baseIntervalMs: 2,
    });
    const routes = table(
      { name: 'retry', matches: [{ path: { exact: '/retry' } }], action: to('c', { retry }) },
      { name: 'timeout', matches: [{ path: { exact: '/timeout' } }], action: to('c', { timeoutMs: 300 }) },
    );
    const f = await serve(() => routes, [cluster('c', [slowFirst.host])]);
    const r = await call(`${f.url}/retry`);
    expect(r.status).toBe(200);
    expect(r.body).toBe('try 2');
    const slowAll = await up('slow-all', (_req, res) => setTimeout(() => res.end('late'), 3000));
    const f2 = await serve(() => routes, [cluster('c', [slowAll.host])]);
    const t = await call(`${f2.url}/timeout`);
    expect(t.status).toBe(504);
    expect(t.body).toBe('upstream request timeout');
    expect(f2.results.at(-1)?.flags).toContain('UT');
  });

  it('retries a connection failure on another host (previous_hosts) and refuses unknown retry_on values', async () => {
    const good = await up('good');
    const dead = { ip: '127.0.0.1', port: 1, pod: 'test/dead' };
    const retry = retryPolicy({
      retryOn: parseRetryOn('connect-failure', 'x'),
      numRetries: 1,
      otherHosts: true,
      baseIntervalMs: 2,
    });
    const routes = table({ name: 'r', matches: [], action: to('c', { retry }) });
    const f = await serve(() => routes, [cluster('c', [dead, good.host])]);
    for (let i = 0; i < 4; i++) expect((await call(f.url)).status).toBe(200);
    expect(() => parseRetryOn('5xx,flaky', 'spec.http[0].retries.retryOn')).toThrow(
      /spec\.http\[0\]\.retries\.retryOn: unknown retry condition "flaky"/,
    );
  });
});

describe('traffic-policy engine: fault injection', () => {
  it('aborts and delays by percentage; an injected abort is not retried', async () => {
    const a = await up('a');
    const retry = retryPolicy({ retryOn: parseRetryOn('5xx', 'x'), numRetries: 3 });
    let fault = { abort: { percent: 100, httpStatus: 503 } } as Extract<
      Route['action'],
      { type: 'route' }
    >['fault'];
    const routes = () => table({ name: 'r', matches: [], action: to('a', { retry, fault }) });
    const f = await serve(routes, [cluster('a', [a.host])], seededRandom(3));
    const r = await call(f.url);
    expect(r.status).toBe(503);
    expect(r.body).toBe('fault filter abort');
    expect(a.hits()).toBe(0);
    fault = { abort: { percent: 30, httpStatus: 500 } };
    let aborted = 0;
    for (let i = 0; i < 300; i++) if ((await call(f.url)).status === 500) aborted++;
    expect(aborted).toBeGreaterThan(60);
    expect(aborted).toBeLessThan(120);
    fault = { delay: { percent: 100, fixedDelayMs: 400 } };
    const d = await call(f.url);
    expect(d.status).toBe(200);
    expect(d.ms).toBeGreaterThanOrEqual(390);
    expect(f.results.at(-1)?.flags).toContain('DI');
  });
});

describe('traffic-policy engine: circuit breaking and outlier detection', () => {
  it('answers 503 with x-envoy-overloaded beyond max_connections + max_pending_requests', async () => {
    const slow = await up('slow', (_req, res) => setTimeout(() => res.end('ok'), 600));
    const routes = table({ name: 'r', matches: [], action: to('c') });
    const c = cluster('c', [slow.host], {
      thresholds: { maxConnections: 1, maxPendingRequests: 1, maxRequests: 1024, maxRetries: 3 },
    });
    const f = await serve(() => routes, [c]);
    const answers = await Promise.all([call(f.url), call(f.url), call(f.url), call(f.url)]);
    const statuses = answers.map((x) => x.status).sort();
    expect(statuses).toEqual([200, 200, 503, 503]);
    expect(answers.find((x) => x.status === 503)?.headers['x-envoy-overloaded']).toBe('true');
    expect(slow.hits()).toBe(2);
  });

  it('ejects a host after consecutive 5xx and sends the traffic to the others', async () => {
    const bad = await up('bad', (_req, res) => {
      res.statusCode = 500;
      res.end('bad');
    });
    const good = await up('good');
    const routes = table({ name: 'r', matches: [], action: to('c') });
    const c = cluster('c', [bad.host, good.host], {
      outlier: {
        consecutive5xx: 3,
        consecutiveGatewayFailure: 0,
        intervalMs: 1000,
        baseEjectionTimeMs: 30_000,
        maxEjectionPercent: 100,
      },
      panicThresholdPercent: 0,
    });
    const f = await serve(() => routes, [c]);
    for (let i = 0; i < 6; i++) await call(f.url);
    expect(bad.hits()).toBe(3);
    const before = bad.hits();
    for (let i = 0; i < 10; i++) expect((await call(f.url)).status).toBe(200);
    expect(bad.hits()).toBe(before);
    expect(c.outlier?.ejectedCount()).toBe(1);
  });
});
