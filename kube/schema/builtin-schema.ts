import generatedModels from '../api/builtin-models.json' with { type: 'json' };
import extras from './builtin-schema-extras.json' with { type: 'json' };
import { child, index, key, type StatusCause } from './field-errors.ts';

/**
 * The schemas of the built-in kinds: the client-node models of kube/api (properties, types, formats,
 * required fields of Kubernetes' OpenAPI document) plus, from builtin-schema-extras.json, the enums and
 * the string fields that also take numbers (resource.Quantity), which the models lack.
 */
interface Model {
  properties: Record<string, { type: string; format?: string }>;
  required: string[];
}

type TypeRef =
  | { t: 'string'; format?: string }
  | { t: 'boolean' }
  | { t: 'number'; format?: string }
  | { t: 'date' }
  | { t: 'any' }
  | { t: 'int-or-string' }
  | { t: 'array'; item: TypeRef }
  | { t: 'map'; value: TypeRef }
  | { t: 'model'; name: string };

const MODELS = generatedModels.models as unknown as Record<string, Model>;
const ENUMS = extras.enums as Record<string, string[]>;
const NUMBER_STRINGS = new Set<string>(extras.numberStrings);

/** Where the enums and quantity fields come from, for the docs and messages. */
export const BUILTIN_SCHEMA_SOURCE = `${generatedModels.source}; enums and quantities: ${extras.source}`;

const parsed = new Map<string, TypeRef>();

function parseType(type: string, format: string | undefined): TypeRef {
  const cacheKey = `${type}|${format ?? ''}`;
  const hit = parsed.get(cacheKey);
  if (hit) return hit;
  let ref: TypeRef;
  const array = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (array) ref = { t: 'array', item: parseType(array[1]!, format) };
  else if (map) ref = { t: 'map', value: parseType(map[1]!, format) };
  else if (type === 'string') ref = format ? { t: 'string', format } : { t: 'string' };
  else if (type === 'boolean') ref = { t: 'boolean' };
  else if (type === 'number') ref = format ? { t: 'number', format } : { t: 'number' };
  else if (type === 'Date') ref = { t: 'date' };
  else if (type === 'IntOrString') ref = { t: 'int-or-string' };
  else if (MODELS[type]) ref = { t: 'model', name: type };
  else ref = { t: 'any' };
  parsed.set(cacheKey, ref);
  return ref;
}

export function hasModel(name: string): boolean {
  return MODELS[name] !== undefined;
}

/** What a walk over a built-in object finds. */
export interface BuiltinWalk {
  causes: StatusCause[];
  /** Paths of fields no schema declares (strict field validation). */
  unknown: string[];
  /** Removes the unknown fields from the object as decoding into Go types drops them. */
  prune: boolean;
}

/** Walks `value` as an object of the model `model` (e.g. "V1Deployment"), at `path`. */
export function walkBuiltin(value: unknown, model: string, path: string, walk: BuiltinWalk): void {
  walkModel(
    value,
    model,
    path,
    { struct: goStructName(model), jsonPath: path.replace(/\[[^\]]*\]/g, '') },
    walk,
  );
}

interface GoContext {
  /** The innermost Go struct (for "Go struct field DeploymentSpec.spec.replicas"). */
  struct: string;
  /** The JSON path without indexes, as encoding/json reports it. */
  jsonPath: string;
}

function walkModel(value: unknown, name: string, path: string, go: GoContext, walk: BuiltinWalk): void {
  const model = MODELS[name]!;
  if (value === null || value === undefined) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    walk.causes.push(decodeError(path, value, goType({ t: 'model', name }), go));
    return;
  }
  const obj = value as Record<string, unknown>;
  for (const field of model.required) {
    if (obj[field] === undefined || obj[field] === null)
      walk.causes.push({
        reason: 'FieldValueRequired',
        field: child(path, field),
        message: 'Required value',
      });
  }
  for (const [field, v] of Object.entries(obj)) {
    const prop = model.properties[field];
    const at = child(path, field);
    if (!prop) {
      walk.unknown.push(at);
      if (walk.prune) delete obj[field];
      continue;
    }
    const sub: GoContext = { struct: goStructName(name), jsonPath: child(go.jsonPath, field) };
    walkValue(v, parseType(prop.type, prop.format), `${name}.${field}`, at, sub, walk);
  }
}

