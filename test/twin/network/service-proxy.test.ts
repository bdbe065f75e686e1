import { connect, createServer as createTcpServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, endpoints, getText, pod, service, startNetwork, startPod } from './helpers.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const env = await startNetwork();
  cleanups.push(() => env.net.stop());
  return env;
}

describe('service proxy', () => {
  it('assigns ClusterIPs, defaults ports, balances HTTP round-robin and counts per version', async () => {
    const { store, net } = await setup();
    const a = await startPod('127.10.1.2', 'api-a');
    const b = await startPod('127.10.1.3', 'api-b', undefined);
    cleanups.push(() => closeAll([a.server, b.server]));
    store.create(pod('prod', 'api-a', { 'app.kubernetes.io/version': 'v1' }));
    store.create(pod('prod', 'api-b', { 'app.kubernetes.io/version': 'v2' }));
    store.create(service('prod', 'api', [{ name: 'http', port: 8080, targetPort: 'http' }]));
    // Both pods listen on different ephemeral ports; one Endpoints subset per pod, as the controller groups by port.
    const ep = endpoints(
      'prod',
      'api',
      [{ ip: '127.10.1.2', pod: 'api-a' }],
      [{ name: 'http', port: a.port }],
    );
    (ep.subsets as any[]).push({
      addresses: [{ ip: '127.10.1.3', targetRef: { kind: 'Pod', namespace: 'prod', name: 'api-b' } }],
      ports: [{ name: 'http', port: b.port }],
    });
    store.create(ep);
    const url = await net.serviceUrl({ namespace: 'prod', name: 'api', port: 'http' });
    const svc = store.get({ kind: 'Service', namespace: 'prod', name: 'api' })!;
    expect(svc.spec.clusterIP).toMatch(/^127\.96\./);
    expect(svc.spec.clusterIPs).toEqual([svc.spec.clusterIP]);
    expect(svc.spec.ports[0]).toMatchObject({ protocol: 'TCP', targetPort: 'http' });
    expect(url).toBe(`http://${svc.spec.clusterIP}:8080`);
    expect(net.dns.resolve('api', 'prod')).toEqual([svc.spec.clusterIP]);

    const pods: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await getText(`${url}/x?i=${i}`);
      const body = JSON.parse(r.body);
      expect(body.url).toBe(`/x?i=${i}`);
      expect(body.xff).toBe('127.0.0.1');
      pods.push(body.pod);
    }
    expect(pods.filter((p) => p === 'api-a')).toHaveLength(5);
    expect(pods[0]).not.toBe(pods[1]);
    const stats = net.trafficByVersion({ namespace: 'prod', name: 'api' }, 60_000);
    expect(stats.v1!.requests).toBe(5);
    expect(stats.v2!.requests).toBe(5);
    expect(stats.v1!.p50).toBeGreaterThan(0);
  });

  it('answers 503 without ready endpoints and 502 when the pod refuses, counting both as errors', async () => {
    const { store, net } = await setup();
    store.create(service('prod', 'web', [{ port: 8081 }]));
    const url = await net.serviceUrl({ namespace: 'prod', name: 'web' });
    expect((await getText(url)).status).toBe(503);
    store.create(endpoints('prod', 'web', [{ ip: '127.10.1.9', pod: 'web-1' }], [{ port: 1 }]));
    expect((await getText(url)).status).toBe(502);
    const s = net.metrics.query('prod/web', 60_000);
    expect(s).toMatchObject({ requests: 2, errors: 2, errorRate: 1 });
  });

  it('pipes non-HTTP protocols at L4 and follows Endpoints changes', async () => {
    const { store, net } = await setup();
    const echo = createTcpServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.10.1.20', r));
    cleanups.push(() => new Promise((r) => echo.close(r)));
    const port = (echo.address() as any).port;
    store.create(service('data', 'redis', [{ port: 6379 }]));
    const url = new URL(await net.serviceUrl({ namespace: 'data', name: 'redis' }));
    const talk = (payload: string) =>
      new Promise<string>((resolve, reject) => {
        const s = connect({ host: url.hostname, port: Number(url.port) }, () => s.write(payload));
        let got = '';
        s.on('data', (d) => {
          got += d;
          if (got.length >= payload.length) {
            s.end();
            resolve(got);
          }
        });
        s.on('close', () => resolve(got));
        s.on('error', reject);
      });
    expect(await talk('*1\r\n$4\r\nPING\r\n')).toBe('');
    store.create(endpoints('data', 'redis', [{ ip: '127.10.1.20', pod: 'redis-0' }], [{ port }]));
    expect(await talk('*1\r\n$4\r\nPING\r\n')).toBe('*1\r\n$4\r\nPING\r\n');
    store.delete({ kind: 'Service', namespace: 'data', name: 'redis' });
    await new Promise((r) => setTimeout(r, 50));
    await expect(talk('x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
