import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import type { ValidateObject } from '../../../twin/apiserver/admission.ts';
import { configMap, startApiServer, watchEvents } from './api-server-harness.ts';

type Started = Awaited<ReturnType<typeof startApiServer>>;

const deployment = (name: string, replicas = 2): KubeObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'production', labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `${name}:1` }] } },
    },
  }) as KubeObject;

/** A small stand-in for kube/schema validateObject: Deployment spec fields must be known; replicas ≥ 0. */
const validate: ValidateObject = (obj, _registry, { fieldValidation }) => {
  const causes: { reason: string; message: string; field: string }[] = [];
  const warnings: string[] = [];
  if (obj.kind === 'Deployment') {
    for (const k of Object.keys(obj.spec ?? {})) {
      if (
        [
          'replicas',
          'selector',
          'template',
          'strategy',
          'minReadySeconds',
          'revisionHistoryLimit',
          'paused',
          'progressDeadlineSeconds',
        ].includes(k)
      )
        continue;
      const message = `unknown field "spec.${k}"`;
      if (fieldValidation === 'Strict')
        causes.push({ reason: 'FieldValueUnknown', message, field: `spec.${k}` });
      else if (fieldValidation === 'Warn') warnings.push(message);
    }
    if ((obj.spec?.replicas ?? 0) < 0)
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${obj.spec.replicas}: must be greater than or equal to 0`,
        field: 'spec.replicas',
      });
  }
  return { causes, warnings };
};

describe('twin API server: discovery, version, OpenAPI', () => {
  let s: Started;
  beforeAll(async () => {
    s = await startApiServer();
  });
  afterAll(() => s.stop());

  it('answers /version with the Kubernetes release of the schemas, and the health endpoints', async () => {
    const v = await s.request('GET', '/version');
    expect(v.json).toMatchObject({ major: '1', minor: '36', gitVersion: 'v1.36.0' });
    for (const p of ['/healthz', '/readyz', '/livez']) expect((await s.request('GET', p)).text).toBe('ok');
  });

  it('serves legacy and aggregated discovery', async () => {
    const api = await s.request('GET', '/api');
    expect(api.json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const apps = await s.request('GET', '/apis/apps/v1');
    const deploy = apps.json.resources.find((r: any) => r.name === 'deployments');
    expect(deploy).toMatchObject({
      kind: 'Deployment',
      namespaced: true,
      shortNames: ['deploy'],
      categories: ['all'],
    });
    expect(apps.json.resources.find((r: any) => r.name === 'deployments/scale')).toMatchObject({
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
    });
    const agg = await s.request('GET', '/apis', undefined, {
      Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json',
    });
    expect(agg.headers['content-type']).toBe(
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    );
    const appsGroup = agg.json.items.find((g: any) => g.metadata.name === 'apps');
    const d = appsGroup.versions[0].resources.find((r: any) => r.resource === 'deployments');
    expect(d).toMatchObject({
      scope: 'Namespaced',
      responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    });
    expect(d.subresources.map((x: any) => x.subresource)).toEqual(['scale', 'status']);
    const core = await s.request('GET', '/api', undefined, {
      Accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
    });
    expect(core.json.apiVersion).toBe('apidiscovery.k8s.io/v2beta1');
    expect(core.json.items[0].versions[0].resources.some((r: any) => r.resource === 'pods')).toBe(true);
  });

  it('publishes OpenAPI v3 per group-version with upstream names, GVK extensions, patch keys and fieldValidation', async () => {
    const index = await s.request('GET', '/openapi/v3');
    const url = index.json.paths['apis/apps/v1'].serverRelativeURL;
    expect(url).toMatch(/^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]+$/);
    const doc = (await s.request('GET', url)).json;
    const d = doc.components.schemas['io.k8s.api.apps.v1.Deployment'];
    expect(d['x-kubernetes-group-version-kind']).toEqual([
      { group: 'apps', kind: 'Deployment', version: 'v1' },
    ]);
    expect(d.properties.spec.allOf[0].$ref).toBe('#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec');
    const containers = doc.components.schemas['io.k8s.api.core.v1.PodSpec'].properties.containers;
    expect(containers).toMatchObject({
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-list-type': 'map',
    });
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({
      group: 'apps',
      kind: 'Deployment',
      version: 'v1',
    });
    expect(patch.parameters.map((p: any) => p.name)).toContain('fieldValidation');
    const v2 = await s.request('GET', '/openapi/v2', undefined, { Accept: 'application/json' });
    expect(v2.json.definitions['io.k8s.api.core.v1.Pod']['x-kubernetes-group-version-kind']).toEqual([
      { group: '', kind: 'Pod', version: 'v1' },
    ]);
  });
});

describe('twin API server: objects', () => {
  let s: Started;
  beforeAll(async () => {
    s = await startApiServer({ validate });
  });
  afterAll(() => s.stop());

  it('creates (201, generateName, dryRun), gets, and words NotFound and AlreadyExists as kube-apiserver', async () => {
    const created = await s.request('POST', '/api/v1/namespaces/production/configmaps', configMap('one'));
    expect(created.status).toBe(201);
    expect(created.json.metadata).toMatchObject({
      name: 'one',
      namespace: 'production',
      resourceVersion: expect.any(String),
    });
    const again = await s.request('POST', '/api/v1/namespaces/production/configmaps', configMap('one'));
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({
      kind: 'Status',
      reason: 'AlreadyExists',
      message: 'configmaps "one" already exists',
      details: { name: 'one', kind: 'configmaps' },
    });
    const generated = await s.request('POST', '/api/v1/namespaces/production/configmaps', {
      ...configMap(''),
      metadata: { generateName: 'gen-' },
    });
    expect(generated.json.metadata.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const dry = await s.request(
      'POST',
      '/api/v1/namespaces/production/configmaps?dryRun=All',
      configMap('dry'),
    );
    expect(dry.status).toBe(201);
    expect(s.store.get({ kind: 'ConfigMap', namespace: 'production', name: 'dry' })).toBeUndefined();
    const missing = await s.request('GET', '/apis/apps/v1/namespaces/production/deployments/nope');
    expect(missing.json).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'deployments.apps "nope" not found',
      details: { name: 'nope', group: 'apps', kind: 'deployments' },
    });
  });

  it('refuses a stale resourceVersion with the exact conflict message', async () => {
    const cm = (await s.request('POST', '/api/v1/namespaces/production/configmaps', configMap('occ'))).json;
    const first = await s.request('PUT', '/api/v1/namespaces/production/configmaps/occ', {
      ...cm,
      data: { a: '2' },
    });
    expect(first.status).toBe(200);
    const stale = await s.request('PUT', '/api/v1/namespaces/production/configmaps/occ', {
      ...cm,
      data: { a: '3' },
    });
    expect(stale.status).toBe(409);
    expect(stale.json.message).toBe(
      'Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it('applies NamespaceLifecycle: 404 for a missing namespace, 403 in a terminating one', async () => {
    const missing = await s.request('POST', '/api/v1/namespaces/ghost/configmaps', configMap('x', 'ghost'));
    expect(missing.json).toMatchObject({ code: 404, message: 'namespaces "ghost" not found' });
    s.store.create({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'leaving' },
      spec: { finalizers: ['kubernetes'] },
    });
    await s.request('DELETE', '/api/v1/namespaces/leaving');
    const denied = await s.request(
      'POST',
      '/api/v1/namespaces/leaving/configmaps',
      configMap('x', 'leaving'),
    );
    expect(denied.status).toBe(403);
    expect(denied.json.message).toBe(
      'configmaps "x" is forbidden: unable to create new content in namespace leaving because it is being terminated',
    );
    const immortal = await s.request('DELETE', '/api/v1/namespaces/default');
    expect(immortal.json).toMatchObject({
      code: 403,
      message: 'namespaces "default" is forbidden: this namespace may not be deleted',
    });
  });

  it('calls the validation hook: strict unknown fields are 400, invalid values 422, warnings are Warning headers', async () => {
    const bad = deployment('strict');
    bad.spec.replica = 3;
    const strict = await s.request(
      'POST',
      '/apis/apps/v1/namespaces/production/deployments?fieldValidation=Strict',
      bad,
    );
    expect(strict.status).toBe(400);
    expect(strict.json.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica"',
    );
    const warned = await s.request(
      'POST',
      '/apis/apps/v1/namespaces/production/deployments?fieldValidation=Warn',
      bad,
    );
    expect(warned.status).toBe(201);
    expect(warned.headers.warning).toBe('299 - "unknown field \\"spec.replica\\""');
    const negative = deployment('neg', -1);
    const invalid = await s.request('POST', '/apis/apps/v1/namespaces/production/deployments', negative);
    expect(invalid.status).toBe(422);
    expect(invalid.json).toMatchObject({
      reason: 'Invalid',
      message:
        'Deployment.apps "neg" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      details: { causes: [{ reason: 'FieldValueInvalid', field: 'spec.replicas' }] },
    });
  });

  it('keeps status on the main resource and changes only status through /status', async () => {
    await s.request('POST', '/apis/apps/v1/namespaces/production/deployments', deployment('st'));
    const cur = (await s.request('GET', '/apis/apps/v1/namespaces/production/deployments/st')).json;
    const withStatus = await s.request('PUT', '/apis/apps/v1/namespaces/production/deployments/st/status', {
      ...cur,
      spec: { ...cur.spec, replicas: 9 },
      status: { replicas: 2, readyReplicas: 2 },
    });
    expect(withStatus.json.status).toEqual({ replicas: 2, readyReplicas: 2 });
    expect(withStatus.json.spec.replicas).toBe(2);
    const main = await s.request('PUT', '/apis/apps/v1/namespaces/production/deployments/st', {
      ...withStatus.json,
      spec: { ...cur.spec, replicas: 3 },
      status: { replicas: 0 },
    });
    expect(main.json.spec.replicas).toBe(3);
    expect(main.json.status).toEqual({ replicas: 2, readyReplicas: 2 });
    expect(main.json.metadata.generation).toBe(2);
    const scale = await s.request('GET', '/apis/apps/v1/namespaces/production/deployments/st/scale');
    expect(scale.json).toMatchObject({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      spec: { replicas: 3 },
      status: { replicas: 2, selector: 'app=st' },
    });
    const scaled = await s.request(
      'PATCH',
      '/apis/apps/v1/namespaces/production/deployments/st/scale',
      { spec: { replicas: 5 } },
      {
        'Content-Type': 'application/merge-patch+json',
      },
    );
    expect(scaled.json.spec.replicas).toBe(5);
    expect(s.store.get({ kind: 'Deployment', namespace: 'production', name: 'st' })?.spec.replicas).toBe(5);
  });

  it('patches with JSON patch, merge patch and strategic merge patch; custom resources refuse strategic merge (415)', async () => {
    await s.request('POST', '/apis/apps/v1/namespaces/production/deployments', deployment('p'));
    const url = '/apis/apps/v1/namespaces/production/deployments/p';
    const smp = await s.request(
      'PATCH',
      url,
      { spec: { template: { spec: { containers: [{ name: 'side', image: 'side:1' }] } } } },
      { 'Content-Type': 'application/strategic-merge-patch+json' },
    );
    expect(smp.json.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['p', 'side']);
    const merge = await s.request(
      'PATCH',
      url,
      { metadata: { labels: { extra: 'yes' } } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    expect(merge.json.metadata.labels).toEqual({ app: 'p', extra: 'yes' });
    const json = await s.request('PATCH', url, [{ op: 'replace', path: '/spec/replicas', value: 4 }], {
      'Content-Type': 'application/json-patch+json',
    });
    expect(json.json.spec.replicas).toBe(4);
    const failed = await s.request('PATCH', url, [{ op: 'test', path: '/spec/replicas', value: 1 }], {
      'Content-Type': 'application/json-patch+json',
    });
    expect(failed.status).toBe(422);
    s.store.create({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'production' },
      spec: { size: 1 },
    });
    const cr = await s.request(
      'PATCH',
      '/apis/example.com/v1/namespaces/production/widgets/w',
      { spec: { size: 2 } },
      {
        'Content-Type': 'application/strategic-merge-patch+json',
      },
    );
    expect(cr.status).toBe(415);
    const crMerge = await s.request(
      'PATCH',
      '/apis/example.com/v1/namespaces/production/widgets/w',
      { spec: { size: 2 } },
      {
        'Content-Type': 'application/merge-patch+json',
      },
    );
    expect(crMerge.json.spec.size).toBe(2);
  });

  it('server-side applies with field managers and answers conflicts naming fields and managers', async () => {
    const url = '/apis/apps/v1/namespaces/production/deployments/ssa';
    const yaml = (replicas: number) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ssa\n  namespace: production\nspec:\n  replicas: ${replicas}\n  selector:\n    matchLabels: {app: ssa}\n  template:\n    metadata:\n      labels: {app: ssa}\n    spec:\n      containers:\n      - name: ssa\n        image: ssa:1\n`;
    const ct = { 'Content-Type': 'application/apply-patch+yaml' };
    const created = await s.request('PATCH', `${url}?fieldManager=alice`, yaml(2), ct);
    expect(created.status).toBe(201);
    expect(created.json.metadata.managedFields[0]).toMatchObject({
      manager: 'alice',
      operation: 'Apply',
      fieldsType: 'FieldsV1',
    });
    const conflict = await s.request('PATCH', `${url}?fieldManager=bob`, yaml(3), ct);
    expect(conflict.status).toBe(409);
    expect(conflict.json).toMatchObject({
      reason: 'Conflict',
      message: 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas',
      details: {
        causes: [
          { reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.spec.replicas' },
        ],
      },
    });
    const forced = await s.request('PATCH', `${url}?fieldManager=bob&force=true`, yaml(3), ct);
    expect(forced.json.spec.replicas).toBe(3);
    const noManager = await s.request('PATCH', url, yaml(3), ct);
    expect(noManager.status).toBe(400);
  });

  it('deletes with propagation policies: 202 with the object while finalizers hold it', async () => {
    const cm = {
      ...configMap('held'),
      metadata: { name: 'held', namespace: 'production', finalizers: ['example.com/hold'] },
    };
    await s.request('POST', '/api/v1/namespaces/production/configmaps', cm);
    const held = await s.request('DELETE', '/api/v1/namespaces/production/configmaps/held');
    expect(held.status).toBe(202);
    expect(held.json.metadata.deletionTimestamp).toBeDefined();
    await s.request(
      'PATCH',
      '/api/v1/namespaces/production/configmaps/held',
      { metadata: { finalizers: null } },
      {
        'Content-Type': 'application/merge-patch+json',
      },
    );
    expect((await s.request('GET', '/api/v1/namespaces/production/configmaps/held')).status).toBe(404);
    await s.request('POST', '/api/v1/namespaces/production/configmaps', configMap('gone'));
    const done = await s.request('DELETE', '/api/v1/namespaces/production/configmaps/gone', {
      propagationPolicy: 'Foreground',
    });
    expect(done.json).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'gone', kind: 'configmaps' },
    });
    const badPolicy = await s.request(
      'DELETE',
      '/api/v1/namespaces/production/configmaps/x?propagationPolicy=Sometimes',
    );
    expect(badPolicy.status).toBe(400);
  });

  it('serves HorizontalPodAutoscalers at autoscaling/v1 converted from the stored autoscaling/v2', async () => {
    const hpa = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'h', namespace: 'production' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'x' },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
          },
        ],
      },
    };
    expect(
      (await s.request('POST', '/apis/autoscaling/v2/namespaces/production/horizontalpodautoscalers', hpa))
        .status,
    ).toBe(201);
    const v1 = (
      await s.request('GET', '/apis/autoscaling/v1/namespaces/production/horizontalpodautoscalers/h')
    ).json;
    expect(v1).toMatchObject({
      apiVersion: 'autoscaling/v1',
      spec: { maxReplicas: 5, targetCPUUtilizationPercentage: 70 },
    });
    const patched = await s.request(
      'PATCH',
      '/apis/autoscaling/v1/namespaces/production/horizontalpodautoscalers/h',
      { spec: { targetCPUUtilizationPercentage: 50 } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    expect(patched.json.spec.targetCPUUtilizationPercentage).toBe(50);
    const stored = s.store.get({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      namespace: 'production',
      name: 'h',
    })!;
    expect(stored.apiVersion).toBe('autoscaling/v2');
    expect(stored.spec.metrics[0].resource.target.averageUtilization).toBe(50);
  });

  it('refuses bodies over 3 MiB and objects over etcd’s 1.5 MiB (413)', async () => {
    const big = configMap('big');
    big['data'] = { a: 'x'.repeat(1.6 * 1024 * 1024) };
    const tooBig = await s.request('POST', '/api/v1/namespaces/production/configmaps', big);
    expect(tooBig.json).toMatchObject({ code: 413, message: 'etcdserver: request is too large' });
    big['data'] = { a: 'x'.repeat(3.1 * 1024 * 1024) };
    const body = await s.request('POST', '/api/v1/namespaces/production/configmaps', big);
    expect(body.json).toMatchObject({ code: 413, message: 'Request entity too large: limit is 3145728' });
  });
});

