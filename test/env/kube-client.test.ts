import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiVersionOf, ClientNodeKubeApi, collectionPath, selectorString } from '../../env/kube-client.ts';

/** A loopback stand-in for the API server that records each request and answers as Kubernetes does. */
interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}
const seen: Seen[] = [];
let server: http.Server;
let kube: ClientNodeKubeApi;
const before: string[] = [];

const discovery: Record<string, unknown> = {
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'pods', namespaced: true, kind: 'Pod', verbs: ['get', 'list', 'patch', 'delete', 'watch'] },
      { name: 'nodes', namespaced: false, kind: 'Node', verbs: ['get', 'list', 'patch'] },
    ],
  },
  '/apis/argoproj.io/v1alpha1': {
    kind: 'APIResourceList',
    groupVersion: 'argoproj.io/v1alpha1',
    resources: [
      { name: 'rollouts', namespaced: true, kind: 'Rollout', verbs: ['get', 'list', 'patch', 'update'] },
    ],
  },
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const url = req.url ?? '';
      seen.push({ method: req.method ?? '', url, contentType: req.headers['content-type'], body });
      res.setHeader('content-type', 'application/json');
      const path = url.split('?')[0]!;
      if (req.method === 'GET' && discovery[path]) return res.end(JSON.stringify(discovery[path]));
      if (
        req.method === 'GET' &&
        path === '/apis/argoproj.io/v1alpha1/namespaces/production/rollouts/missing'
      ) {
        res.statusCode = 404;
        return res.end(
          JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' }),
        );
      }
      if (req.method === 'GET' && path === '/apis/argoproj.io/v1alpha1/namespaces/production/rollouts/api') {
        return res.end(
          JSON.stringify({
            apiVersion: 'argoproj.io/v1alpha1',
            kind: 'Rollout',
            metadata: { name: 'api', namespace: 'production', resourceVersion: '7' },
            spec: { replicas: 3 },
            status: { pauseConditions: [{ reason: 'CanaryPauseStep' }], currentStepIndex: 1 },
          }),
        );
      }
      if (req.method === 'POST' && path.endsWith('/eviction')) {
        res.statusCode = 429;
        return res.end(
          JSON.stringify({
            kind: 'Status',
            code: 429,
            reason: 'TooManyRequests',
            message: "Cannot evict pod as it would violate the pod's disruption budget.",
          }),
        );
      }
      const parsed = body && !body.startsWith('[') ? JSON.parse(body) : {};
      res.end(JSON.stringify({ ...parsed, metadata: { ...(parsed.metadata ?? {}), resourceVersion: '1' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  kube = new ClientNodeKubeApi(kc, async (o) => {
    before.push(`${o.kind} ${o.metadata.name}`);
  });
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('KubeApi on @kubernetes/client-node (wire format against a recording API server)', () => {
  it('apply is server-side apply: PATCH application/apply-patch+yaml, fieldManager=infra-twin, force=true, no status', async () => {
    seen.length = 0;
    await kube.apply({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'api', namespace: 'production', resourceVersion: '5' },
      spec: { replicas: 3 },
      status: { phase: 'Healthy' },
    });
    const patch = seen.find((s) => s.method === 'PATCH')!;
    expect(patch.url).toMatch(/^\/apis\/argoproj\.io\/v1alpha1\/namespaces\/production\/rollouts\/api\?/);
    const q = new URLSearchParams(patch.url.split('?')[1]);
    expect(q.get('fieldManager')).toBe('infra-twin');
    expect(q.get('force')).toBe('true');
    expect(patch.contentType).toBe('application/apply-patch+yaml');
    expect(JSON.parse(patch.body)).toEqual({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'api', namespace: 'production' },
      spec: { replicas: 3 },
    });
    expect(before).toContain('Rollout api');
  });

  it('patch with subresource status: read, then PUT …/status with the changed object (resourceVersion kept)', async () => {
    seen.length = 0;
    before.length = 0;
    await kube.patch(
      { kind: 'Rollout', namespace: 'production', name: 'api' },
      (ro) => {
        delete ro.status.pauseConditions;
        ro.status.currentStepIndex = 2;
      },
      { subresource: 'status' },
    );
    const put = seen.find((x) => x.method === 'PUT')!;
    expect(put.url).toBe('/apis/argoproj.io/v1alpha1/namespaces/production/rollouts/api/status');
    expect(put.contentType).toBe('application/json');
    expect(JSON.parse(put.body)).toMatchObject({
      metadata: { name: 'api', resourceVersion: '7' },
      status: { currentStepIndex: 2 },
    });
    expect(JSON.parse(put.body).status.pauseConditions).toBeUndefined();
    expect(before).toEqual([]);
  });

  it('get of a missing object is undefined (404), not an error', async () => {
    expect(await kube.get({ kind: 'Rollout', namespace: 'production', name: 'missing' })).toBeUndefined();
  });

  it('emulated GPU: JSON Patch (application/json-patch+json) on /api/v1/nodes/<node>/status', async () => {
    seen.length = 0;
    await kube.patchNodeStatus('k3d-x-agent-6', [
      { op: 'add', path: '/status/capacity/nvidia.com~1gpu', value: '1' },
    ]);
    expect(seen).toEqual([
      expect.objectContaining({
        method: 'PATCH',
        url: '/api/v1/nodes/k3d-x-agent-6/status',
        contentType: 'application/json-patch+json',
        body: JSON.stringify([{ op: 'add', path: '/status/capacity/nvidia.com~1gpu', value: '1' }]),
      }),
    ]);
  });

  it('eviction goes to the pods/eviction subresource as a policy/v1 Eviction; a PDB refusal surfaces as 429', async () => {
    seen.length = 0;
    await expect(kube.evict({ namespace: 'production', name: 'api-1' })).rejects.toMatchObject({ code: 429 });
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/api/v1/namespaces/production/pods/api-1/eviction',
    });
    expect(JSON.parse(seen[0]!.body)).toEqual({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'api-1', namespace: 'production' },
    });
  });

  it('pod kill is a DELETE with gracePeriodSeconds=0', async () => {
    seen.length = 0;
    await kube.killPod({ namespace: 'production', name: 'api-1' });
    expect(seen[0]!.method).toBe('DELETE');
    expect(seen[0]!.url).toBe('/api/v1/namespaces/production/pods/api-1?gracePeriodSeconds=0');
  });
});

describe('request helpers', () => {
  it('label selectors as query strings, collection paths, default apiVersions', () => {
    expect(
      selectorString({
        matchLabels: { app: 'api' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['a', 'b'] },
          { key: 'gone', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=api,tier in (a,b),!gone');
    expect(collectionPath('v1', 'pods', 'x')).toBe('/api/v1/namespaces/x/pods');
    expect(collectionPath('argoproj.io/v1alpha1', 'rollouts')).toBe('/apis/argoproj.io/v1alpha1/rollouts');
    expect(apiVersionOf({ kind: 'Rollout' })).toBe('argoproj.io/v1alpha1');
    expect(() => apiVersionOf({ kind: 'Widget' })).toThrow(/Widget: give its apiVersion/);
  });
});
