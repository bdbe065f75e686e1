import { expect } from 'vitest';
import type { KubeObject } from '../../../env/environment.ts';
import type { CaseContext, ConformanceCase } from '../conformance-case.ts';
import { deployment, pod, readyPods, running } from '../objects.ts';

const SERVICE = 'https://kubernetes.io/docs/concepts/services-networking/service/';
const ENDPOINTS_API = 'https://kubernetes.io/docs/reference/kubernetes-api/service-resources/endpoints-v1/';
const SLICES = 'https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/';

interface SliceEndpoint {
  addresses: string[];
  conditions: { ready?: boolean; serving?: boolean; terminating?: boolean };
}

/** The endpoints of every EndpointSlice of a Service (label kubernetes.io/service-name), by address. */
async function sliceEndpoints(
  t: CaseContext,
  service: string,
): Promise<Map<string, SliceEndpoint['conditions']>> {
  const slices = await t.list(
    'EndpointSlice',
    { 'kubernetes.io/service-name': service },
    'discovery.k8s.io/v1',
  );
  const out = new Map<string, SliceEndpoint['conditions']>();
  for (const s of slices)
    for (const e of (s['endpoints'] ?? []) as SliceEndpoint[])
      for (const a of e.addresses) out.set(a, e.conditions);
  return out;
}

function service(
  name: string,
  selector: Record<string, string> | undefined,
  spec: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: {
      ...(selector ? { selector } : {}),
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      ...spec,
    },
  };
}

interface Addresses {
  ready: string[];
  notReady: string[];
  ports: number[];
}

function addresses(ep: KubeObject | undefined): Addresses {
  const subsets = (ep?.['subsets'] ?? []) as Array<{
    addresses?: Array<{ ip: string }>;
    notReadyAddresses?: Array<{ ip: string }>;
    ports?: Array<{ port: number }>;
  }>;
  return {
    ready: subsets.flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort(),
    notReady: subsets.flatMap((s) => (s.notReadyAddresses ?? []).map((a) => a.ip)).sort(),
    ports: [...new Set(subsets.flatMap((s) => (s.ports ?? []).map((p) => p.port)))].sort(),
  };
}

async function endpointsUntil(
  t: CaseContext,
  name: string,
  what: string,
  ok: (a: Addresses) => boolean,
): Promise<Addresses> {
  let last: Addresses | undefined;
  return t
    .until(what, 120, async () => {
      last = addresses(await t.get({ kind: 'Endpoints', name }));
      return ok(last) ? last : undefined;
    })
    .catch((err: Error) => {
      err.message += `; Endpoints ${name}: ${JSON.stringify(last)}`;
      throw err;
    });
}

const ips = (pods: KubeObject[]) => pods.map((p) => p.status.podIP as string).sort();

/** Two ready pods and one that never becomes ready, all selected by `svc: web`. */
async function mixedPods(t: CaseContext): Promise<{ ready: KubeObject[]; unready: KubeObject[] }> {
  await t.apply(
    deployment(t, 'ready', 2, { labels: { app: 'ready', svc: 'web' } }),
    deployment(t, 'unready', 1, { labels: { app: 'unready', svc: 'web' }, neverReady: true }),
  );
  const ready = await t.podsUntil('2 ready pods', { app: 'ready' }, (ps) => readyPods(ps).length === 2);
  const unready = await t.podsUntil('the unready pod running with an IP', { app: 'unready' }, (ps) =>
    running(ps).some((p) => p.status?.podIP),
  );
  return { ready, unready };
}

