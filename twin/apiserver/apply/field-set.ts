import { ANY, childOf, type SchemaNode, type StructNode } from '../schema/schema-node.ts';

/**
 * Sets of field paths, as server-side apply tracks ownership (sigs.k8s.io/structured-merge-diff).
 * A path is a list of elements in the `fieldsV1` spelling: `f:<field>`, `k:<json of the key fields>`
 * for an item of a map-list, `v:<json>` for a set member, `i:<index>`. A set serializes to the
 * nested `fieldsV1` object: `{"f:spec": {"f:replicas": {}}}`, with `".": {}` where a node is itself
 * a member and also has members below it.
 * See https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management
 */
export type FieldPath = string[];

export class FieldSet {
  private readonly paths = new Map<string, FieldPath>();

  static of(paths: Iterable<FieldPath>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.add(p);
    return s;
  }

  add(path: FieldPath): void {
    this.paths.set(JSON.stringify(path), path);
  }

  has(path: FieldPath): boolean {
    return this.paths.has(JSON.stringify(path));
  }

  delete(path: FieldPath): void {
    this.paths.delete(JSON.stringify(path));
  }

  get size(): number {
    return this.paths.size;
  }

  [Symbol.iterator](): IterableIterator<FieldPath> {
    return this.paths.values();
  }

  union(other: FieldSet): FieldSet {
    return FieldSet.of([...this, ...other]);
  }

  intersect(other: FieldSet): FieldSet {
    return FieldSet.of([...this].filter((p) => other.has(p)));
  }

  minus(other: FieldSet): FieldSet {
    return FieldSet.of([...this].filter((p) => !other.has(p)));
  }

  /** Whether the set holds `path` or anything below it. */
  hasPrefix(path: FieldPath): boolean {
    const head = JSON.stringify(path).slice(0, -1);
    for (const k of this.paths.keys()) if (k === `${head}]` || k.startsWith(`${head},`)) return true;
    return false;
  }

  /** The nested `fieldsV1` object. */
  toFieldsV1(): Record<string, unknown> {
    const root: Record<string, any> = {};
    const sorted = [...this.paths.values()].sort((a, b) => a.length - b.length);
    for (const path of sorted) {
      let node = root;
      for (const el of path) {
        node[el] ??= {};
        node = node[el];
      }
    }
    // A member that has members below it says so with ".".
    for (const path of sorted) {
      let node = root;
      for (const el of path) node = node[el];
      if (Object.keys(node).some((k) => k !== '.')) node['.'] = {};
    }
    return sortKeys(root) as Record<string, unknown>;
  }

  static fromFieldsV1(fields: unknown): FieldSet {
    const set = new FieldSet();
    const walk = (node: unknown, prefix: FieldPath) => {
      if (typeof node !== 'object' || node === null) return;
      const keys = Object.keys(node);
      if (keys.length === 0 && prefix.length > 0) set.add(prefix);
      for (const k of keys) {
        if (k === '.') set.add(prefix);
        else walk((node as Record<string, unknown>)[k], [...prefix, k]);
      }
    };
    walk(fields, []);
    return set;
  }
}

function sortKeys(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Metadata the server owns: never part of a manager's fields. */
const SERVER_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
  'generateName',
]);

/** The element naming an item of a map-list: `k:{"name":"web"}` (missing protocol keys default to TCP, as the API defaults them). */
export function keyElement(item: Record<string, unknown>, keys: string[]): string {
  const k: Record<string, unknown> = {};
  for (const name of [...keys].sort()) {
    const v = item[name] ?? (name === 'protocol' ? 'TCP' : undefined);
    if (v !== undefined) k[name] = v;
  }
  return `k:${JSON.stringify(k)}`;
}

/**
 * The fields an object sets: every leaf (scalars, atomic lists, maps and structs, empty objects),
 * every map-list item and set member. apiVersion, kind and server-owned metadata are left out, and
 * `status` too unless `part` is 'status' (then only status counts).
 */