describe('twin API server: custom resources', () => {
  let s: Started;
  beforeAll(async () => {
    s = await startApiServer();
  });
  afterAll(() => s.stop());

  it('serves a CRD created through the API: discovery, OpenAPI, printer columns and the scale subresource', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', properties: { replicas: { type: 'integer' } } },
                  status: {
                    type: 'object',
                    properties: { replicas: { type: 'integer' }, selector: { type: 'string' } },
                  },
                },
              },
            },
            subresources: {
              status: {},
              scale: {
                specReplicasPath: '.spec.replicas',
                statusReplicasPath: '.status.replicas',
                labelSelectorPath: '.status.selector',
              },
            },
            additionalPrinterColumns: [{ name: 'Desired', type: 'integer', jsonPath: '.spec.replicas' }],
          },
        ],
      },
    };
    expect(
      (await s.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status,
    ).toBe(201);
    const discovery = (await s.request('GET', '/apis/example.com/v1')).json;
    expect(discovery.resources.map((r: any) => r.name)).toEqual([
      'widgets',
      'widgets/status',
      'widgets/scale',
    ]);
    const widget = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w1', namespace: 'production' },
      spec: { replicas: 2 },
    };
    expect(
      (await s.request('POST', '/apis/example.com/v1/namespaces/production/widgets', widget)).status,
    ).toBe(201);
    await s.request('PUT', '/apis/example.com/v1/namespaces/production/widgets/w1/status', {
      ...(await s.request('GET', '/apis/example.com/v1/namespaces/production/widgets/w1')).json,
      status: { replicas: 2, selector: 'app=w1' },
    });
    const scale = (await s.request('GET', '/apis/example.com/v1/namespaces/production/widgets/w1/scale'))
      .json;
    expect(scale).toMatchObject({
      kind: 'Scale',
      spec: { replicas: 2 },
      status: { replicas: 2, selector: 'app=w1' },
    });
    await s.request('PUT', '/apis/example.com/v1/namespaces/production/widgets/w1/scale', {
      ...scale,
      spec: { replicas: 6 },
    });
    expect(
      s.store.get({ apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'production', name: 'w1' })?.spec
        .replicas,
    ).toBe(6);
    const table = (
      await s.request('GET', '/apis/example.com/v1/namespaces/production/widgets', undefined, {
        Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
      })
    ).json;
    expect(table.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Desired']);
    expect(table.rows[0].cells).toEqual(['w1', 6]);
    const openapi = (await s.request('GET', '/openapi/v3/apis/example.com/v1')).json;
    expect(openapi.components.schemas['com.example.v1.Widget']['x-kubernetes-group-version-kind']).toEqual([
      { group: 'example.com', kind: 'Widget', version: 'v1' },
    ]);
    await s.request('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com');
    expect((await s.request('GET', '/apis/example.com/v1/namespaces/production/widgets')).status).toBe(404);
  });
});

