import { createHash } from 'node:crypto';
import { KUBERNETES_VERSION } from '../../kube/api/api-resources.ts';
import namesFile from '../../kube/api/builtin-definition-names.json' with { type: 'json' };
import modelsFile from '../../kube/api/builtin-models.json' with { type: 'json' };
import type { ServedResource } from '../../kube/api/resource-registry.ts';
import { BUILTIN_FIELD_STRATEGIES } from './schema/builtin-field-strategies.ts';

/**
 * The OpenAPI documents of the served resources, as kube-apiserver publishes them:
 * `/openapi/v2` (Swagger 2.0, `#/definitions/…`) and `/openapi/v3` (an index of one document per
 * group-version, `/openapi/v3/apis/<group>/<version>`, `#/components/schemas/…`). Definitions carry
 * the upstream names (`io.k8s.api.apps.v1.Deployment`), descriptions, the
 * `x-kubernetes-group-version-kind` of each kind, and the patch and list extensions
 * (`x-kubernetes-patch-merge-key`, `x-kubernetes-list-type`, …) that kubectl apply reads. Each
 * PATCH operation lists the `fieldValidation` parameter, which is how kubectl learns that the server
 * validates fields (and sends `fieldValidation=Strict`). Custom resources get their CRD's schema
 * under the reversed-group name (`io.argoproj.v1alpha1.Rollout`).
 * See https://kubernetes.io/docs/concepts/overview/kubernetes-api/#openapi-interface-definition
 */

interface ModelProperty {
  type: string;
  format?: string;
  description?: string;
}
interface Model {
  description?: string;
  properties: Record<string, ModelProperty>;
  required: string[];
}
const MODELS = (modelsFile as unknown as { models: Record<string, Model> }).models;
const NAMES = (namesFile as unknown as { names: Record<string, string> }).names;

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY_FIELDS =
  /^(limits|requests|allocatable|capacity|overhead|hard|used|default|defaultRequest|max|min|maxLimitRequestRatio)$/;

type Schema = Record<string, unknown>;
type Flavor = 'v2' | 'v3';

function refTo(name: string, flavor: Flavor): string {
  return flavor === 'v2' ? `#/definitions/${name}` : `#/components/schemas/${name}`;
}

/** The upstream definition name of a client-node model. */
export function definitionName(model: string): string {
  return NAMES[model] ?? model;
}

/** The schema of a property from client-node's type string; referenced models are collected in `refs`. */
function propertySchema(p: ModelProperty, flavor: Flavor, refs: Set<string>, field: string): Schema {
  const type = p.type;
  const array = /^Array<(.+)>$/.exec(type);
  if (array)
    return {
      type: 'array',
      items: withDefault(
        propertySchema({ type: array[1]!, ...(p.format ? { format: p.format } : {}) }, flavor, refs, field),
        flavor,
      ),
    };
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    const value = propertySchema(
      { type: map[1]!, ...(p.format ? { format: p.format } : {}) },
      flavor,
      refs,
      field,
    );
    return { type: 'object', additionalProperties: withDefault(value, flavor) };
  }
  switch (type) {
    case 'string':
      return p.format === 'byte' ? { type: 'string', format: 'byte' } : { type: 'string' };
    case 'number':
      return p.format === 'double' || p.format === 'float'
        ? { type: 'number', format: p.format }
        : { type: 'integer', format: p.format ?? 'int64' };
    case 'boolean':
      return { type: 'boolean' };
    case 'Date':
      return { type: 'string', format: 'date-time' };
    case 'IntOrString':
      refs.add(INT_OR_STRING);
      return { $ref: refTo(INT_OR_STRING, flavor) };
    case 'any':
      return flavor === 'v3'
        ? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }
        : { type: 'object' };
  }
  if (MODELS[type]) {
    refs.add(type);
    return { $ref: refTo(definitionName(type), flavor) };
  }
  // Types client-node does not model (MicroTime): strings on the wire.
  return { type: 'string', ...(type.endsWith('Time') ? { format: 'date-time' } : {}) };
}

/** v3 puts a `$ref` with siblings in `allOf`, as the upstream documents do. */
function withDefault(s: Schema, flavor: Flavor): Schema {
  if (flavor === 'v3' && s['$ref']) return { allOf: [{ $ref: s['$ref'] }], default: {} };
  return s;
}

