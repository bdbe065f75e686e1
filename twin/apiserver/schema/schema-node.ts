import modelsFile from '../../../kube/api/builtin-models.json' with { type: 'json' };
import { BUILTIN_FIELD_STRATEGIES, type FieldStrategy } from './builtin-field-strategies.ts';

/**
 * The shape of a field as patches and server-side apply need it: scalars, structs (named fields),
 * maps, lists (atomic, sets, or maps keyed by fields) and "any" (free-form JSON). Built from the
 * built-in models (kube/api/builtin-models.json and the strategies table) or from a CRD's
 * openAPIV3Schema.
 */
export type SchemaNode = ScalarNode | StructNode | MapNode | ListNode | AnyNode;

export interface ScalarNode {
  kind: 'scalar';
}

export interface StructNode {
  kind: 'struct';
  field(name: string): SchemaNode | undefined;
  fieldNames(): string[];
  /** Owned and replaced as a whole (+structType=atomic, x-kubernetes-map-type: atomic). */
  atomic: boolean;
  /** Strategic merge patch `retainKeys`: keys missing from the patch are cleared. */
  retainKeys: boolean;
  /** The client-node model name, for built-in types. */
  model?: string;
}

export interface MapNode {
  kind: 'map';
  value: SchemaNode;
  atomic: boolean;
}

export interface ListNode {
  kind: 'list';
  item: SchemaNode;
  listType: 'atomic' | 'set' | 'map';
  listMapKeys: string[];
  /** Strategic merge patch: "merge" merges by patchMergeKey (or as a set for scalars); otherwise replace. */
  patchStrategy?: string;
  patchMergeKey?: string;
}

export interface AnyNode {
  kind: 'any';
}

export const SCALAR: ScalarNode = { kind: 'scalar' };
export const ANY: AnyNode = { kind: 'any' };

interface ModelProperty {
  type: string;
  format?: string;
}
interface Model {
  properties: Record<string, ModelProperty>;
}
const MODELS = (modelsFile as unknown as { models: Record<string, Model> }).models;

const cache = new Map<string, StructNode>();

/** The schema of a built-in model ("V1Deployment"); undefined for a name that is not a model. */
export function builtinSchema(model: string): StructNode | undefined {
  const hit = cache.get(model);
  if (hit) return hit;
  const m = MODELS[model];
  if (!m) return undefined;
  const typeWide = BUILTIN_FIELD_STRATEGIES[model];
  const fieldCache = new Map<string, SchemaNode>();
  const node: StructNode = {
    kind: 'struct',
    model,
    atomic: typeWide?.mapType === 'atomic',
    retainKeys: false,
    fieldNames: () => Object.keys(m.properties),
    field(name) {
      const cached = fieldCache.get(name);
      if (cached) return cached;
      const p = m.properties[name];
      if (!p) return undefined;
      const resolved = fromTypeString(p.type, p.format, BUILTIN_FIELD_STRATEGIES[`${model}.${name}`]);
      fieldCache.set(name, resolved);
      return resolved;
    },
  };
  cache.set(model, node);
  return node;
}

function fromTypeString(type: string, format: string | undefined, strategy?: FieldStrategy): SchemaNode {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    const item = fromTypeString(array[1]!, format);
    const listType = strategy?.listType ?? 'atomic';
    return {
      kind: 'list',
      item,
      listType,
      listMapKeys: strategy?.listMapKeys ?? [],
      ...(strategy?.patchStrategy ? { patchStrategy: strategy.patchStrategy } : {}),
      ...(strategy?.patchMergeKey ? { patchMergeKey: strategy.patchMergeKey } : {}),
    };
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map)
    return { kind: 'map', value: fromTypeString(map[1]!, format), atomic: strategy?.mapType === 'atomic' };
  if (type === 'any') return ANY;
  if (MODELS[type]) {
    const base = builtinSchema(type)!;
    const retainKeys = strategy?.patchStrategy?.split(',').includes('retainKeys') ?? false;
    const atomic = base.atomic || strategy?.mapType === 'atomic';
    if (!retainKeys && atomic === base.atomic) return base;
    return { ...base, atomic, retainKeys };
  }
  return SCALAR;
}

/** JSONSchemaProps of a CRD version (openAPIV3Schema), as far as merging needs it. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  [key: string]: unknown;
}

/**
 * The schema of a custom resource from its CRD's openAPIV3Schema: lists are atomic unless
 * x-kubernetes-list-type says otherwise, maps and objects granular unless x-kubernetes-map-type is
 * atomic; metadata is ObjectMeta's. Custom resources have no strategic merge patch, so no patch keys.
 */
export function crdSchema(schema: JsonSchema | undefined): StructNode {
  const root = schema ? fromJsonSchema(schema) : ANY;
  const meta = builtinSchema('V1ObjectMeta')!;
  const base: StructNode =
    root.kind === 'struct'
      ? root
      : { kind: 'struct', atomic: false, retainKeys: false, field: () => ANY, fieldNames: () => [] };
  return {
    ...base,
    field: (name) =>
      name === 'metadata' ? meta : name === 'apiVersion' || name === 'kind' ? SCALAR : base.field(name),
  };
}

function fromJsonSchema(s: JsonSchema): SchemaNode {
  if (s['x-kubernetes-int-or-string']) return SCALAR;
  const type = s.type ?? (s.properties ? 'object' : s.items ? 'array' : undefined);
  if (type === 'array') {
    return {
      kind: 'list',
      item: s.items ? fromJsonSchema(s.items) : ANY,
      listType: s['x-kubernetes-list-type'] ?? 'atomic',
      listMapKeys: s['x-kubernetes-list-map-keys'] ?? [],
    };
  }
  if (type === 'object') {
    const atomic = s['x-kubernetes-map-type'] === 'atomic';
    if (s.properties && Object.keys(s.properties).length > 0) {
      const props = s.properties;
      const unknown = s['x-kubernetes-preserve-unknown-fields'] === true;
      const cache = new Map<string, SchemaNode>();
      return {
        kind: 'struct',
        atomic,
        retainKeys: false,
        fieldNames: () => Object.keys(props),
        field(name) {
          const hit = cache.get(name);
          if (hit) return hit;
          const p = props[name];
          const node = p ? fromJsonSchema(p) : unknown ? ANY : undefined;
          if (node) cache.set(name, node);
          return node;
        },
      };
    }
    if (s.additionalProperties && typeof s.additionalProperties === 'object')
      return { kind: 'map', value: fromJsonSchema(s.additionalProperties), atomic };
    return atomic ? { kind: 'map', value: ANY, atomic: true } : ANY;
  }
  if (type === undefined && s['x-kubernetes-preserve-unknown-fields']) return ANY;
  return SCALAR;
}

/** Navigates a struct/map field by name; unknown fields are free-form. */
export function childOf(node: SchemaNode, name: string): SchemaNode {
  if (node.kind === 'struct') return node.field(name) ?? ANY;
  if (node.kind === 'map') return node.value;
  return ANY;
}
