import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../../kube/object.ts';
import { clusterPolicy } from '../../../../twin/traffic-policy/istio/destination-rule.ts';
import { ingressGatewayObjects } from '../../../../twin/traffic-policy/istio/ingress-gateway.ts';
import { virtualServiceRoutes } from '../../../../twin/traffic-policy/istio/virtual-service.ts';
import { closeAll, endpoints, pod, service, startNetwork, startPod } from '../../network/helpers.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function virtualService(
  name: string,
  spec: Record<string, unknown>,
  namespace = 'imageflow-backend',
): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name, namespace },
    spec,
  };
}

const SEED_VS = virtualService('imageflow-api', {
  hosts: ['api.imageflow.com'],
  gateways: ['imageflow-gateway'],
  http: [
    {
      match: [{ uri: { prefix: '/v1/' } }],
      route: [{ destination: { host: 'backend-api', port: { number: 8000 } } }],
      fault: { delay: { percentage: { value: 0.1 }, fixedDelay: '5s' } },
      retries: { attempts: 3, perTryTimeout: '10s' },
    },
  ],
});

const GATEWAY: KubeObject = {
  apiVersion: 'networking.istio.io/v1beta1',
  kind: 'Gateway',
  metadata: { name: 'imageflow-gateway', namespace: 'imageflow-backend' },
  spec: {
    selector: { istio: 'ingressgateway' },
    servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['api.imageflow.com'] }],
  },
};