function modelSchema(model: string, flavor: Flavor, refs: Set<string>, gvks: Map<string, object[]>): Schema {
  const m = MODELS[model]!;
  const properties: Record<string, Schema> = {};
  for (const [name, p] of Object.entries(m.properties)) {
    let s = propertySchema(p, flavor, refs, name);
    // client-node keeps no description on fields typed by a model: the model's own says what it is.
    const description =
      p.description ??
      (MODELS[p.type]?.description ? cleanDescription(MODELS[p.type]!.description!) : undefined);
    if (description) {
      s =
        s['$ref'] && flavor === 'v3'
          ? { allOf: [{ $ref: s['$ref'] }], default: {}, description }
          : { ...s, description };
      if (s['$ref'] && flavor === 'v2') s = { $ref: s['$ref'], description };
    }
    const strategy = BUILTIN_FIELD_STRATEGIES[`${model}.${name}`];
    if (strategy?.patchMergeKey) s['x-kubernetes-patch-merge-key'] = strategy.patchMergeKey;
    if (strategy?.patchStrategy) s['x-kubernetes-patch-strategy'] = strategy.patchStrategy;
    if (strategy?.listType) s['x-kubernetes-list-type'] = strategy.listType;
    if (strategy?.listMapKeys && strategy.listType === 'map')
      s['x-kubernetes-list-map-keys'] = strategy.listMapKeys;
    if (strategy?.mapType) s['x-kubernetes-map-type'] = strategy.mapType;
    if (QUANTITY_FIELDS.test(name) && s['additionalProperties']) {
      const quantity = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
      refs.add(quantity);
      s['additionalProperties'] = withDefault({ $ref: refTo(quantity, flavor) }, flavor);
    }
    properties[name] = s;
  }
  const out: Schema = { type: 'object', properties };
  if (m.description) out['description'] = cleanDescription(m.description);
  if (m.required.length > 0) out['required'] = m.required;
  if (BUILTIN_FIELD_STRATEGIES[model]?.mapType === 'atomic') out['x-kubernetes-map-type'] = 'atomic';
  const gvk = gvks.get(model);
  if (gvk) out['x-kubernetes-group-version-kind'] = gvk;
  return out;
}

/** client-node prefixes some descriptions with its generator's banner; the API's text comes after it. */
function cleanDescription(d: string): string {
  const banner = 'Do not edit the class manually.';
  const at = d.indexOf(banner);
  return at >= 0 ? d.slice(at + banner.length).trim() : d;
}

const FIXED: Record<string, Schema> = {
  [INT_OR_STRING]: {
    type: 'string',
    format: 'int-or-string',
    description: 'IntOrString is a type that can hold an int32 or a string.',
  },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': {
    type: 'string',
    description:
      'Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors.',
  },
};

/** The kinds each built-in model is (a model can serve several: DeleteOptions in every group). */
function gvksOf(resources: ServedResource[]): Map<string, object[]> {
  const out = new Map<string, object[]>();
  const add = (model: string, gvk: object) => {
    const list = out.get(model) ?? [];
    if (!list.some((g) => JSON.stringify(g) === JSON.stringify(gvk))) list.push(gvk);
    out.set(model, list);
  };
  for (const r of resources) {
    if (!r.model) continue;
    add(r.model, { group: r.group, kind: r.kind, version: r.version });
    if (MODELS[`${r.model}List`])
      add(`${r.model}List`, { group: r.group, kind: `${r.kind}List`, version: r.version });
  }
  for (const [model, kind] of [
    ['V1Status', 'Status'],
    ['V1DeleteOptions', 'DeleteOptions'],
    ['V1APIResourceList', 'APIResourceList'],
    ['V1APIGroupList', 'APIGroupList'],
    ['V1WatchEvent', 'WatchEvent'],
    ['V1Scale', 'Scale'],
    ['V1Eviction', 'Eviction'],
  ] as const)
    add(model, {
      group: kind === 'Scale' ? 'autoscaling' : kind === 'Eviction' ? 'policy' : '',
      kind,
      version: 'v1',
    });
  return out;
}

/** The name custom resources' schemas get: reversed group, version, kind ("io.argoproj.v1alpha1.Rollout"). */
export function customDefinitionName(r: { group: string; version: string; kind: string }): string {
  return `${r.group.split('.').reverse().join('.')}.${r.version}.${r.kind}`;
}