export const serviceCases: ConformanceCase[] = [
  {
    area: 'Services and Endpoints',
    title: 'a Service with a selector gets a cluster IP and an Endpoints object of the same name',
    docs: `${SERVICE}#defining-a-service`,
    async run(t) {
      await t.apply(service('plain', { app: 'plain' }), deployment(t, 'plain', 1));
      const svc = await t.objectUntil('a cluster IP', { kind: 'Service', name: 'plain' }, (s) =>
        Boolean(s.spec?.clusterIP),
      );
      expect(svc.spec.clusterIP).not.toBe('None');
      expect(svc.spec.clusterIPs).toEqual([svc.spec.clusterIP]);
      const pods = await t.podsUntil('pod ready', { app: 'plain' }, (ps) => readyPods(ps).length === 1);
      await endpointsUntil(
        t,
        'plain',
        'the pod in the Endpoints',
        (a) => a.ready.join() === ips(pods).join(),
      );
    },
  },
  {
    area: 'Services and Endpoints',
    title: 'Endpoints list ready pods under addresses and pods that are not ready under notReadyAddresses',
    docs: ENDPOINTS_API,
    async run(t) {
      await t.apply(service('web', { svc: 'web' }));
      const { ready, unready } = await mixedPods(t);
      await endpointsUntil(
        t,
        'web',
        'ready and not-ready addresses',
        (a) => a.ready.join() === ips(ready).join() && a.notReady.join() === ips(unready).join(),
      );
    },
  },
  {
    area: 'Services and Endpoints',
    title: 'publishNotReadyAddresses: pods that are not ready are listed as ready addresses too',
    docs: 'https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/#ServiceSpec',
    async run(t) {
      await t.apply(service('web', { svc: 'web' }, { publishNotReadyAddresses: true }));
      const { ready, unready } = await mixedPods(t);
      await endpointsUntil(
        t,
        'web',
        'every pod ready in the Endpoints',
        (a) => a.ready.join() === ips([...ready, ...unready]).join() && a.notReady.length === 0,
      );
    },
  },
  {
    area: 'Services and Endpoints',
    title: 'a pod whose labels stop matching the selector leaves the Endpoints',
    docs: `${SERVICE}#defining-a-service`,
    async run(t) {
      await t.apply(
        service('web', { svc: 'web' }),
        pod(t, 'stays', { labels: { svc: 'web', app: 'stays' } }),
        pod(t, 'leaves', { labels: { svc: 'web', app: 'leaves' } }),
      );
      const pods = await t.podsUntil('2 pods ready', { svc: 'web' }, (ps) => readyPods(ps).length === 2);
      await endpointsUntil(t, 'web', 'both pods', (a) => a.ready.length === 2);
      await t.patch({ kind: 'Pod', name: 'leaves' }, (p) => {
        p.metadata.labels = { app: 'leaves' };
      });
      const stays = pods.find((p) => p.metadata.name === 'stays')!;
      await endpointsUntil(
        t,
        'web',
        'only the pod that still matches',
        (a) => a.ready.join() === stays.status.podIP,
      );
    },
  },
  {
    area: 'Services and Endpoints',
    title: 'a named targetPort resolves to the port each pod names that way',
    docs: `${SERVICE}#field-spec-ports`,
    async run(t) {
      await t.apply(
        service('named', { app: 'named' }, { ports: [{ name: 'http', port: 80, targetPort: 'web' }] }),
        deployment(t, 'named', 1, { ports: [{ name: 'web', containerPort: 8081 }] }),
      );
      await t.podsUntil('pod ready', { app: 'named' }, (ps) => readyPods(ps).length === 1);
      await endpointsUntil(t, 'named', 'port 8081', (a) => a.ready.length === 1 && a.ports.join() === '8081');
    },
  },
  {
    area: 'Services and Endpoints',
    title:
      'a Service without a selector gets no Endpoints from the control plane; Endpoints written by hand are kept as written',
    docs: `${SERVICE}#services-without-selectors`,
    async run(t) {
      await t.apply(service('external', undefined));
      await t.objectUntil('a cluster IP', { kind: 'Service', name: 'external' }, (s) =>
        Boolean(s.spec?.clusterIP),
      );
      await t.sleep(10);
      expect(await t.get({ kind: 'Endpoints', name: 'external' })).toBeUndefined();
      await t.apply({
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'external' },
        subsets: [{ addresses: [{ ip: '192.0.2.42' }], ports: [{ name: 'http', port: 8080 }] }],
      });
      await t.sleep(10);
      expect(addresses(await t.get({ kind: 'Endpoints', name: 'external' }))).toEqual({
        ready: ['192.0.2.42'],
        notReady: [],
        ports: [8080],
      });
    },
  },
  {
    area: 'Services and Endpoints',
    title: 'a headless Service (clusterIP None) gets no cluster IP and its Endpoints list the selected pods',
    docs: `${SERVICE}#headless-services`,
    async run(t) {
      await t.apply(
        service('headless', { app: 'headless' }, { clusterIP: 'None' }),
        deployment(t, 'headless', 2),
      );
      const pods = await t.podsUntil('2 pods ready', { app: 'headless' }, (ps) => readyPods(ps).length === 2);
      await endpointsUntil(t, 'headless', 'both pods', (a) => a.ready.join() === ips(pods).join());
      expect((await t.get({ kind: 'Service', name: 'headless' }))!.spec.clusterIP).toBe('None');
    },
  },
  {
    area: 'Services and Endpoints',
    title:
      'EndpointSlices labelled kubernetes.io/service-name list every pod of a Service: ready ones ready and serving, the others neither',
    docs: `${SLICES}#conditions`,
    async run(t) {
      await t.apply(service('web', { svc: 'web' }));
      const { ready, unready } = await mixedPods(t);
      // The slices follow the pods: wait until they show every pod and the ready ones as ready.
      const slices = await t.until('the pods in EndpointSlices', 120, async () => {
        const eps = await sliceEndpoints(t, 'web');
        return eps.size === 3 && ready.every((p) => eps.get(p.status.podIP)?.ready) ? eps : undefined;
      });
      for (const p of ready)
        expect(slices.get(p.status.podIP)).toMatchObject({ ready: true, serving: true, terminating: false });
      for (const p of unready)
        expect(slices.get(p.status.podIP)).toMatchObject({ ready: false, serving: false });
      const [slice] = await t.list(
        'EndpointSlice',
        { 'kubernetes.io/service-name': 'web' },
        'discovery.k8s.io/v1',
      );
      expect(slice!.metadata.labels?.['endpointslice.kubernetes.io/managed-by']).toBe(
        'endpointslice-controller.k8s.io',
      );
      expect(slice!['addressType']).toBe('IPv4');
    },
  },
  {
    area: 'Services and Endpoints',
    title: 'with publishNotReadyAddresses the EndpointSlice endpoints of pods that are not ready are ready',
    docs: `${SLICES}#ready`,
    async run(t) {
      await t.apply(service('web', { svc: 'web' }, { publishNotReadyAddresses: true }));
      const { unready } = await mixedPods(t);
      const slices = await t.until('the pods in EndpointSlices', 120, async () => {
        const eps = await sliceEndpoints(t, 'web');
        return eps.size === 3 ? eps : undefined;
      });
      expect(slices.get(unready[0]!.status.podIP)).toMatchObject({ ready: true, serving: false });
    },
  },
];
