import { apiVersionOf, type ResourceRegistry, type ServedResource } from '../api/resource-registry.ts';
import { groupOf, type KubeObject } from '../object.ts';
import { type BuiltinWalk, walkBuiltin } from './builtin-schema.ts';
import { dedupe, invalidShown, required, type StatusCause, unknownField } from './field-errors.ts';
import { kindCauses } from './kind-validation.ts';
import { objectMetaCauses, objectSizeCauses } from './metadata-validation.ts';
import {
  isPlainObject,
  type JSONSchemaProps,
  type StructuralWalk,
  walkStructural,
} from './structural-schema.ts';

export type { StatusCause } from './field-errors.ts';

/** kubectl's --validate / the fieldValidation query parameter (kubectl's default is Strict). */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface ObjectValidation {
  /** What makes the request fail (empty when it would be accepted). */
  causes: StatusCause[];
  /** Warning headers kube-apiserver would send (fieldValidation=Warn). */
  warnings: string[];
}

/**
 * Validates an object as kube-apiserver does on create (or update, given the stored `oldObject`):
 * the kind must be served (a built-in of the registry or a custom resource of an installed CRD); the
 * body is checked against the kind's schema (the built-in OpenAPI models, or the CRD version's
 * openAPIV3Schema as apiextensions-apiserver applies it), with unknown fields rejected, warned about
 * or dropped as fieldValidation says; then ObjectMeta rules, size limits and the hand-written
 * validation of the built-in kinds. Pure: `obj` is not changed (see pruneObject for what is stored).
 */
export function validateObject(
  obj: KubeObject,
  registry: ResourceRegistry,
  options: { fieldValidation: FieldValidation; oldObject?: KubeObject },
): ObjectValidation {
  const header = headerCauses(obj);
  if (header.length > 0) return { causes: header, warnings: [] };
  const resource = registry.lookupKind(obj.apiVersion, obj.kind);
  if (!resource) return { causes: [noKindMatch(obj, registry)], warnings: [] };
  const group = groupOf(obj.apiVersion);
  // the hand-written checks first: where they and the schema see the same field, theirs is the message
  const causes: StatusCause[] = resource.custom
    ? []
    : kindCauses(obj as Record<string, unknown>, group, obj.kind);
  const walk = schemaWalk(obj, resource, false);
  causes.push(...walk.causes);
  causes.push(...objectMetaCauses(obj.metadata, { group, kind: obj.kind, namespaced: resource.namespaced }));
  if (options.oldObject) causes.push(...updateCauses(obj, options.oldObject, group));
  causes.push(...objectSizeCauses(obj));
  const warnings: string[] = [];
  if (options.fieldValidation === 'Strict') causes.push(...walk.unknown.map(unknownField));
  else if (options.fieldValidation === 'Warn')
    warnings.push(...walk.unknown.map((f) => `unknown field ${JSON.stringify(f)}`));
  return { causes: dedupe(causes), warnings };
}

/**
 * The object as it is stored: unknown fields dropped (decoding into Go types drops them from built-in
 * kinds; apiextensions-apiserver prunes them from custom resources, except under
 * x-kubernetes-preserve-unknown-fields). Returns a copy; undefined when the kind is not served.
 */
export function pruneObject(obj: KubeObject, registry: ResourceRegistry): KubeObject | undefined {
  const resource = registry.lookupKind(obj.apiVersion, obj.kind);
  if (!resource) return undefined;
  const copy = structuredClone(obj);
  schemaWalk(copy, resource, true);
  return copy;
}

