import { describe, expect, it } from 'vitest';
import { ResourceRegistry } from '../../../kube/api/resource-registry.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { duplicateFields, pruneObject, validateObject } from '../../../kube/schema/index.ts';

const registry = new ResourceRegistry();
const strict = { fieldValidation: 'Strict' } as const;

function deployment(patch: (d: any) => void = () => {}): KubeObject {
  const d: any = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'production', labels: { app: 'api' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'api' } },
      template: {
        metadata: { labels: { app: 'api' } },
        spec: {
          containers: [
            {
              name: 'api',
              image: 'api:1',
              resources: { requests: { cpu: 2, memory: '1Gi' }, limits: { cpu: '2' } },
            },
          ],
        },
      },
    },
  };
  patch(d);
  return d;
}

const messages = (obj: KubeObject, r = registry) =>
  validateObject(obj, r, strict).causes.map((c) => `${c.field}: ${c.message}`);

describe('validateObject: built-in kinds (the v1.36 OpenAPI models)', () => {
  it('accepts a valid Deployment (a number quantity included) and does not change it', () => {
    const d = deployment();
    const before = structuredClone(d);
    expect(validateObject(d, registry, strict)).toEqual({ causes: [], warnings: [] });
    expect(d).toEqual(before);
  });

  it('reports types as encoding/json does, enums, formats and required fields', () => {
    expect(
      messages(
        deployment((d) => {
          d.spec.replicas = '3';
          d.spec.paused = 'yes';
          d.spec.strategy = { type: 'YoloUpdate' };
          d.spec.revisionHistoryLimit = 2 ** 31;
          d.spec.template.spec.containers[0].env = [{ value: 'x' }];
          d.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes';
        }),
      ).sort(),
    ).toEqual([
      'spec.paused: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool',
      'spec.replicas: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
      'spec.revisionHistoryLimit: json: cannot unmarshal number 2147483648 into Go struct field DeploymentSpec.spec.revisionHistoryLimit of type int32',
      'spec.strategy.type: Unsupported value: "YoloUpdate": supported values: "Recreate", "RollingUpdate"',
      'spec.template.spec.containers[0].env[0].name: Required value',
      'spec.template.spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
    ]);
  });

  it('rejects a Secret value that is not base64 and a malformed quantity', () => {
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { k: 'not base64!' },
    };
    expect(messages(secret)).toEqual(['data[k]: illegal base64 data at input byte 3']);
    expect(
      messages(deployment((d) => (d.spec.template.spec.containers[0].resources.limits.memory = '1 GB'))),
    ).toEqual([
      "spec.template.spec.containers[0].resources.limits[memory]: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    ]);
  });

  it('unknown fields: Strict rejects them, Warn warns as kube-apiserver does, Ignore drops them; pruneObject stores without them', () => {
    const d = deployment((d) => {
      d.spec.replica = 3;
      d.spec.template.spec.containers[0].imagePullPolicyTypo = 'Always';
    });
    expect(validateObject(d, registry, strict).causes).toEqual([
      {
        reason: 'FieldValueUnknown',
        field: 'spec.template.spec.containers[0].imagePullPolicyTypo',
        message: 'unknown field "spec.template.spec.containers[0].imagePullPolicyTypo"',
      },
      { reason: 'FieldValueUnknown', field: 'spec.replica', message: 'unknown field "spec.replica"' },
    ]);
    expect(validateObject(d, registry, { fieldValidation: 'Warn' })).toEqual({
      causes: [],
      warnings: [
        'unknown field "spec.template.spec.containers[0].imagePullPolicyTypo"',
        'unknown field "spec.replica"',
      ],
    });
    expect(validateObject(d, registry, { fieldValidation: 'Ignore' })).toEqual({ causes: [], warnings: [] });
    const stored = pruneObject(d, registry)!;
    expect(stored.spec.replica).toBeUndefined();
    expect(stored.spec.template.spec.containers[0].imagePullPolicyTypo).toBeUndefined();
    expect(d.spec.replica).toBe(3);
  });

  it('ObjectMeta: names per kind, label keys and values, the 256 KiB annotation total, a namespace on a cluster-scoped kind', () => {
    const svc: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: '1api',
        labels: { 'bad key': 'v', ok: 'bad value!' },
        annotations: { big: 'x'.repeat(262_144) },
      },
      spec: { ports: [{ port: 80 }] },
    };
    expect(
      validateObject(svc, registry, strict).causes.map((c) => `${c.field}: ${c.message.slice(0, 60)}`),
    ).toEqual([
      'metadata.name: Invalid value: "1api": a DNS-1035 label must consist of lowe',
      'metadata.labels: Invalid value: "bad key": name part must consist of alphanum',
      'metadata.labels[ok]: Invalid value: "bad value!": a valid label must be an empty ',
      'metadata.annotations: Too long: must have at most 262144 bytes',
    ]);
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', namespace: 'y' } };
    expect(messages(ns)).toEqual(['metadata.namespace: Forbidden: not allowed on this type']);
  });

  it('an object over etcd’s 1.5 MiB request limit cannot be stored', () => {
    const cm: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'big' },
      data: { a: 'x'.repeat(1_600_000) },
    };
    expect(messages(cm)).toEqual([
      expect.stringMatching(
        /^: etcdserver: request is too large \(the object is \d+ bytes; etcd's default --max-request-bytes is 1572864\)$/,
      ),
    ]);
  });

  it('the hand-written checks: PDB percent bounds, tolerations, selectors, strategy', () => {
    const pdb: KubeObject = {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'p' },
      spec: { minAvailable: '150%' },
    };
    expect(messages(pdb)).toEqual([
      'spec.minAvailable: Invalid value: "150%": must not be greater than 100%',
    ]);
    pdb.spec.minAvailable = 'half';
    expect(messages(pdb)).toEqual([
      "spec.minAvailable: Invalid value: \"half\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    ]);
    expect(
      messages(
        deployment((d) => {
          d.spec.template.spec.tolerations = [
            { key: 'gpu', operator: 'Maybe' },
            { operator: 'Equal', value: 'x' },
            { key: 'a', operator: 'Exists', value: 'x' },
            { key: 'b', effect: 'NoSchedule', tolerationSeconds: 5 },
          ];
          d.spec.strategy = { type: 'Recreate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } };
        }),
      ),
    ).toEqual([
      'spec.template.spec.tolerations[0].operator: Unsupported value: "Maybe": supported values: "Equal", "Exists"',
      'spec.template.spec.tolerations[1].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
      "spec.template.spec.tolerations[2].operator: Invalid value: map[string]interface {}{…}: value must be empty when `operator` is 'Exists'",
      'spec.template.spec.tolerations[3].effect: Invalid value: "NoSchedule": effect must be \'NoExecute\' when `tolerationSeconds` is set',
      "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0',
    ]);
  });

  it('a kind nothing serves: no matches for kind, on kind or on apiVersion', () => {
    expect(
      validateObject({ apiVersion: 'apps/v1', kind: 'Deploymint', metadata: { name: 'a' } }, registry, strict)
        .causes,
    ).toEqual([
      {
        reason: 'NoKindMatch',
        field: 'kind',
        message: 'no matches for kind "Deploymint" in version "apps/v1"',
      },
    ]);
    expect(messages({ apiVersion: 'apps/v9', kind: 'Deployment', metadata: { name: 'a' } })).toEqual([
      'apiVersion: no matches for kind "Deployment" in version "apps/v9"',
    ]);
  });

  it('on update: immutable selectors and StatefulSet fields', () => {
    const old = deployment();
    const changed = deployment((d) => {
      d.spec.selector.matchLabels.tier = 'x';
      d.spec.template.metadata.labels.tier = 'x';
    });
    expect(
      validateObject(changed, registry, { fieldValidation: 'Strict', oldObject: old }).causes.map(
        (c) => c.message,
      ),
    ).toEqual(['Invalid value: v1.LabelSelector{…}: field is immutable']);
  });
});

