import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import {
  EndpointSliceController,
  MAX_ENDPOINTS_PER_SLICE,
} from '../../../twin/controllers/endpoint-slice.ts';
import { type Harness, markPod, podTemplate, startControllers, until } from './harness.ts';

let h: Harness;
afterEach(() => h?.stop());

const SLICES = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' };

function slicesOf(service: string): KubeObject[] {
  return h.store
    .list(SLICES, { namespace: 'default' })
    .filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === service);
}

function pod(name: string, labels: Record<string, string>, node = 'n1'): KubeObject {
  return h.store.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels },
    spec: { ...podTemplate(labels).spec, nodeName: node },
  });
}

describe('EndpointSlice controller', () => {
  it('lists the selected pods with ready, serving and terminating conditions, zone and ports, owned by the Service', async () => {
    h = startControllers([new EndpointSliceController()]);
    h.store.create({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'z1' } },
    });
    const svc = h.store.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default', labels: { tier: 'front' } },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    const ready = pod('web-a', { app: 'web' });
    const unready = pod('web-b', { app: 'web' });
    markPod(h.store, h.clock, ready, 'Running');
    markPod(h.store, h.clock, unready, 'Running', false);
    pod('other', { app: 'other' });
    const [slice] = await until('a slice with both pods', () => {
      const s = slicesOf('web');
      return s.length === 1 && (s[0]!['endpoints'] as unknown[]).length === 2 && s;
    });
    expect(slice!.metadata.name).toMatch(/^web-/);
    expect(slice!.metadata.labels).toMatchObject({
      tier: 'front',
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
    expect(slice!.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true }),
    ]);
    expect(slice!['addressType']).toBe('IPv4');
    expect(slice!['ports']).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const byName = new Map(
      (slice!['endpoints'] as Array<{ targetRef: { name: string } }>).map((e) => [e.targetRef.name, e]),
    );
    expect(byName.get('web-a')).toMatchObject({
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: 'n1',
      zone: 'z1',
    });
    expect(byName.get('web-b')).toMatchObject({
      conditions: { ready: false, serving: false, terminating: false },
    });
  });

  it('publishNotReadyAddresses makes every endpoint ready; the slice goes with its Service or selector', async () => {
    h = startControllers([new EndpointSliceController()]);
    h.store.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'db', namespace: 'default' },
      spec: { selector: { app: 'db' }, publishNotReadyAddresses: true, ports: [{ port: 5432 }] },
    });
    markPod(h.store, h.clock, pod('db-0', { app: 'db' }), 'Running', false);
    const [slice] = await until('the slice', () => {
      const s = slicesOf('db');
      return s.length === 1 && (s[0]!['endpoints'] as unknown[]).length === 1 && s;
    });
    expect(slice!['endpoints']).toEqual([
      expect.objectContaining({ conditions: { ready: true, serving: false, terminating: false } }),
    ]);
    h.store.patch({ kind: 'Service', namespace: 'default', name: 'db' }, (s) => {
      delete s.spec.selector;
    });
    await until('no slice without a selector', () => slicesOf('db').length === 0);
  });

  it(`splits more than ${MAX_ENDPOINTS_PER_SLICE} endpoints over several slices and keeps one (empty) slice for none`, async () => {
    h = startControllers([new EndpointSliceController()]);
    h.store.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'big', namespace: 'default' },
      spec: { selector: { app: 'big' }, ports: [{ port: 80 }] },
    });
    await until('an empty slice', () => {
      const s = slicesOf('big');
      return s.length === 1 && (s[0]!['endpoints'] as unknown[]).length === 0;
    });
    for (let i = 0; i < MAX_ENDPOINTS_PER_SLICE + 5; i++)
      markPod(h.store, h.clock, pod(`big-${i}`, { app: 'big' }), 'Running');
    const slices = await until('two slices', () => {
      const s = slicesOf('big');
      const n = s.reduce((a, x) => a + (x['endpoints'] as unknown[]).length, 0);
      return s.length === 2 && n === MAX_ENDPOINTS_PER_SLICE + 5 && s;
    });
    expect(slices.map((s) => (s['endpoints'] as unknown[]).length).sort((a, b) => a - b)).toEqual([
      5,
      MAX_ENDPOINTS_PER_SLICE,
    ]);
  });
});