export function fieldsOf(
  obj: Record<string, unknown>,
  schema: StructNode,
  part: 'main' | 'status' | 'all' = 'main',
): FieldSet {
  const set = new FieldSet();
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (part === 'main' && key === 'status') continue;
    if (part === 'status' && key !== 'status') continue;
    if (key === 'metadata' && isMap(value)) {
      const meta = childOf(schema, 'metadata');
      for (const [mk, mv] of Object.entries(value)) {
        if (SERVER_METADATA.has(mk)) continue;
        walk(mv, childOf(meta, mk), [`f:metadata`, `f:${mk}`], set);
      }
      continue;
    }
    walk(value, childOf(schema, key), [`f:${key}`], set);
  }
  return set;
}

function walk(value: unknown, node: SchemaNode, path: FieldPath, set: FieldSet): void {
  if (value === undefined) return;
  if (Array.isArray(value)) {
    if (node.kind !== 'list' || node.listType === 'atomic') {
      set.add(path);
      return;
    }
    if (node.listType === 'set') {
      for (const v of value) set.add([...path, `v:${JSON.stringify(v)}`]);
      return;
    }
    for (const item of value) {
      if (!isMap(item)) {
        set.add(path);
        return;
      }
      const itemPath = [...path, keyElement(item, node.listMapKeys)];
      set.add(itemPath);
      for (const [k, v] of Object.entries(item)) walk(v, childOf(node.item, k), [...itemPath, `f:${k}`], set);
    }
    return;
  }
  if (isMap(value)) {
    const atomic = (node.kind === 'struct' || node.kind === 'map') && node.atomic;
    if (atomic || Object.keys(value).length === 0 || node.kind === 'scalar') {
      set.add(path);
      return;
    }
    for (const [k, v] of Object.entries(value))
      walk(v, node.kind === 'any' ? ANY : childOf(node, k), [...path, `f:${k}`], set);
    return;
  }
  set.add(path);
}

/** The value at a path (undefined when absent); `'.'`-members of items resolve to the item. */
export function valueAt(obj: unknown, path: FieldPath): unknown {
  let cur: unknown = obj;
  for (const el of path) {
    if (cur === undefined || cur === null) return undefined;
    if (el.startsWith('f:')) {
      cur = isMap(cur) ? cur[el.slice(2)] : undefined;
    } else if (el.startsWith('k:')) {
      if (!Array.isArray(cur)) return undefined;
      const key = JSON.parse(el.slice(2)) as Record<string, unknown>;
      cur = cur.find((i) => isMap(i) && keyElement(i, Object.keys(key)) === el);
    } else if (el.startsWith('v:')) {
      if (!Array.isArray(cur)) return undefined;
      const want = el.slice(2);
      cur = cur.find((i) => JSON.stringify(i) === want);
    } else if (el.startsWith('i:')) {
      cur = Array.isArray(cur) ? cur[Number(el.slice(2))] : undefined;
    } else return undefined;
  }
  return cur;
}

/** Removes the field at a path from an object in place (a list item or set member drops out of its list). */
export function removeAt(obj: Record<string, unknown>, path: FieldPath): void {
  if (path.length === 0) return;
  const parent = valueAt(obj, path.slice(0, -1));
  const last = path.at(-1)!;
  if (last.startsWith('f:') && isMap(parent)) {
    delete parent[last.slice(2)];
    return;
  }
  if (!Array.isArray(parent)) return;
  const at = last.startsWith('i:')
    ? Number(last.slice(2))
    : parent.findIndex((i) =>
        last.startsWith('k:')
          ? isMap(i) && keyElement(i, Object.keys(JSON.parse(last.slice(2)))) === last
          : JSON.stringify(i) === last.slice(2),
      );
  if (at >= 0) parent.splice(at, 1);
}

/** How upstream prints a path in conflict messages: `.spec.replicas`, `.spec.containers[name="web"].image`. */
export function formatPath(path: FieldPath): string {
  return path
    .map((el) => {
      if (el.startsWith('f:')) return `.${el.slice(2)}`;
      if (el.startsWith('k:')) {
        const key = JSON.parse(el.slice(2)) as Record<string, unknown>;
        return `[${Object.entries(key)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
      }
      if (el.startsWith('v:')) return `[=${el.slice(2)}]`;
      if (el.startsWith('i:')) return `[${el.slice(2)}]`;
      return el;
    })
    .join('');
}