function customSchema(r: ServedResource, flavor: Flavor): Schema {
  const schema = structuredClone(
    (r.custom?.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }) as Schema,
  );
  const properties = { ...((schema['properties'] as Record<string, Schema>) ?? {}) };
  properties['apiVersion'] = {
    type: 'string',
    description: MODELS['V1Deployment']!.properties['apiVersion']!.description,
  };
  properties['kind'] = {
    type: 'string',
    description: MODELS['V1Deployment']!.properties['kind']!.description,
  };
  properties['metadata'] = withDefault(
    { $ref: refTo('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', flavor) },
    flavor,
  );
  if (flavor === 'v3' && properties['metadata']['allOf'])
    properties['metadata'] = {
      ...properties['metadata'],
      description: MODELS['V1Deployment']!.properties['metadata']!.description ?? 'Standard object metadata.',
    };
  return {
    ...schema,
    type: 'object',
    properties,
    'x-kubernetes-group-version-kind': [{ group: r.group, kind: r.kind, version: r.version }],
  };
}

function listSchema(r: ServedResource, flavor: Flavor): Schema {
  return {
    type: 'object',
    description: `${r.kind}List is a list of ${r.kind}`,
    required: ['items'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      items: { type: 'array', items: { $ref: refTo(customDefinitionName(r), flavor) } },
      metadata: withDefault({ $ref: refTo('io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta', flavor) }, flavor),
    },
    'x-kubernetes-group-version-kind': [{ group: r.group, kind: `${r.kind}List`, version: r.version }],
  };
}

/** Every definition reachable from `roots` (client-node model names), plus the fixed ones they use. */
function definitions(roots: string[], flavor: Flavor, gvks: Map<string, object[]>): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const queue = [...roots];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const model = queue.shift()!;
    if (seen.has(model)) continue;
    seen.add(model);
    if (FIXED[model]) {
      out[model] = FIXED[model]!;
      continue;
    }
    if (!MODELS[model]) continue;
    const refs = new Set<string>();
    out[definitionName(model)] = modelSchema(model, flavor, refs, gvks);
    for (const r of refs) if (!seen.has(r)) queue.push(r);
  }
  return out;
}

const COMMON_MODELS = [
  'V1ObjectMeta',
  'V1ListMeta',
  'V1Status',
  'V1DeleteOptions',
  'V1WatchEvent',
  'V1Patch',
];

function parameter(name: string, description: string, flavor: Flavor, inPath = false): Schema {
  const base = {
    name,
    in: inPath ? 'path' : 'query',
    description,
    ...(inPath ? { required: true } : {}),
    uniqueItems: true,
  };
  return flavor === 'v2'
    ? { ...base, type: 'string' }
    : { ...base, schema: { type: 'string', uniqueItems: true } };
}