describe('twin API server: list and watch', () => {
  let s: Started;
  beforeAll(async () => {
    s = await startApiServer({ historyLimit: 50 });
    for (let i = 0; i < 7; i++)
      s.store.create(configMap(`cm-${i}`, 'production', { tier: i % 2 ? 'odd' : 'even', idx: String(i) }));
  });
  afterAll(() => s.stop());

  it('selects by labels (every operator) and fields, refusing unsupported fields with 400', async () => {
    const names = async (q: string) =>
      (await s.request('GET', `/api/v1/namespaces/production/configmaps?${q}`)).json.items.map(
        (o: any) => o.metadata.name,
      );
    expect(await names('labelSelector=tier%3Dodd')).toEqual(['cm-1', 'cm-3', 'cm-5']);
    expect(await names('labelSelector=tier%20notin%20(odd),idx%3E2')).toEqual(['cm-4', 'cm-6']);
    expect(await names('labelSelector=!tier')).toEqual([]);
    expect(await names('fieldSelector=metadata.name%3Dcm-2')).toEqual(['cm-2']);
    expect(await names('fieldSelector=metadata.name!%3Dcm-2,metadata.namespace%3Dproduction')).toHaveLength(
      6,
    );
    const bad = await s.request(
      'GET',
      '/api/v1/namespaces/production/configmaps?fieldSelector=spec.nodeName%3Dx',
    );
    expect(bad.json).toMatchObject({ code: 400, message: 'field label not supported: spec.nodeName' });
    const badLabels = await s.request('GET', '/api/v1/pods?labelSelector=a%20in%20b');
    expect(badLabels.json).toMatchObject({
      code: 400,
      message: "unable to parse requirement: found 'b' expected: '('",
    });
  });

  it('pages with limit/continue at one resourceVersion, and lists at an exact resourceVersion', async () => {
    const first = (await s.request('GET', '/api/v1/namespaces/production/configmaps?limit=3')).json;
    expect(first.items).toHaveLength(3);
    expect(first.metadata.remainingItemCount).toBe(4);
    s.store.create(configMap('cm-late'));
    const second = (
      await s.request(
        'GET',
        `/api/v1/namespaces/production/configmaps?limit=10&continue=${first.metadata.continue}`,
      )
    ).json;
    expect(second.items.map((o: any) => o.metadata.name)).toEqual(['cm-3', 'cm-4', 'cm-5', 'cm-6']);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const exact = (
      await s.request(
        'GET',
        `/api/v1/namespaces/production/configmaps?resourceVersion=${first.metadata.resourceVersion}&resourceVersionMatch=Exact`,
      )
    ).json;
    expect(exact.items.map((o: any) => o.metadata.name)).not.toContain('cm-late');
    const future = await s.request(
      'GET',
      `/api/v1/namespaces/production/configmaps?resourceVersion=999999&resourceVersionMatch=NotOlderThan`,
    );
    expect(future.json).toMatchObject({ code: 504, reason: 'Timeout' });
  });

  it('watches from a resourceVersion, with DELETED at the deletion resourceVersion and selector transitions', async () => {
    const rv = s.store.resourceVersion;
    const watching = watchEvents(
      s.server,
      s.admin,
      `/api/v1/namespaces/production/configmaps?watch=true&resourceVersion=${rv}&labelSelector=tier%3Dodd`,
      3,
    );
    await new Promise((r) => setTimeout(r, 200));
    s.store.patch({ kind: 'ConfigMap', namespace: 'production', name: 'cm-1' }, (o) => {
      o['data'] = { a: 'changed' };
    });
    s.store.patch({ kind: 'ConfigMap', namespace: 'production', name: 'cm-3' }, (o) => {
      o.metadata.labels = { tier: 'even' };
    });
    const gone = s.store.delete({ kind: 'ConfigMap', namespace: 'production', name: 'cm-5' });
    const { events } = await watching;
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
      'MODIFIED cm-1',
      'DELETED cm-3',
      'DELETED cm-5',
    ]);
    expect(events[2].object.metadata.resourceVersion).toBe(gone!.metadata.resourceVersion);
  });

  it('sends the initial state, bookmarks, and 410 Gone for a compacted resourceVersion', async () => {
    const initial = await watchEvents(
      s.server,
      s.admin,
      '/api/v1/namespaces/production/configmaps?watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=',
      8,
      3000,
    );
    const types = initial.events.map((e) => e.type);
    expect(types.filter((t) => t === 'ADDED').length).toBeGreaterThan(3);
    const marker = initial.events.find((e) => e.type === 'BOOKMARK');
    expect(marker.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    for (let i = 0; i < 60; i++) s.store.create(configMap(`churn-${i}`, 'default'));
    const old = await watchEvents(
      s.server,
      s.admin,
      '/api/v1/namespaces/production/configmaps?watch=true&resourceVersion=2',
      1,
    );
    expect(old.events[0]).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired' },
    });
    expect(old.events[0].object.message).toMatch(/^too old resource version: 2 \(\d+\)$/);
  });

  it('answers metadata-only lists and watches (PartialObjectMetadata) for metadata informers', async () => {
    const accept = {
      Accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json',
    };
    const list = (
      await s.request('GET', '/api/v1/namespaces/production/configmaps?limit=2', undefined, accept)
    ).json;
    expect(list.kind).toBe('PartialObjectMetadataList');
    expect(list.items[0]).toEqual({
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: expect.objectContaining({ name: 'cm-0' }),
    });
    const rv = s.store.resourceVersion;
    const pending = watchEvents(
      s.server,
      s.admin,
      `/api/v1/namespaces/production/configmaps?watch=true&resourceVersion=${rv}`,
      1,
      3000,
      {
        Accept: 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io',
      },
    );
    await new Promise((r) => setTimeout(r, 200));
    s.store.create(configMap('meta-only'));
    const { events } = await pending;
    expect(events[0]).toMatchObject({
      type: 'ADDED',
      object: { kind: 'PartialObjectMetadata', metadata: { name: 'meta-only' } },
    });
    expect(events[0].object.data).toBeUndefined();
  });

  it('answers Tables with the printers’ columns', async () => {
    s.store.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'production' },
      spec: { nodeName: 'n1', containers: [{ name: 'a', image: 'a' }] },
      status: {
        phase: 'Running',
        podIP: '10.0.0.1',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'a', ready: true, restartCount: 0, state: { running: {} } }],
      },
    });
    const table = (
      await s.request('GET', '/api/v1/namespaces/production/pods', undefined, {
        Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
      })
    ).json;
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((c: any) => c.name)).toEqual([
      'Name',
      'Ready',
      'Status',
      'Restarts',
      'Age',
      'IP',
      'Node',
      'Nominated Node',
      'Readiness Gates',
    ]);
    expect(table.rows[0].cells.slice(0, 4)).toEqual(['p', '1/1', 'Running', '0']);
    expect(table.rows[0].cells.slice(5, 7)).toEqual(['10.0.0.1', 'n1']);
    expect(table.rows[0].object.kind).toBe('PartialObjectMetadata');
    const none = (
      await s.request('GET', '/api/v1/namespaces/production/pods?includeObject=None', undefined, {
        Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
      })
    ).json;
    expect(none.rows[0].object).toBeUndefined();
  });
});

