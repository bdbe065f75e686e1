import { ANY, childOf, type ListNode, type SchemaNode } from '../schema/schema-node.ts';

/** A strategic merge patch the server cannot apply (the API server answers 422 / 400 with this message). */
export class PatchError extends Error {}

const DELETE = Symbol('delete');
type Json = unknown;

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Applies a strategic merge patch (`application/strategic-merge-patch+json`) to an object of a
 * built-in type, as k8s.io/apimachinery/pkg/util/strategicpatch does: maps merge key by key (null
 * deletes), lists with patch strategy "merge" merge by their patch merge key (scalar lists as sets),
 * other lists are replaced; the directives `$patch: replace | delete | merge`, `$retainKeys`,
 * `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>` are honoured.
 * See https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/
 * and https://github.com/kubernetes/community/blob/master/contributors/devel/sig-api-machinery/strategic-merge-patch.md
 */
export function strategicMergePatch(original: Json, patch: Json, schema: SchemaNode): Json {
  if (!isMap(patch)) throw new PatchError('a strategic merge patch must be a JSON object');
  const out = mergeMap(isMap(original) ? original : {}, patch, schema);
  return out === DELETE ? {} : out;
}

function mergeMap(
  original: Record<string, Json>,
  patch: Record<string, Json>,
  node: SchemaNode,
): Record<string, Json> | typeof DELETE {
  const directive = patch['$patch'];
  if (directive === 'delete') return DELETE;
  if (directive === 'replace') return stripDirectives(patch, node) as Record<string, Json>;
  if (directive !== undefined && directive !== 'merge')
    throw new PatchError(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  const result: Record<string, Json> = { ...original };
  const retain = patch['$retainKeys'];
  if (retain !== undefined) {
    if (!Array.isArray(retain))
      throw new PatchError(`invalid $retainKeys: ${JSON.stringify(retain)}, expected a list of field names`);
    for (const k of Object.keys(result)) if (!retain.includes(k)) delete result[k];
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/') || key.startsWith('$deleteFromPrimitiveList/')) continue;
    if (key.startsWith('$')) throw new PatchError(`unknown directive ${key} in strategic merge patch`);
    const child = childOf(node, key);
    if (value === null) {
      delete result[key];
      continue;
    }
    if (Array.isArray(value)) {
      result[key] = mergeList(
        Array.isArray(original[key]) ? (original[key] as Json[]) : undefined,
        value,
        child,
        patch[`$setElementOrder/${key}`],
      );
      continue;
    }
    if (isMap(value)) {
      const atomic =
        (child.kind === 'struct' || child.kind === 'map') && child.atomic && !('$patch' in value);
      const merged = atomic
        ? stripDirectives(value, child)
        : mergeMap(isMap(original[key]) ? (original[key] as Record<string, Json>) : {}, value, child);
      if (merged === DELETE) delete result[key];
      else result[key] = merged;
      continue;
    }
    result[key] = value;
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      if (!Array.isArray(value))
        throw new PatchError(`invalid ${key}: ${JSON.stringify(value)}, expected a list of values to delete`);
      const current = result[field];
      if (Array.isArray(current)) {
        const drop = new Set(value.map((v) => JSON.stringify(v)));
        result[field] = current.filter((v) => !drop.has(JSON.stringify(v)));
      }
    } else if (key.startsWith('$setElementOrder/')) {
      const field = key.slice('$setElementOrder/'.length);
      if (!Array.isArray(value)) throw new PatchError(`invalid ${key}: expected a list`);
      if (!(field in patch) && Array.isArray(result[field]))
        result[field] = applyOrder(result[field] as Json[], value, childOf(node, field));
    }
  }
  return result;
}

function mergeList(original: Json[] | undefined, patch: Json[], node: SchemaNode, order: Json): Json[] {
  const list = node.kind === 'list' ? node : undefined;
  const merge = list?.patchStrategy?.split(',').includes('merge') ?? false;
  const item = list?.item ?? ANY;
  if (!merge || !list) return patch.map((p) => (isMap(p) ? stripDirectives(p, item) : p));
  // `$patch: replace` as a list element replaces the whole list with the other elements.
  if (patch.some((p) => isMap(p) && p['$patch'] === 'replace'))
    return patch.filter((p) => !(isMap(p) && p['$patch'] === 'replace')).map((p) => stripDirectives(p, item));
  let result: Json[];
  if (item.kind === 'scalar' || item.kind === 'any' || !list.patchMergeKey) {
    if (patch.some(isMap) && !list.patchMergeKey) return patch.map((p) => stripDirectives(p, item));
    // A list of scalars with strategy merge is a set: the union, original order first.
    const seen = new Set((original ?? []).map((v) => JSON.stringify(v)));
    result = [...(original ?? [])];
    for (const v of patch) {
      if (!seen.has(JSON.stringify(v))) {
        seen.add(JSON.stringify(v));
        result.push(v);
      }
    }
  } else {
    const key = list.patchMergeKey;
    result = [...(original ?? [])];
    for (const p of patch) {
      if (!isMap(p))
        throw new PatchError(`strategic merge patch: list element ${JSON.stringify(p)} is not a map`);
      if (!(key in p))
        throw new PatchError(`map: ${JSON.stringify(p)} does not contain declared merge key: ${key}`);
      const at = result.findIndex((o) => isMap(o) && sameKey(o[key], p[key], key));
      if (p['$patch'] === 'delete') {
        if (at >= 0) result.splice(at, 1);
        continue;
      }
      const merged = mergeMap(at >= 0 ? (result[at] as Record<string, Json>) : {}, p, item);
      if (merged === DELETE) {
        if (at >= 0) result.splice(at, 1);
      } else if (at >= 0) result[at] = merged;
      else result.push(merged);
    }
  }
  if (Array.isArray(order)) result = applyOrder(result, order, list);
  return result;
}

/** Keys compare as strings, so "80" in a patch finds containerPort 80 (kubectl sends what the file says). */
function sameKey(a: Json, b: Json, _key: string): boolean {
  return a === b || String(a) === String(b);
}

/** `$setElementOrder`: the listed elements first, in that order; the others after, as they were. */
function applyOrder(list: Json[], order: Json[], node: SchemaNode): Json[] {
  const key = node.kind === 'list' ? (node as ListNode).patchMergeKey : undefined;
  const idOf = (v: Json) => (key && isMap(v) ? String(v[key]) : JSON.stringify(v));
  const wanted = order.map((o) => (key && isMap(o) ? String(o[key]) : JSON.stringify(o)));
  const rank = new Map(wanted.map((w, i) => [w, i]));
  const inOrder = list
    .filter((v) => rank.has(idOf(v)))
    .sort((a, b) => rank.get(idOf(a))! - rank.get(idOf(b))!);
  const rest = list.filter((v) => !rank.has(idOf(v)));
  return [...inOrder, ...rest];
}

/** The patch's own content, for places where it is taken as is (directives removed). */
function stripDirectives(value: Json, node: SchemaNode): Json {
  if (Array.isArray(value)) {
    const item = node.kind === 'list' ? node.item : ANY;
    return value.filter((v) => !(isMap(v) && v['$patch'] === 'delete')).map((v) => stripDirectives(v, item));
  }
  if (!isMap(value)) return value;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('$')) continue;
    if (v === null) continue;
    out[k] = stripDirectives(v, childOf(node, k));
  }
  return out;
}