function schemaWalk(obj: KubeObject, resource: ServedResource, prune: boolean): BuiltinWalk {
  const walk: BuiltinWalk & StructuralWalk = { causes: [], unknown: [], prune };
  if (resource.custom) {
    const { apiVersion: _a, kind: _k, metadata, ...rest } = obj;
    walkBuiltin(metadata, 'V1ObjectMeta', 'metadata', walk);
    const schema = resource.custom.schema as JSONSchemaProps | undefined;
    if (schema) {
      const top: JSONSchemaProps = { ...schema, properties: { ...schema.properties } };
      for (const f of ['apiVersion', 'kind', 'metadata']) delete top.properties![f];
      delete top.required;
      walkStructural(rest, top, '', walk);
      for (const name of schema.required ?? [])
        if (!['apiVersion', 'kind', 'metadata'].includes(name) && obj[name] === undefined)
          walk.causes.push(required(name));
      if (prune) {
        for (const k of Object.keys(obj))
          if (!['apiVersion', 'kind', 'metadata'].includes(k) && !(k in rest)) delete obj[k];
      }
    }
  } else if (resource.model) {
    walkBuiltin(obj, resource.model, '', walk);
  }
  return walk;
}

function headerCauses(obj: unknown): StatusCause[] {
  if (!isPlainObject(obj)) return [invalidShown('', 'object', 'is not a Kubernetes object')];
  const out: StatusCause[] = [];
  if (typeof obj['apiVersion'] !== 'string' || obj['apiVersion'] === '') out.push(required('apiVersion'));
  if (typeof obj['kind'] !== 'string' || obj['kind'] === '') out.push(required('kind'));
  if (!isPlainObject(obj['metadata'])) out.push(required('metadata'));
  return out;
}

/**
 * The RESTMapper's answer for a kind nothing serves (what kubectl prints before sending anything):
 * the field is apiVersion when the group serves the kind in another version, kind otherwise.
 */
function noKindMatch(obj: KubeObject, registry: ResourceRegistry): StatusCause {
  const served = registry.versionsOfKind(groupOf(obj.apiVersion), obj.kind);
  return {
    reason: 'NoKindMatch',
    field: served.length > 0 ? 'apiVersion' : 'kind',
    message: `no matches for kind ${JSON.stringify(obj.kind)} in version ${JSON.stringify(obj.apiVersion)}`,
  };
}

/** Served versions of a kind, for hints ("apps serves Deployment in v1"). */
export function servedVersions(registry: ResourceRegistry, apiVersion: string, kind: string): string[] {
  return registry.versionsOfKind(groupOf(apiVersion), kind).map(apiVersionOf);
}

const SELECTOR_IMMUTABLE = new Set([
  'apps/Deployment',
  'apps/ReplicaSet',
  'apps/DaemonSet',
  'apps/StatefulSet',
  'batch/Job',
]);
const STATEFULSET_UPDATABLE = new Set([
  'replicas',
  'ordinals',
  'template',
  'updateStrategy',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
]);

/** The update rules of the registry strategies that systems meet: immutable selectors and StatefulSet specs. */
function updateCauses(obj: KubeObject, old: KubeObject, group: string): StatusCause[] {
  const out: StatusCause[] = [];
  const k = `${group}/${obj.kind}`;
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (SELECTOR_IMMUTABLE.has(k) && !same(obj.spec?.selector, old.spec?.selector))
    out.push(invalidShown('spec.selector', 'v1.LabelSelector{…}', 'field is immutable'));
  if (k === 'batch/Job' && !same(obj.spec?.template, old.spec?.template))
    out.push(invalidShown('spec.template', 'core.PodTemplateSpec{…}', 'field is immutable'));
  if (k === 'apps/StatefulSet' && isPlainObject(obj.spec) && isPlainObject(old.spec)) {
    const changed = new Set([...Object.keys(obj.spec), ...Object.keys(old.spec)]);
    for (const f of changed)
      if (!STATEFULSET_UPDATABLE.has(f) && !same(obj.spec[f], old.spec[f])) {
        out.push({
          reason: 'FieldValueForbidden',
          field: 'spec',
          message:
            "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        });
        break;
      }
  }
  if (obj.metadata.uid && old.metadata.uid && obj.metadata.uid !== old.metadata.uid)
    out.push(invalidShown('metadata.uid', JSON.stringify(obj.metadata.uid), 'field is immutable'));
  return out;
}