function walkValue(
  v: unknown,
  type: TypeRef,
  slot: string,
  path: string,
  go: GoContext,
  walk: BuiltinWalk,
): void {
  if (v === null || v === undefined) return; // encoding/json leaves a field at its zero value for null
  switch (type.t) {
    case 'any':
      return;
    case 'model':
      walkModel(v, type.name, path, go, walk);
      return;
    case 'array':
      if (!Array.isArray(v)) {
        walk.causes.push(decodeError(path, v, goType(type), go));
        return;
      }
      v.forEach((item, i) => {
        walkValue(item, type.item, `${slot}[]`, index(path, i), go, walk);
      });
      return;
    case 'map':
      if (typeof v !== 'object' || Array.isArray(v)) {
        walk.causes.push(decodeError(path, v, goType(type), go));
        return;
      }
      for (const [k, item] of Object.entries(v as Record<string, unknown>))
        walkValue(item, type.value, `${slot}{}`, key(path, k), go, walk);
      return;
    case 'boolean':
      if (typeof v !== 'boolean') walk.causes.push(decodeError(path, v, 'bool', go));
      return;
    case 'date':
      if (typeof v !== 'string') walk.causes.push(decodeError(path, v, 'string', go));
      else if (Number.isNaN(Date.parse(v)))
        walk.causes.push({
          reason: 'FieldValueTypeInvalid',
          field: path,
          message: `parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(v)} as RFC 3339`,
        });
      return;
    case 'int-or-string':
      if (typeof v === 'string') return;
      if (typeof v !== 'number' || !Number.isInteger(v) || !fitsInt32(v))
        walk.causes.push(decodeError(path, v, 'int32', go));
      return;
    case 'number':
      walkNumber(v, type.format, path, go, walk);
      return;
    case 'string':
      if (NUMBER_STRINGS.has(slot)) {
        if (typeof v === 'number') return;
        if (typeof v !== 'string') walk.causes.push(decodeError(path, v, 'resource.Quantity', go));
        else if (!QUANTITY.test(v))
          walk.causes.push({
            reason: 'FieldValueTypeInvalid',
            field: path,
            message: `quantities must match the regular expression '${QUANTITY.source}'`,
          });
        return;
      }
      if (typeof v !== 'string') {
        walk.causes.push(decodeError(path, v, 'string', go));
        return;
      }
      if (type.format === 'byte' && !isBase64(v)) {
        walk.causes.push({
          reason: 'FieldValueTypeInvalid',
          field: path,
          message: `illegal base64 data at input byte ${base64ErrorOffset(v)}`,
        });
        return;
      }
      {
        const allowed = ENUMS[slot];
        if (allowed && !allowed.includes(v)) {
          const list = allowed.map((a) => JSON.stringify(a)).join(', ');
          walk.causes.push({
            reason: 'FieldValueNotSupported',
            field: path,
            message: `Unsupported value: ${JSON.stringify(v)}: supported values: ${list}`,
          });
        }
      }
      return;
  }
}

function walkNumber(
  v: unknown,
  format: string | undefined,
  path: string,
  go: GoContext,
  walk: BuiltinWalk,
): void {
  const goName = format === 'int32' ? 'int32' : format === 'int64' ? 'int64' : 'float64';
  if (typeof v !== 'number') {
    walk.causes.push(decodeError(path, v, goName, go));
    return;
  }
  if (goName === 'float64') return;
  const fits = Number.isInteger(v) && (goName === 'int32' ? fitsInt32(v) : Number.isSafeInteger(v));
  if (!fits) walk.causes.push(decodeError(path, v, goName, go, `number ${v}`));
}

export function fitsInt32(v: number): boolean {
  return v >= -(2 ** 31) && v <= 2 ** 31 - 1;
}

/** encoding/json's UnmarshalTypeError, as kube-apiserver returns it for a built-in kind. */
function decodeError(
  path: string,
  v: unknown,
  goTypeName: string,
  go: GoContext,
  jsonValue?: string,
): StatusCause {
  const what =
    jsonValue ??
    (typeof v === 'string'
      ? 'string'
      : typeof v === 'number'
        ? 'number'
        : typeof v === 'boolean'
          ? 'bool'
          : Array.isArray(v)
            ? 'array'
            : 'object');
  return {
    reason: 'FieldValueTypeInvalid',
    field: path,
    message: `json: cannot unmarshal ${what} into Go struct field ${go.struct}.${go.jsonPath} of type ${goTypeName}`,
  };
}

