import { fitsInt32 } from './builtin-schema.ts';
import {
  child,
  duplicate,
  index,
  key,
  notSupported,
  required,
  type StatusCause,
  shown,
  tooLong,
  tooMany,
  typeInvalid,
} from './field-errors.ts';

/**
 * A CustomResourceDefinition version's openAPIV3Schema, applied as apiextensions-apiserver applies it
 * to a custom resource: pruning of unknown fields (kept under x-kubernetes-preserve-unknown-fields),
 * then the OpenAPI value validation (kube-openapi's validate package) with its messages.
 * See https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation
 */
export interface JSONSchemaProps {
  type?: string;
  format?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  uniqueItems?: boolean;
  nullable?: boolean;
  allOf?: JSONSchemaProps[];
  anyOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-validations'?: unknown[];
}

// Twin simplification: CEL rules (x-kubernetes-validations) are not evaluated, and updates get no ratcheting.
export interface StructuralWalk {
  causes: StatusCause[];
  unknown: string[];
  prune: boolean;
}

/** Validates (and with `prune`, prunes) `value` at `path` against `schema`. */
export function walkStructural(
  value: unknown,
  schema: JSONSchemaProps,
  path: string,
  walk: StructuralWalk,
): void {
  if (value === null || value === undefined) {
    // null of a field that is not nullable is pruned (dropped) before validation, as the docs say
    return;
  }
  if (!typeMatches(value, schema, path, walk)) return;
  valueValidations(value, schema, path, walk);
  if (isPlainObject(value)) walkObject(value, schema, path, walk);
  else if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => {
      walkStructural(item, schema.items!, index(path, i), walk);
    });
    listTypeChecks(value, schema, path, walk);
  }
}

function walkObject(
  obj: Record<string, unknown>,
  schema: JSONSchemaProps,
  path: string,
  walk: StructuralWalk,
): void {
  for (const name of schema.required ?? [])
    if (obj[name] === undefined) walk.causes.push(required(child(path, name)));
  if (schema['x-kubernetes-embedded-resource']) embeddedResourceChecks(obj, path, walk);
  const properties = schema.properties;
  const additional = schema.additionalProperties;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  for (const [name, v] of Object.entries(obj)) {
    const at = child(path, name);
    const prop = properties?.[name];
    if (prop) {
      walkStructural(v, prop, at, walk);
    } else if (typeof additional === 'object') {
      walkStructural(v, additional, key(path, name), walk);
    } else if (additional === true || preserve) {
      // kept as is
    } else if (
      schema['x-kubernetes-embedded-resource'] &&
      ['apiVersion', 'kind', 'metadata'].includes(name)
    ) {
      // apiVersion, kind and metadata of an embedded object are always kept
    } else {
      walk.unknown.push(at);
      if (walk.prune) delete obj[name];
    }
  }
}

function typeMatches(value: unknown, schema: JSONSchemaProps, path: string, walk: StructuralWalk): boolean {
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))) return true;
    walk.causes.push(
      typeInvalid(
        path,
        jsonType(value),
        `${bodyPath(path)} in body must be of type integer,string: ${JSON.stringify(jsonType(value))}`,
      ),
    );
    return false;
  }
  const type = schema.type;
  if (!type) return true;
  const ok =
    type === 'object'
      ? isPlainObject(value)
      : type === 'array'
        ? Array.isArray(value)
        : type === 'string'
          ? typeof value === 'string'
          : type === 'integer'
            ? typeof value === 'number' && Number.isInteger(value)
            : type === 'number'
              ? typeof value === 'number'
              : type === 'boolean'
                ? typeof value === 'boolean'
                : true;
  if (!ok)
    walk.causes.push(
      typeInvalid(
        path,
        jsonType(value),
        `${bodyPath(path)} in body must be of type ${type}: ${JSON.stringify(jsonType(value))}`,
      ),
    );
  return ok;
}