describe('twin API server: authentication and RBAC', () => {
  let s: Started;
  beforeAll(async () => {
    s = await startApiServer({ rbac: 'enforce' });
    s.store.create({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'reader', namespace: 'production' },
    });
    s.store.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'pod-reader', namespace: 'production' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
    });
    s.store.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader', namespace: 'production' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'production' }],
    });
  });
  afterAll(() => s.stop());

  it('lets anonymous clients see only the public endpoints', async () => {
    const anon = { ca: s.admin.ca };
    expect((await s.request('GET', '/version', undefined, {}, anon)).status).toBe(200);
    const pods = await s.request('GET', '/api/v1/pods', undefined, {}, anon);
    expect(pods.json).toMatchObject({
      code: 403,
      message:
        'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" at the cluster scope',
    });
    const bad = await s.request(
      'GET',
      '/api/v1/pods',
      undefined,
      {},
      { ca: s.admin.ca, token: 'not.a.token' },
    );
    expect(bad.status).toBe(401);
  });

  it('authenticates service account tokens from the TokenRequest API and enforces the bindings', async () => {
    const tr = await s.request('POST', '/api/v1/namespaces/production/serviceaccounts/reader/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 600 },
    });
    expect(tr.status).toBe(201);
    const sa = { ca: s.admin.ca, token: tr.json.status.token };
    expect((await s.request('GET', '/api/v1/namespaces/production/pods', undefined, {}, sa)).status).toBe(
      200,
    );
    const secrets = await s.request('GET', '/api/v1/namespaces/production/secrets', undefined, {}, sa);
    expect(secrets.json.message).toBe(
      'secrets is forbidden: User "system:serviceaccount:production:reader" cannot list resource "secrets" in API group "" in the namespace "production"',
    );
    const review = await s.request(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace: 'production', verb: 'list', resource: 'pods' } },
      },
      {},
      sa,
    );
    expect(review.json.status.allowed).toBe(true);
    const who = await s.request(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      {},
      sa,
    );
    expect(who.json.status.userInfo.username).toBe('system:serviceaccount:production:reader');
    s.store.delete({ kind: 'ServiceAccount', namespace: 'production', name: 'reader' });
    expect((await s.request('GET', '/api/v1/namespaces/production/pods', undefined, {}, sa)).status).toBe(
      401,
    );
  });
});

describe('twin API server: RBAC in warn mode', () => {
  it('serves what RBAC would forbid and records a Warning Event naming it', async () => {
    const s = await startApiServer();
    try {
      s.store.create({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'nobody', namespace: 'production' },
      });
      const tr = await s.request('POST', '/api/v1/namespaces/production/serviceaccounts/nobody/token', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {},
      });
      const sa = { ca: s.admin.ca, token: tr.json.status.token };
      expect(
        (await s.request('GET', '/api/v1/namespaces/production/secrets', undefined, {}, sa)).status,
      ).toBe(200);
      const events = s.store.list({ kind: 'Event' }, { namespace: 'production' });
      expect(events.map((e) => [e['reason'], e['type'], e['message']])).toContainEqual([
        'RBACWouldForbid',
        'Warning',
        'RBAC would forbid this request (served: RBAC is not enforced): User "system:serviceaccount:production:nobody" cannot list resource "secrets" in API group "" in the namespace "production"',
      ]);
    } finally {
      await s.stop();
    }
  });
});
