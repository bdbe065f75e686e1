import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import { closeAll, endpoints, service, startNetwork, startPod } from './helpers.ts';

/**
 * The Service and Ingress proxies apply NetworkPolicy themselves, whatever the kernel does: run here
 * with kernel enforcement turned off, as on a machine where the twin is not root.
 */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function livePod(namespace: string, name: string, ip: string, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, labels, uid: `${namespace}-${name}` },
    spec: {
      nodeName: 'n1',
      containers: [{ name: 'main', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }],
    },
    status: { podIP: ip, phase: 'Running' },
  };
}

/** GET from a given source address; resolves with the status, or 'no answer' after `ms`. */
function getFrom(
  url: string,
  localAddress: string,
  ms: number,
): Promise<{ status: number; body: string } | 'no answer'> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve('no answer');
    }, ms);
    req.on('error', (err) => {
      clearTimeout(timer);
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    req.end();
  });
}

async function cluster() {
  const env = await startNetwork({ networkPolicy: 'proxy', loadBalancerSubnets: ['10.0.1.0/24'] });
  cleanups.push(() => env.net.stop());
  const { store, net } = env;
  const ip = (name: string) => net.allocatePodIp(name);
  const db = livePod('data', 'db', ip('db'), { app: 'db' });
  const app = livePod('shop', 'app', ip('app'), { app: 'app', tier: 'app' });
  const intruder = livePod('other', 'intruder', ip('intruder'), { app: 'app', tier: 'app' });
  const server = await startPod(db.status.podIP, 'db', (req, res) =>
    res.end(JSON.stringify({ from: req.socket.remoteAddress, xff: req.headers['x-forwarded-for'] })),
  );
  cleanups.push(() => closeAll([server.server]));
  for (const ns of [
    ['data', {}],
    ['shop', { team: 'shop' }],
    ['other', {}],
  ] as const)
    store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns[0], labels: { ...ns[1] } } });
  for (const p of [db, app, intruder]) store.create(p);
  store.create(service('data', 'db', [{ name: 'http', port: 80, targetPort: 'http' }]));
  store.create(
    endpoints('data', 'db', [{ ip: db.status.podIP, pod: 'db' }], [{ name: 'http', port: server.port }]),
  );
  const policy = (name: string, spec: Record<string, unknown>) =>
    store.create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace: 'data', name },
      spec,
    });
  policy('default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] });
  policy('db-from-shop-app', {
    podSelector: { matchLabels: { app: 'db' } },
    ingress: [
      {
        from: [
          {
            namespaceSelector: { matchLabels: { team: 'shop' } },
            podSelector: { matchLabels: { tier: 'app' } },
          },
        ],
      },
    ],
  });
  const url = await net.serviceUrl({ namespace: 'data', name: 'db', port: 80 });
  return { ...env, db, app, intruder, url, server };
}

describe('NetworkPolicy at the proxies (kernel enforcement off)', () => {
  it('says that only the proxies enforce it, and why', async () => {
    const { net } = await cluster();
    expect(net.describePolicyEnforcement()[0]).toBe(
      'NetworkPolicy enforced only at the Service and Ingress proxies (kernel enforcement turned off for this network): connections straight to pod addresses are not filtered, and a denied connection through a Service is accepted and never answered. Run as root with nftables to enforce it in the kernel',
    );
  });

  it('the Service proxy forwards an admitted client from its own address and leaves a denied one unanswered', async () => {
    const { url, app, intruder } = await cluster();
    const ok = await getFrom(`${url}/x`, app.status.podIP, 5000);
    expect(ok).not.toBe('no answer');
    expect(ok !== 'no answer' && ok.status).toBe(200);
    // The pod sees the connection come from the client pod's address, as behind kube-proxy's DNAT.
    expect(ok !== 'no answer' && JSON.parse(ok.body).from).toBe(app.status.podIP);
    expect(await getFrom(`${url}/x`, intruder.status.podIP, 1500)).toBe('no answer');
  });

  it('canConnect measures an allowed connection and refuses to measure a denied one it cannot drop', async () => {
    const { net, server, db } = await cluster();
    const r = await net.canConnect({
      from: { namespace: 'shop', pod: 'app' },
      to: { namespace: 'data', pod: 'db' },
      port: server.port,
    });
    expect(r.outcome).toBe('connected');
    expect(r.detail).toContain(`Pod shop/app (`);
    await expect(
      net.canConnect({
        from: { namespace: 'other', pod: 'intruder' },
        to: { namespace: 'data', service: 'db' },
        port: 80,
      }),
    ).rejects.toMatchObject({
      code: 'TWIN_ENV_UNAVAILABLE',
      message: expect.stringMatching(
        /NetworkPolicy denies it .*denied by ingress: Pod data\/db is isolated for ingress.* but is not enforced in the kernel here \(kernel enforcement turned off for this network\)/,
      ),
    });
    expect(db.status.podIP).toMatch(/^127\.10\./);
  });

  it('the Ingress load balancer: admitted from its subnet by an ipBlock; denied, 504 after the 10 s target timeout', async () => {
    const { store, net } = await cluster();
    store.create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { namespace: 'data', name: 'db' },
      spec: {
        rules: [
          {
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: { service: { name: 'db', port: { number: 80 } } } },
              ],
            },
          },
        ],
      },
    });
    const url = await net.ingressUrl({ namespace: 'data', name: 'db' });
    const t0 = Date.now();
    const denied = await fetch(`${url}/`);
    expect(denied.status).toBe(504);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(9_500);
    store.create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace: 'data', name: 'db-from-alb' },
      spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.1.0/24' } }] }] },
    });
    const ok = await fetch(`${url}/`);
    expect(ok.status).toBe(200);
    // From the load balancer's address, with the client's in X-Forwarded-For (the ALB's header).
    expect(await ok.json()).toEqual({ from: expect.stringMatching(/^127\.96\.\d+\.\d+$/), xff: '127.0.0.1' });
  }, 30_000);
});