function goType(type: TypeRef): string {
  switch (type.t) {
    case 'array':
      return `[]${goType(type.item)}`;
    case 'map':
      return `map[string]${goType(type.value)}`;
    case 'model': {
      const m = /^(?:[A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)(.+)$/.exec(type.name);
      return m ? `${m[1]!.toLowerCase()}.${m[2]}` : type.name;
    }
    case 'boolean':
      return 'bool';
    case 'number':
      return type.format === 'int32' ? 'int32' : type.format === 'int64' ? 'int64' : 'float64';
    case 'int-or-string':
      return 'intstr.IntOrString';
    case 'date':
      return 'v1.Time';
    default:
      return type.t === 'string' ? 'string' : 'interface {}';
  }
}

/** "V1DeploymentSpec" → "DeploymentSpec", "CoreV1EndpointPort" → "EndpointPort". */
function goStructName(model: string): string {
  const m = /^(?:[A-Z][a-z]+)?V\d+(?:alpha\d+|beta\d+)?(.+)$/.exec(model);
  return m ? m[1]! : model;
}

/** resource.Quantity's parse expression (k8s.io/apimachinery/pkg/api/resource). */
const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

function isBase64(s: string): boolean {
  return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s);
}

function base64ErrorOffset(s: string): number {
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  return bad >= 0 ? bad : Math.floor(s.length / 4) * 4;
}

const structural = new Map<string, Record<string, unknown>>();

/**
 * The structural schema of a built-in type as controller-gen writes it into a CRD that embeds the
 * type (a Rollout's pod template, a CNPG Cluster's affinity and resources): types and formats,
 * required fields, int-or-string and resource.Quantity as x-kubernetes-int-or-string, maps as
 * additionalProperties. An embedded ObjectMeta keeps only labels and annotations, as in the CRDs
 * generated with controller-gen's default (metadata of pod templates).
 */
export function builtinStructuralSchema(model: string): Record<string, unknown> {
  const hit = structural.get(model);
  if (hit) return structuredClone(hit);
  const out = modelSchema(model, new Set());
  structural.set(model, out);
  return structuredClone(out);
}

function modelSchema(name: string, onPath: Set<string>): Record<string, unknown> {
  if (name === 'V1ObjectMeta')
    return {
      type: 'object',
      properties: {
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        annotations: { type: 'object', additionalProperties: { type: 'string' } },
      },
    };
  const model = MODELS[name];
  if (!model || onPath.has(name)) return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  onPath.add(name);
  const properties: Record<string, unknown> = {};
  for (const [field, prop] of Object.entries(model.properties))
    properties[field] = typeSchema(parseType(prop.type, prop.format), `${name}.${field}`, onPath);
  onPath.delete(name);
  return {
    type: 'object',
    properties,
    ...(model.required.length > 0 ? { required: [...model.required] } : {}),
  };
}

function typeSchema(type: TypeRef, slot: string, onPath: Set<string>): Record<string, unknown> {
  if (type.t === 'string' && NUMBER_STRINGS.has(slot))
    return { anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true };
  switch (type.t) {
    case 'string':
      return type.format === 'byte' ? { type: 'string', format: 'byte' } : { type: 'string' };
    case 'boolean':
      return { type: 'boolean' };
    case 'number':
      return type.format === 'double'
        ? { type: 'number', format: 'double' }
        : { type: 'integer', ...(type.format ? { format: type.format } : {}) };
    case 'date':
      return { type: 'string', format: 'date-time' };
    case 'int-or-string':
      return { anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true };
    case 'array':
      return { type: 'array', items: typeSchema(type.item, `${slot}[]`, onPath) };
    case 'map':
      return { type: 'object', additionalProperties: typeSchema(type.value, `${slot}{}`, onPath) };
    case 'model':
      return modelSchema(type.name, onPath);
    default:
      return { 'x-kubernetes-preserve-unknown-fields': true };
  }
}