function operations(r: ServedResource, flavor: Flavor): Record<string, Schema> {
  const gv = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ref = r.custom ? customDefinitionName(r) : definitionName(r.model ?? '');
  const listRef = r.custom ? `${customDefinitionName(r)}List` : definitionName(`${r.model}List`);
  const gvk = { group: r.group, kind: r.kind, version: r.version };
  const body = (name: string) =>
    flavor === 'v2'
      ? { description: 'OK', schema: { $ref: refTo(name, flavor) } }
      : { description: 'OK', content: { 'application/json': { schema: { $ref: refTo(name, flavor) } } } };
  const ns = r.namespaced
    ? [parameter('namespace', 'object name and auth scope, such as for teams and projects', flavor, true)]
    : [];
  const nameParam = parameter('name', `name of the ${r.kind}`, flavor, true);
  const write = [
    parameter('dryRun', 'When present, indicates that modifications should not be persisted.', flavor),
    parameter(
      'fieldManager',
      'fieldManager is a name associated with the actor or entity that is making these changes.',
      flavor,
    ),
    parameter(
      'fieldValidation',
      'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn (the default) - Strict',
      flavor,
    ),
  ];
  const op = (
    action: string,
    verbSuffix: string,
    params: Schema[],
    response: string,
    extra: Schema = {},
  ) => ({
    operationId: `${action}${r.kind}${verbSuffix}`,
    parameters: params,
    responses: { '200': body(response), '401': { description: 'Unauthorized' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    ...extra,
  });
  const patchTypes = [
    'application/json-patch+json',
    'application/merge-patch+json',
    ...(r.custom ? [] : ['application/strategic-merge-patch+json']),
    'application/apply-patch+yaml',
  ];
  const patchBody =
    flavor === 'v2'
      ? { consumes: patchTypes }
      : {
          requestBody: {
            content: Object.fromEntries(
              patchTypes.map((t) => [
                t,
                { schema: { $ref: refTo('io.k8s.apimachinery.pkg.apis.meta.v1.Patch', flavor) } },
              ]),
            ),
          },
        };
  const base = r.namespaced ? `${gv}/namespaces/{namespace}/${r.name}` : `${gv}/${r.name}`;
  const paths: Record<string, Schema> = {};
  const verbs = new Set(r.verbs);
  const collection: Schema = { parameters: ns };
  if (verbs.has('list')) collection['get'] = op('list', '', [], listRef);
  if (verbs.has('create')) collection['post'] = op('post', '', write, ref);
  if (verbs.has('deletecollection'))
    collection['delete'] = op('deletecollection', '', [], 'io.k8s.apimachinery.pkg.apis.meta.v1.Status');
  paths[base] = collection;
  const item: Schema = { parameters: [...ns, nameParam] };
  if (verbs.has('get')) item['get'] = op('get', '', [], ref);
  if (verbs.has('update')) item['put'] = op('put', '', write, ref);
  if (verbs.has('patch'))
    item['patch'] = op(
      'patch',
      '',
      [...write, parameter('force', 'Force is going to "force" Apply requests.', flavor)],
      ref,
      patchBody,
    );
  if (verbs.has('delete'))
    item['delete'] = op('delete', '', [], 'io.k8s.apimachinery.pkg.apis.meta.v1.Status');
  paths[`${base}/{name}`] = item;
  if (r.namespaced && verbs.has('list'))
    paths[`${gv}/${r.name}`] = { get: op('list', 'ForAllNamespaces', [], listRef) };
  for (const s of r.subresources) {
    if (s.name !== 'status' && s.name !== 'scale') continue;
    const subRef = s.name === 'scale' ? definitionName('V1Scale') : ref;
    const sub: Schema = { parameters: [...ns, nameParam] };
    const subGvk = s.name === 'scale' ? { group: 'autoscaling', kind: 'Scale', version: 'v1' } : gvk;
    sub['get'] = { ...op('get', s.name, [], subRef), 'x-kubernetes-group-version-kind': subGvk };
    sub['put'] = { ...op('put', s.name, write, subRef), 'x-kubernetes-group-version-kind': subGvk };
    sub['patch'] = {
      ...op('patch', s.name, write, subRef, patchBody),
      'x-kubernetes-group-version-kind': subGvk,
    };
    paths[`${base}/{name}/${s.name}`] = sub;
  }
  return paths;
}

/** The /openapi/v3/<api|apis/group>/<version> document of one group-version. */
export function openApiV3GroupVersion(
  resources: ServedResource[],
  group: string,
  version: string,
): Schema | undefined {
  const served = resources.filter((r) => r.group === group && r.version === version);
  if (served.length === 0) return undefined;
  const gvks = gvksOf(resources);
  const roots = [...COMMON_MODELS];
  for (const r of served) {
    if (r.model) roots.push(r.model, `${r.model}List`);
    if (r.subresources.some((s) => s.name === 'scale')) roots.push('V1Scale');
  }
  const schemas = definitions(roots, 'v3', gvks);
  for (const r of served) {
    if (!r.custom) continue;
    schemas[customDefinitionName(r)] = customSchema(r, 'v3');
    schemas[`${customDefinitionName(r)}List`] = listSchema(r, 'v3');
  }
  const paths: Record<string, Schema> = {};
  for (const r of served) Object.assign(paths, operations(r, 'v3'));
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: KUBERNETES_VERSION },
    paths,
    components: { schemas },
  };
}

/** The /openapi/v3 index: one entry per group-version, with a hash that changes with the document. */
export function openApiV3Index(resources: ServedResource[], hashOf: (path: string) => string): Schema {
  const paths: Record<string, Schema> = {};
  const gvs = new Set(resources.map((r) => (r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`)));
  for (const gv of [...gvs].sort()) paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${hashOf(gv)}` };
  return { paths };
}

/** The whole /openapi/v2 (Swagger 2.0) document. */
export function openApiV2(resources: ServedResource[]): Schema {
  const gvks = gvksOf(resources);
  const roots = [...COMMON_MODELS, 'V1Scale', 'V1Eviction'];
  for (const r of resources) if (r.model) roots.push(r.model, `${r.model}List`);
  const defs = definitions(roots, 'v2', gvks);
  const paths: Record<string, Schema> = {};
  for (const r of resources) {
    if (r.custom) {
      defs[customDefinitionName(r)] = customSchema(r, 'v2');
      defs[`${customDefinitionName(r)}List`] = listSchema(r, 'v2');
    }
    Object.assign(paths, operations(r, 'v2'));
  }
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: KUBERNETES_VERSION },
    paths,
    definitions: defs,
  };
}

export function hashDocument(text: string): string {
  return createHash('sha512').update(text).digest('hex').slice(0, 128).toUpperCase();
}