const crd = (schema: Record<string, unknown>): KubeObject => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }],
  },
});

describe('validateObject: custom resources (the CRD version’s openAPIV3Schema, as apiextensions-apiserver)', () => {
  const r = new ResourceRegistry();
  r.addCustomResourceDefinition(
    crd({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          required: ['size'],
          properties: {
            size: { type: 'integer', minimum: 1, maximum: 10 },
            colour: { type: 'string', enum: ['red', 'blue'] },
            code: { type: 'string', pattern: '^[A-Z]{3}$', maxLength: 3 },
            port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
            tags: { type: 'array', maxItems: 2, 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
            ports: {
              type: 'array',
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['name'],
              items: {
                type: 'object',
                required: ['name'],
                properties: { name: { type: 'string' }, port: { type: 'integer' } },
              },
            },
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            config: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            template: {
              type: 'object',
              'x-kubernetes-embedded-resource': true,
              properties: { spec: { type: 'object', properties: { a: { type: 'string' } } } },
            },
            note: { type: 'string', nullable: true },
          },
        },
      },
    }),
  );
  const widget = (spec: unknown): KubeObject => ({
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w', namespace: 'n' },
    spec,
  });

  it('accepts what the schema allows, preserving unknown fields only where it says so', () => {
    const w = widget({
      size: 3,
      port: 'http',
      config: { anything: { goes: 1 } },
      labels: { a: 'b' },
      note: null,
    });
    expect(validateObject(w, r, strict)).toEqual({ causes: [], warnings: [] });
  });

  it('types, required, enum, pattern, bounds, lengths, items, list types and embedded resources in apiextensions’ words', () => {
    expect(
      messages(
        widget({
          colour: 'green',
          code: 'abcd',
          port: 1.5,
          tags: ['a', 'a', 'b'],
          ports: [{ name: 'x' }, { name: 'x', port: 1 }],
          labels: { a: 1 },
          template: { spec: { a: 'b' } },
          extra: true,
        }),
        r,
      ),
    ).toEqual([
      'spec.size: Required value',
      'spec.colour: Unsupported value: "green": supported values: "red", "blue"',
      'spec.code: Too long: must have at most 3 bytes',
      'spec.code: Invalid value: "abcd": spec.code in body should match \'^[A-Z]{3}$\'',
      'spec.port: Invalid value: "number": spec.port in body must be of type integer,string: "number"',
      'spec.tags: Too many: 3: must have at most 2 items',
      'spec.tags[1]: Duplicate value: "a"',
      'spec.ports[1]: Duplicate value: map[string]interface {}{"name":"x"}',
      'spec.labels[a]: Invalid value: "integer": spec.labels[a] in body must be of type string: "integer"',
      'spec.template.apiVersion: Required value: must not be empty',
      'spec.template.kind: Required value: must not be empty',
      'spec.extra: unknown field "spec.extra"',
    ]);
    expect(messages(widget({ size: 0 }), r)).toEqual([
      'spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1',
    ]);
  });

  it('prunes unknown fields of a custom resource as the API server stores it', () => {
    const stored = pruneObject(widget({ size: 1, extra: 1, config: { kept: 1 } }), r)!;
    expect(stored.spec).toEqual({ size: 1, config: { kept: 1 } });
    expect(pruneObject(widget({}), new ResourceRegistry())).toBeUndefined();
  });

  it('metadata of a custom resource follows ObjectMeta', () => {
    const w = widget({ size: 1 });
    w.metadata.name = 'Not_Valid';
    expect(messages(w, r)).toEqual([
      expect.stringMatching(/^metadata\.name: Invalid value: "Not_Valid": a lowercase RFC 1123 subdomain/),
    ]);
  });
});

describe('duplicateFields (needs the request text)', () => {
  it('finds keys given twice in JSON and YAML, as sigs.k8s.io/json names them', () => {
    expect(duplicateFields('{"spec":{"replicas":1,"replicas":2,"x":[{"a":1,"a":2}]}}', 'json')).toEqual([
      { reason: 'FieldValueDuplicate', field: 'spec.replicas', message: 'duplicate field "replicas"' },
      { reason: 'FieldValueDuplicate', field: 'spec.x[0].a', message: 'duplicate field "a"' },
    ]);
    expect(duplicateFields('spec:\n  replicas: 1\n  replicas: 2\n', 'yaml')).toEqual([
      { reason: 'FieldValueDuplicate', field: 'spec.replicas', message: 'duplicate field "replicas"' },
    ]);
    expect(duplicateFields('{"a":1,"b":{"a":2}}', 'json')).toEqual([]);
  });
});