function valueValidations(value: unknown, s: JSONSchemaProps, path: string, walk: StructuralWalk): void {
  const at = bodyPath(path);
  const out = walk.causes;
  if (s.enum && !s.enum.some((e) => deepEqual(e, value)))
    out.push(
      notSupported(
        path,
        value,
        s.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))),
      ),
    );
  if (typeof value === 'string') {
    if (s.maxLength !== undefined && [...value].length > s.maxLength) out.push(tooLong(path, s.maxLength));
    if (s.minLength !== undefined && [...value].length < s.minLength)
      out.push(invalidValue(path, value, `${at} in body should be at least ${s.minLength} chars long`));
    if (s.pattern !== undefined && !patternOf(s.pattern).test(value))
      out.push(invalidValue(path, value, `${at} in body should match '${s.pattern}'`));
    if (s.format) {
      const bad = formatProblem(s.format, value);
      if (bad)
        out.push(
          invalidValue(path, value, `${at} in body must be of type ${s.format}: ${JSON.stringify(value)}`),
        );
    }
  }
  if (typeof value === 'number') {
    if (s.maximum !== undefined && (s.exclusiveMaximum ? value >= s.maximum : value > s.maximum))
      out.push(
        invalidValue(
          path,
          value,
          `${at} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`,
        ),
      );
    if (s.minimum !== undefined && (s.exclusiveMinimum ? value <= s.minimum : value < s.minimum))
      out.push(
        invalidValue(
          path,
          value,
          `${at} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`,
        ),
      );
    if (s.multipleOf !== undefined && !Number.isInteger(value / s.multipleOf))
      out.push(invalidValue(path, value, `${at} in body should be a multiple of ${s.multipleOf}`));
    if (s.format === 'int32' && !fitsInt32(value))
      out.push(invalidValue(path, value, `${at} in body must be of type int32: "${value}"`));
  }
  if (Array.isArray(value)) {
    if (s.maxItems !== undefined && value.length > s.maxItems)
      out.push(tooMany(path, value.length, s.maxItems));
    if (s.minItems !== undefined && value.length < s.minItems)
      out.push(invalidValue(path, value.length, `${at} in body should have at least ${s.minItems} items`));
    if (s.uniqueItems) {
      const seen = new Set<string>();
      value.forEach((v, i) => {
        const k = JSON.stringify(v);
        if (seen.has(k)) out.push(duplicate(index(path, i), v));
        seen.add(k);
      });
    }
  }
  if (isPlainObject(value)) {
    const n = Object.keys(value).length;
    if (s.maxProperties !== undefined && n > s.maxProperties) out.push(tooMany(path, n, s.maxProperties));
    if (s.minProperties !== undefined && n < s.minProperties)
      out.push(invalidValue(path, n, `${at} in body should have at least ${s.minProperties} properties`));
  }
  // value-validation junctors: no types or properties of their own in a structural schema
  const quiet = (schema: JSONSchemaProps) => {
    const w: StructuralWalk = { causes: [], unknown: [], prune: false };
    valueValidations(value, schema, path, w);
    if (schema.type) typeMatches(value, schema, path, w);
    return w.causes;
  };
  for (const sub of s.allOf ?? []) out.push(...quiet(sub));
  if (s.anyOf && !s.anyOf.some((sub) => quiet(sub).length === 0))
    out.push(invalidValue(path, value, `${at} in body must validate at least one schema (anyOf)`));
  if (s.oneOf && s.oneOf.filter((sub) => quiet(sub).length === 0).length !== 1)
    out.push(invalidValue(path, value, `${at} in body must validate one and only one schema (oneOf)`));
  if (s.not && quiet(s.not).length === 0)
    out.push(invalidValue(path, value, `${at} in body must not validate the schema (not)`));
}

function listTypeChecks(list: unknown[], s: JSONSchemaProps, path: string, walk: StructuralWalk): void {
  const type = s['x-kubernetes-list-type'];
  if (type === 'set') {
    const seen = new Set<string>();
    list.forEach((v, i) => {
      const k = JSON.stringify(v);
      if (seen.has(k)) walk.causes.push(duplicate(index(path, i), v));
      seen.add(k);
    });
  } else if (type === 'map') {
    const keys = s['x-kubernetes-list-map-keys'] ?? [];
    const seen = new Set<string>();
    list.forEach((v, i) => {
      if (!isPlainObject(v)) return;
      const k = JSON.stringify(keys.map((name) => v[name]));
      if (seen.has(k)) {
        const shownKeys = keys.map((name) => `${JSON.stringify(name)}:${shown(v[name])}`).join(', ');
        walk.causes.push({
          reason: 'FieldValueDuplicate',
          field: index(path, i),
          message: `Duplicate value: map[string]interface {}{${shownKeys}}`,
        });
      }
      seen.add(k);
    });
  }
}

function embeddedResourceChecks(obj: Record<string, unknown>, path: string, walk: StructuralWalk): void {
  for (const field of ['apiVersion', 'kind'])
    if (typeof obj[field] !== 'string' || obj[field] === '')
      walk.causes.push(required(child(path, field), 'must not be empty'));
}

function invalidValue(path: string, value: unknown, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${shown(value)}: ${detail}` };
}

/** kube-openapi names the field in its messages by the path in the body ("spec.replicas in body …"). */
function bodyPath(path: string): string {
  return path === '' ? 'body' : path;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const patterns = new Map<string, RegExp>();
function patternOf(p: string): RegExp {
  let re = patterns.get(p);
  if (!re) {
    try {
      re = new RegExp(p, 'u');
    } catch {
      re = new RegExp(p);
    }
    patterns.set(p, re);
  }
  return re;
}

/** The formats apiextensions-apiserver checks (kube-openapi's strfmt registry); unknown formats pass. */
function formatProblem(format: string, v: string): boolean {
  switch (format) {
    case 'date-time':
    case 'datetime':
      return !/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(v);
    case 'date':
      return !/^\d{4}-\d{2}-\d{2}$/.test(v);
    case 'duration':
      return !/^(\d+(\.\d+)?\s*(ns|us|µs|ms|s|m|h|d|w))+$/.test(v.trim());
    case 'byte':
      return !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v);
    case 'uuid':
      return !/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v);
    case 'ipv4':
      return !/^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(v);
    case 'hostname':
      return !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(v) || v.length > 255;
    case 'email':
      return !/^[^@\s]+@[^@\s]+$/.test(v);
    case 'uri':
      return !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(v);
    default:
      return false;
  }
}
