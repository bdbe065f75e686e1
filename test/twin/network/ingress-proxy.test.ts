import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import { closeAll, endpoints, getText, httpGet, pod, service, startNetwork, startPod } from './helpers.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function actionAnnotation(stable: number, canary: number): string {
  return JSON.stringify({
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: [
        { ServiceName: 'api-stable', ServicePort: '80', Weight: stable },
        { ServiceName: 'api-canary', ServicePort: '80', Weight: canary },
      ],
    },
  });
}

function ingress(annotation: string): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: 'api',
      namespace: 'prod',
      annotations: { 'alb.ingress.kubernetes.io/actions.api-root': annotation },
    },
    spec: {
      ingressClassName: 'alb',
      rules: [
        {
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'api-root', port: { name: 'use-annotation' } } },
              },
              {
                path: '/direct',
                pathType: 'Exact',
                backend: { service: { name: 'api-stable', port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  };
}

async function setup() {
  const env = await startNetwork();
  cleanups.push(() => env.net.stop());
  const { store } = env;
  const stable = await startPod('127.10.2.2', 'api-stable-1');
  const canary = await startPod('127.10.2.3', 'api-canary-1');
  cleanups.push(() => closeAll([stable.server, canary.server]));
  store.create(pod('prod', 'api-stable-1', { 'rollouts-pod-template-hash': 'aaa' }));
  store.create(pod('prod', 'api-canary-1', { 'rollouts-pod-template-hash': 'bbb' }));
  store.create(service('prod', 'api-stable', [{ name: 'http', port: 80 }]));
  store.create(service('prod', 'api-canary', [{ name: 'http', port: 80 }]));
  store.create(
    endpoints(
      'prod',
      'api-stable',
      [{ ip: '127.10.2.2', pod: 'api-stable-1' }],
      [{ name: 'http', port: stable.port }],
    ),
  );
  store.create(
    endpoints(
      'prod',
      'api-canary',
      [{ ip: '127.10.2.3', pod: 'api-canary-1' }],
      [{ name: 'http', port: canary.port }],
    ),
  );
  return env;
}

describe('ingress proxy', () => {
  it('publishes its address and splits traffic exactly by ALB action weights', async () => {
    const { store, net } = await setup();
    store.create(ingress(actionAnnotation(90, 10)));
    const url = await net.ingressUrl({ namespace: 'prod', name: 'api' });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(url).port);
    const status = () =>
      store.get({ kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', namespace: 'prod', name: 'api' })!
        .status;
    for (let i = 0; i < 200 && !status(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(status()).toEqual({
      loadBalancer: { ingress: [{ ip: '127.0.0.1', ports: [{ port, protocol: 'TCP' }] }] },
    });

    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    cleanups.push(async () => agent.destroy());
    const get = (path: string) =>
      new Promise<string>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path, agent }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve(JSON.parse(body).pod));
        })
          .on('error', reject)
          .end();
      });
    const counts: Record<string, number> = {};
    for (let batch = 0; batch < 10; batch++) {
      const pods = await Promise.all(Array.from({ length: 100 }, () => get('/items')));
      for (const p of pods) counts[p] = (counts[p] ?? 0) + 1;
    }
    expect(counts).toEqual({ 'api-stable-1': 900, 'api-canary-1': 100 });
    expect(net.metrics.query('prod/api-canary', 60_000).requests).toBe(100);
    expect(net.metrics.query('prod/api', 60_000).requests).toBe(1000);
    const byVersion = net.trafficByVersion({ namespace: 'prod', name: 'api' }, 60_000);
    expect(byVersion.aaa!.requests).toBe(900);
    expect(byVersion.bbb!.requests).toBe(100);

    // Annotation changes take effect on the next request.
    store.patch(
      { kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', namespace: 'prod', name: 'api' },
      (o) => {
        o.metadata.annotations!['alb.ingress.kubernetes.io/actions.api-root'] = actionAnnotation(0, 100);
      },
    );
    expect(await get('/')).toBe('api-canary-1');
    expect(await get('/direct')).toBe('api-stable-1');
    expect((await getText(`${url}/direct/`)).status).toBe(200);
  });

  it('answers 404 without a matching rule, 503 without endpoints, and closes on delete', async () => {
    const { store, net } = await setup();
    store.create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web', namespace: 'prod' },
      spec: {
        rules: [
          {
            host: 'web.example.com',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'api-stable', port: { name: 'http' } } },
                },
                {
                  path: '/empty',
                  pathType: 'Prefix',
                  backend: { service: { name: 'missing', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    });
    const url = await net.ingressUrl({ namespace: 'prod', name: 'web' });
    expect((await getText(`${url}/`)).status).toBe(404);
    const ok = await httpGet(`${url}/`, { host: 'web.example.com' });
    expect(JSON.parse(ok.body).pod).toBe('api-stable-1');
    expect((await httpGet(`${url}/empty/x`, { host: 'web.example.com' })).status).toBe(503);
    expect(net.metrics.query('prod/web', 60_000)).toMatchObject({ requests: 2, errors: 1 });
    store.delete({ kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', namespace: 'prod', name: 'web' });
    await new Promise((r) => setTimeout(r, 50));
    await expect(fetch(url)).rejects.toThrow();
  });
});

describe('Ingress classes: only the controllers the cluster runs serve Ingresses', () => {
  const plain = (name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'prod' },
    spec: { ...spec, defaultBackend: { service: { name: 'web', port: { number: 80 } } } },
  });
  const ingressClass = (name: string, controller: string, isDefault = false): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: {
      name,
      ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}),
    },
    spec: { controller },
  });

  it('a class of a controller that does not run gets no address, and its URL says why; a class created later is served', async () => {
    const env = await startNetwork({ ingressControllers: new Set(['traefik.io/ingress-controller']) });
    cleanups.push(() => env.net.stop());
    env.store.create(ingressClass('traefik', 'traefik.io/ingress-controller', true));
    env.store.create(ingressClass('alb', 'ingress.k8s.aws/alb'));
    env.store.create(plain('on-alb', { ingressClassName: 'alb' }));
    env.store.create(plain('default-class', {}));
    env.store.create(plain('later', { ingressClassName: 'nginx' }));
    await expect(env.net.ingressUrl({ namespace: 'prod', name: 'on-alb' })).rejects.toThrow(
      'Ingress prod/on-alb has no address: no Ingress controller of this cluster serves it (IngressClass "alb" is served by ingress.k8s.aws/alb, which does not run in this cluster (controllers: traefik.io/ingress-controller))',
    );
    await expect(env.net.ingressUrl({ namespace: 'prod', name: 'later' })).rejects.toThrow(
      'IngressClass "nginx" does not exist (classes: alb, traefik)',
    );
    expect(await env.net.ingressUrl({ namespace: 'prod', name: 'default-class' })).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+$/,
    );
    expect(
      env.store.get({ kind: 'Ingress', namespace: 'prod', name: 'on-alb' })?.status?.loadBalancer,
    ).toBeUndefined();
    env.store.create(ingressClass('nginx', 'traefik.io/ingress-controller'));
    expect(await env.net.ingressUrl({ namespace: 'prod', name: 'later' })).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+$/,
    );
  });

  it('without a default class, an Ingress that names none is not served', async () => {
    const env = await startNetwork({ ingressControllers: new Set(['ingress.k8s.aws/alb']) });
    cleanups.push(() => env.net.stop());
    env.store.create(ingressClass('alb', 'ingress.k8s.aws/alb'));
    env.store.create(plain('none', {}));
    await expect(env.net.ingressUrl({ namespace: 'prod', name: 'none' })).rejects.toThrow(
      'it names no IngressClass and the cluster has no default class (controllers: ingress.k8s.aws/alb)',
    );
  });
});