/** GET with node:http from an optional source address (a pod's), with a Host header. */
function get(
  url: string,
  o: { host?: string; from?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        headers: { ...(o.host ? { host: o.host } : {}), ...(o.headers ?? {}) },
        agent: false,
        ...(o.from ? { localAddress: o.from } : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Endpoints of a Service whose pods each listen on their own port (one subset per pod). */
function podsOnOwnPorts(
  namespace: string,
  name: string,
  pods: Array<[ip: string, pod: string, port: number]>,
) {
  const ep = endpoints(
    namespace,
    name,
    [{ ip: pods[0]![0], pod: pods[0]![1] }],
    [{ name: 'http', port: pods[0]![2] }],
  );
  for (const [ip, pod, port] of pods.slice(1))
    (ep.subsets as any[]).push({
      addresses: [{ ip, targetRef: { kind: 'Pod', namespace, name: pod } }],
      ports: [{ name: 'http', port }],
    });
  return ep;
}

describe('Istio front end: translation', () => {
  it('reads the seed VirtualService as a /v1/ prefix route with 3 retries of 10 s and a 5 s delay on 0.1 %', () => {
    const [route] = virtualServiceRoutes(SEED_VS, (d) => `outbound|${d.port}||${d.host}`);
    expect(route!.matches).toEqual([{ path: { prefix: '/v1/' } }]);
    const a = route!.action;
    if (a.type !== 'route') throw new Error('not a route');
    expect(a.clusters).toEqual([{ cluster: 'outbound|8000||backend-api', weight: 100 }]);
    expect(a.fault).toEqual({ delay: { percent: 0.1, fixedDelayMs: 5000 } });
    expect(a.timeoutMs).toBe(0);
    expect(a.retry).toMatchObject({ numRetries: 3, perTryTimeoutMs: 10_000, otherHosts: true });
    expect([...a.retry!.retryOn].sort()).toEqual(
      ['cancelled', 'connect-failure', 'refused-stream', 'retriable-status-codes', 'unavailable'].sort(),
    );
    expect([...a.retry!.retriableStatusCodes]).toEqual([503]);
  });

  it('refuses what it does not implement, naming the object and the field', () => {
    const mirrored = virtualService('m', {
      hosts: ['x'],
      http: [{ route: [{ destination: { host: 'x' } }], mirror: { host: 'y' } }],
    });
    expect(() => virtualServiceRoutes(mirrored, () => 'c')).toThrow(
      'VirtualService imageflow-backend/m: spec.http[0].mirror: not implemented by the twin',
    );
    const badWeights = virtualService('w', {
      hosts: ['x'],
      http: [
        {
          route: [
            { destination: { host: 'x', subset: 'a' }, weight: 70 },
            { destination: { host: 'x', subset: 'b' }, weight: 20 },
          ],
        },
      ],
    });
    expect(() => virtualServiceRoutes(badWeights, () => 'c')).toThrow(
      'spec.http[0].route: weights add up to 90; Istio requires 100',
    );
    const retryOn = virtualService('r', {
      hosts: ['x'],
      http: [{ route: [{ destination: { host: 'x' } }], retries: { attempts: 2, retryOn: '5xx,sometimes' } }],
    });
    expect(() => virtualServiceRoutes(retryOn, () => 'c')).toThrow(
      'spec.http[0].retries.retryOn: unknown retry condition "sometimes"',
    );
  });

  it('maps a DestinationRule to circuit breaker thresholds and outlier detection with Istio defaults', () => {
    const dr: KubeObject = {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'DestinationRule',
      metadata: { name: 'api', namespace: 'p' },
      spec: {
        host: 'api',
        trafficPolicy: {
          connectionPool: { tcp: { maxConnections: 10 }, http: { http1MaxPendingRequests: 5 } },
          outlierDetection: { consecutive5xxErrors: 3 },
        },
        subsets: [
          {
            name: 'v2',
            labels: { version: 'v2' },
            trafficPolicy: { outlierDetection: { consecutiveGatewayErrors: 2, interval: '1s' } },
          },
        ],
      },
    };
    const host = clusterPolicy(dr, undefined, 'f');
    expect(host.thresholds).toEqual({
      maxConnections: 10,
      maxPendingRequests: 5,
      maxRequests: 4294967295,
      maxRetries: 4294967295,
    });
    expect(host.outlier).toEqual({
      consecutive5xx: 3,
      consecutiveGatewayFailure: 0,
      intervalMs: 10_000,
      baseEjectionTimeMs: 30_000,
      maxEjectionPercent: 10,
    });
    expect(host.panicThresholdPercent).toBe(0);
    const v2 = clusterPolicy(dr, 'v2', 'f');
    expect(v2.labels).toEqual({ version: 'v2' });
    expect(v2.outlier).toMatchObject({ consecutive5xx: 5, consecutiveGatewayFailure: 2, intervalMs: 1000 });
    expect(clusterPolicy(undefined, undefined, 'f')).toMatchObject({
      connectTimeoutMs: 10_000,
      panicThresholdPercent: 50,
    });
    expect(() => clusterPolicy(dr, 'v3', 'VirtualService p/x: spec.http[0].route[0].destination')).toThrow(
      'VirtualService p/x: spec.http[0].route[0].destination: subset "v3" is not defined in DestinationRule p/api',
    );
  });
});

describe('Istio front end on the Service proxy', () => {
  async function cluster() {
    const env = await startNetwork({ istio: true });
    cleanups.push(() => env.net.stop());
    for (const obj of ingressGatewayObjects()) env.store.create(obj);
    return env;
  }

  it('routes the ingress gateway by Gateway and VirtualService: faults are not retried, upstream 503s are', async () => {
    const { store, net } = await cluster();
    let fail = 0;
    const backend = await startPod('127.10.2.2', 'backend-api-1', (req, res) => {
      if (fail > 0) {
        fail--;
        res.statusCode = 503;
        return res.end('busy');
      }
      res.end(`backend ${req.url}`);
    });
    cleanups.push(() => closeAll([backend.server]));
    store.create(pod('imageflow-backend', 'backend-api-1'));
    store.create(service('imageflow-backend', 'backend-api', [{ name: 'http', port: 8000 }]));
    store.create(
      endpoints(
        'imageflow-backend',
        'backend-api',
        [{ ip: '127.10.2.2', pod: 'backend-api-1' }],
        [{ name: 'http', port: backend.port }],
      ),
    );
    store.create(GATEWAY);
    const vs = structuredClone(SEED_VS);
    (vs.spec.http as any[])[0].fault = { abort: { percentage: { value: 100 }, httpStatus: 503 } };
    store.create(vs);
    const gw = await net.serviceUrl({ namespace: 'istio-system', name: 'istio-ingressgateway', port: 80 });

    const aborted = await get(`${gw}/v1/jobs`, { host: 'api.imageflow.com' });
    expect(aborted).toEqual({ status: 503, body: 'fault filter abort' });
    expect(await get(`${gw}/other`, { host: 'api.imageflow.com' })).toMatchObject({ status: 404 });
    expect(await get(`${gw}/v1/jobs`, { host: 'elsewhere.example.com' })).toMatchObject({ status: 404 });

    store.patch(
      {
        apiVersion: 'networking.istio.io/v1beta1',
        kind: 'VirtualService',
        namespace: 'imageflow-backend',
        name: 'imageflow-api',
      },
      (o) => {
        delete o.spec.http[0].fault;
      },
    );
    fail = 2;
    expect(await get(`${gw}/v1/jobs`, { host: 'api.imageflow.com:80' })).toEqual({
      status: 200,
      body: 'backend /v1/jobs',
    });
    expect(fail).toBe(0);
    fail = 5;
    expect(await get(`${gw}/v1/jobs`, { host: 'api.imageflow.com' })).toEqual({ status: 503, body: 'busy' });
    expect(fail).toBe(1);
    expect(net.metrics.query('imageflow-backend/backend-api', 60_000).requests).toBeGreaterThanOrEqual(2);
  });

  it('applies a mesh VirtualService to clients with a sidecar only, with DestinationRule subsets', async () => {
    const { store, net } = await cluster();
    const v1 = await startPod('127.10.3.2', 'api-v1');
    const v2 = await startPod('127.10.3.3', 'api-v2');
    cleanups.push(() => closeAll([v1.server, v2.server]));
    store.create({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } },
    });
    store.create(pod('shop', 'api-v1', { app: 'api', version: 'v1' }));
    store.create(pod('shop', 'api-v2', { app: 'api', version: 'v2' }));
    store.create({ ...pod('shop', 'client', { app: 'client' }), status: { podIP: '127.10.3.9' } });
    store.create(service('shop', 'api', [{ name: 'http', port: 80 }]));
    store.create(
      podsOnOwnPorts('shop', 'api', [
        ['127.10.3.2', 'api-v1', v1.port],
        ['127.10.3.3', 'api-v2', v2.port],
      ]),
    );
    store.create({
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'DestinationRule',
      metadata: { name: 'api', namespace: 'shop' },
      spec: {
        host: 'api',
        subsets: [
          { name: 'v1', labels: { version: 'v1' } },
          { name: 'v2', labels: { version: 'v2' } },
        ],
      },
    });
    store.create(
      virtualService(
        'api',
        {
          hosts: ['api'],
          http: [
            {
              match: [{ headers: { 'x-user': { exact: 'tester' } } }],
              route: [{ destination: { host: 'api', subset: 'v2' } }],
            },
            { route: [{ destination: { host: 'api', subset: 'v1' } }] },
          ],
        },
        'shop',
      ),
    );
    const url = await net.serviceUrl({ namespace: 'shop', name: 'api' });
    const podOf = (b: string) => JSON.parse(b).pod;
    for (let i = 0; i < 4; i++) expect(podOf((await get(url, { from: '127.10.3.9' })).body)).toBe('api-v1');
    expect(podOf((await get(url, { from: '127.10.3.9', headers: { 'x-user': 'tester' } })).body)).toBe(
      'api-v2',
    );
    // from the host (no sidecar) kube-proxy balances over both pods
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(podOf((await get(url)).body));
    expect([...seen].sort()).toEqual(['api-v1', 'api-v2']);
  });

  it('ejects a failing pod by the DestinationRule’s outlier detection and overflows its connection pool', async () => {
    const { store, net } = await cluster();
    const good = await startPod('127.10.4.2', 'api-good');
    const bad = await startPod('127.10.4.3', 'api-bad', (_req, res) => {
      res.statusCode = 500;
      res.end('broken');
    });
    cleanups.push(() => closeAll([good.server, bad.server]));
    store.create(pod('shop', 'api-good'));
    store.create(pod('shop', 'api-bad'));
    store.create(service('shop', 'api', [{ name: 'http', port: 80 }]));
    store.create(
      podsOnOwnPorts('shop', 'api', [
        ['127.10.4.2', 'api-good', good.port],
        ['127.10.4.3', 'api-bad', bad.port],
      ]),
    );
    store.create({
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'DestinationRule',
      metadata: { name: 'api', namespace: 'shop' },
      spec: {
        host: 'api.shop.svc.cluster.local',
        trafficPolicy: {
          outlierDetection: {
            consecutive5xxErrors: 2,
            interval: '1s',
            baseEjectionTime: '60s',
            maxEjectionPercent: 50,
          },
        },
      },
    });
    store.create({
      ...GATEWAY,
      metadata: { name: 'shop', namespace: 'shop' },
      spec: {
        ...GATEWAY.spec,
        servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['shop.example.com'] }],
      },
    });
    store.create(
      virtualService(
        'shop',
        {
          hosts: ['shop.example.com'],
          gateways: ['shop'],
          http: [{ route: [{ destination: { host: 'api' } }], retries: { attempts: 0 } }],
        },
        'shop',
      ),
    );
    const gw = await net.serviceUrl({ namespace: 'istio-system', name: 'istio-ingressgateway', port: 80 });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await get(gw, { host: 'shop.example.com' })).status);
    // round robin: the bad pod answers 500 twice, is ejected, and every later request goes to the good one
    expect(statuses.filter((s) => s === 500)).toHaveLength(2);
    expect(statuses.slice(4)).toEqual(Array(8).fill(200));
  });

  it('answers 500 naming the field when a VirtualService uses what the twin does not implement', async () => {
    const { store, net, log } = await cluster();
    store.create(service('imageflow-backend', 'backend-api', [{ name: 'http', port: 8000 }]));
    store.create(GATEWAY);
    const vs = structuredClone(SEED_VS);
    (vs.spec.http as any[])[0].mirror = { host: 'backend-api' };
    store.create(vs);
    const gw = await net.serviceUrl({ namespace: 'istio-system', name: 'istio-ingressgateway', port: 80 });
    const r = await get(`${gw}/v1/jobs`, { host: 'api.imageflow.com' });
    expect(r.status).toBe(500);
    expect(r.body).toContain(
      'VirtualService imageflow-backend/imageflow-api: spec.http[0].mirror: not implemented by the twin',
    );
    expect(log.some((l) => l.includes('spec.http[0].mirror'))).toBe(true);
  });
});
