import type { KubeObject, ManagedFieldsEntry } from '../../../kube/object.ts';
import { ANY, childOf, type SchemaNode, type StructNode } from '../schema/schema-node.ts';
import {
  type FieldPath,
  FieldSet,
  fieldsOf,
  formatPath,
  keyElement,
  removeAt,
  valueAt,
} from './field-set.ts';

export interface ApplyConflict {
  /** How the conflicting manager is printed ('"kubectl-client-side-apply" using apps/v1'). */
  manager: string;
  /** The field as upstream prints it (".spec.replicas"). */
  field: string;
}

/** A server-side apply that would take fields from other managers without `force` (409 Conflict). */
export class ApplyConflictError extends Error {
  constructor(readonly conflicts: ApplyConflict[]) {
    super(conflictMessage(conflicts));
  }
}

export interface FieldManagerOptions {
  /** The field manager (`fieldManager` query parameter, or the user agent's program name). */
  manager: string;
  /** apiVersion of the request ("apps/v1"). */
  apiVersion: string;
  /** The subresource written ('status'), if any. */
  subresource?: string;
  /** RFC 3339 timestamp of the operation (seconds). */
  now: string;
  schema: StructNode;
  /** Whether the resource has a status subresource (then the main resource ignores status). */
  statusSubresource: boolean;
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

interface Entry {
  meta: Omit<ManagedFieldsEntry, 'fieldsV1'>;
  fields: FieldSet;
}

/** The manager used for the fields of an object that had no managedFields when it was first applied. */
export const BEFORE_FIRST_APPLY = 'before-first-apply';

/**
 * Server-side apply (`application/apply-patch+yaml`), as the API server's field manager does: the
 * applied configuration is merged into the live object (maps and structs field by field, map-lists by
 * their keys, sets by value, everything else replaced); fields this manager applied before and no
 * longer applies are removed unless another manager owns them; a field another manager owns with a
 * different value is a conflict (409) unless `force`, which takes it over. The manager's entry in
 * managedFields becomes exactly the applied set.
 * See https://kubernetes.io/docs/reference/using-api/server-side-apply/
 */
export function serverSideApply(
  live: KubeObject | undefined,
  config: KubeObject,
  options: FieldManagerOptions & { force: boolean },
): KubeObject {
  const part = partOf(options);
  const entries = live ? decode(live) : [];
  if (live && entries.length === 0) {
    const existing = fieldsOf(live as unknown as Record<string, unknown>, options.schema, 'all');
    if (existing.size > 0)
      entries.push({
        meta: {
          manager: BEFORE_FIRST_APPLY,
          operation: 'Update',
          apiVersion: options.apiVersion,
          fieldsType: 'FieldsV1',
        },
        fields: existing,
      });
  }
  const applied = fieldsOf(config as unknown as Record<string, unknown>, options.schema, part);
  const merged = mergeObject(live, config, options.schema, part);
  const id = identity({ manager: options.manager, operation: 'Apply', subresource: options.subresource });
  const mine = entries.find((e) => identity(e.meta) === id);
  const others = entries.filter((e) => e !== mine);
  const conflicts: { entry: Entry; path: FieldPath }[] = [];
  for (const e of others) {
    for (const p of applied) {
      if (!e.fields.has(p)) continue;
      if (!changed(live, merged, p)) continue;
      conflicts.push({ entry: e, path: p });
    }
  }
  if (conflicts.length > 0 && !options.force) {
    const allowed = options.manager === KUBECTL ? fieldsFromLastApplied(live, options.schema) : undefined;
    const blocking = conflicts.filter((c) => !allowed?.has(c.path));
    if (blocking.length > 0)
      throw new ApplyConflictError(
        blocking.map((c) => ({ manager: printManager(c.entry.meta), field: formatPath(c.path) })),
      );
  }
  for (const c of conflicts) c.entry.fields.delete(c.path);
  // Fields this manager no longer applies go, unless someone else still owns them (or something below them).
  const dropped = [...(mine?.fields ?? [])].filter((p) => !applied.has(p));
  dropped.sort((a, b) => a.length - b.length);
  for (const p of dropped) {
    if (others.some((e) => e.fields.hasPrefix(p))) continue;
    removeAt(merged as unknown as Record<string, unknown>, p);
  }
  const next: Entry[] = others.filter((e) => e.fields.size > 0);
  next.push({
    meta: {
      manager: options.manager,
      operation: 'Apply',
      apiVersion: config.apiVersion,
      time: options.now,
      fieldsType: 'FieldsV1',
      ...(options.subresource ? { subresource: options.subresource } : {}),
    },
    fields: applied,
  });
  merged.metadata.managedFields = encode(next);
  // kubectl's server-side apply keeps a client-side apply annotation current, so that a later
  // client-side apply still computes its patch from what was last applied.
  const annotations = merged.metadata.annotations;
  if (options.manager === KUBECTL && annotations?.[LAST_APPLIED] && !options.subresource) {
    const { status: _s, ...rest } = config;
    const {
      managedFields: _m,
      resourceVersion: _r,
      ...meta
    } = (rest.metadata ?? {}) as unknown as Record<string, unknown>;
    const kept = { ...((meta['annotations'] as Record<string, string>) ?? {}) };
    delete kept[LAST_APPLIED];
    const lastApplied = {
      ...rest,
      metadata: { ...meta, ...(Object.keys(kept).length ? { annotations: kept } : {}) },
    };
    if (Object.keys(kept).length === 0)
      delete (lastApplied.metadata as Record<string, unknown>)['annotations'];
    merged.metadata.annotations = { ...annotations, [LAST_APPLIED]: `${JSON.stringify(lastApplied)}\n` };
  }
  return merged;
}

const KUBECTL = 'kubectl';
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The fields kubectl's server-side apply may take from client-side apply without a conflict (the API
 * server's lastAppliedManager): those of the last-applied-configuration annotation that still have
 * the value it records. This is how `kubectl apply --server-side` takes over from `kubectl apply`.
 * See https://kubernetes.io/docs/reference/using-api/server-side-apply/#upgrading-from-client-side-apply-to-server-side-apply
 */
function fieldsFromLastApplied(live: KubeObject | undefined, schema: StructNode): FieldSet | undefined {
  const text = live?.metadata.annotations?.[LAST_APPLIED];
  if (!text) return undefined;
  let lastApplied: Record<string, unknown>;
  try {
    lastApplied = JSON.parse(text);
  } catch {
    return undefined;
  }
  const set = fieldsOf(lastApplied, schema, 'all');
  return FieldSet.of([...set].filter((p) => !changed(lastApplied, live, p)));
}

/**
 * The managedFields after a create, update or non-apply patch by `manager`: it takes over every
 * field the write added or changed (other managers lose them) and nobody keeps the fields it
 * removed. A write that sets managedFields itself keeps what it wrote (kubectl's client-side to
 * server-side apply migration does that); an empty list clears them.
 */
export function trackUpdate(
  old: KubeObject | undefined,
  next: KubeObject,
  options: FieldManagerOptions,
): ManagedFieldsEntry[] | undefined {
  const given = next.metadata.managedFields;
  const before = old?.metadata.managedFields;
  if (given !== undefined && JSON.stringify(given) !== JSON.stringify(before ?? [])) {
    return given.length === 0 ? undefined : given;
  }
  const part = partOf(options);
  const oldSet = old
    ? fieldsOf(old as unknown as Record<string, unknown>, options.schema, part)
    : new FieldSet();
  const newSet = fieldsOf(next as unknown as Record<string, unknown>, options.schema, part);
  const changedSet = FieldSet.of([...newSet].filter((p) => !oldSet.has(p) || changed(old, next, p)));
  const removed = oldSet.minus(newSet);
  const entries = old ? decode(old) : [];
  if (changedSet.size === 0 && removed.size === 0) return before;
  const id = identity({
    manager: options.manager,
    operation: 'Update',
    apiVersion: options.apiVersion,
    subresource: options.subresource,
  });
  let mine = entries.find((e) => identity(e.meta) === id);
  for (const e of entries) {
    if (e === mine) continue;
    for (const p of changedSet) e.fields.delete(p);
  }
  for (const e of entries) for (const p of removed) e.fields.delete(p);
  if (!mine) {
    mine = {
      meta: {
        manager: options.manager,
        operation: 'Update',
        apiVersion: options.apiVersion,
        fieldsType: 'FieldsV1',
      },
      fields: new FieldSet(),
    };
    if (options.subresource) mine.meta.subresource = options.subresource;
    entries.push(mine);
  }
  mine.meta.time = options.now;
  mine.fields = mine.fields.union(changedSet);
  const kept = entries.filter((e) => e.fields.size > 0);
  return kept.length > 0 ? encode(kept) : undefined;
}

function partOf(options: FieldManagerOptions): 'main' | 'status' | 'all' {
  if (options.subresource === 'status') return 'status';
  return options.statusSubresource ? 'main' : 'all';
}

/** Whether the value at `path` differs between two versions (items and set members: whether they exist). */
function changed(a: unknown, b: unknown, path: FieldPath): boolean {
  const va = valueAt(a, path);
  const vb = valueAt(b, path);
  const last = path.at(-1) ?? '';
  if (last.startsWith('k:') || last.startsWith('v:')) return (va === undefined) !== (vb === undefined);
  return !deepEqual(va, vb);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as any)[k], (b as any)[k]));
}

/** The live object with the applied configuration merged in (only status for the status subresource). */
function mergeObject(
  live: KubeObject | undefined,
  config: KubeObject,
  schema: StructNode,
  part: 'main' | 'status' | 'all',
): KubeObject {
  const base: Record<string, unknown> = live ? structuredClone(live) : {};
  const result: Record<string, unknown> = { ...base, apiVersion: config.apiVersion, kind: config.kind };
  for (const [k, v] of Object.entries(config)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (part === 'main' && k === 'status') continue;
    if (part === 'status' && k !== 'status') continue;
    if (k === 'metadata') {
      const meta: Record<string, unknown> = { ...((base['metadata'] as Record<string, unknown>) ?? {}) };
      const metaSchema = childOf(schema, 'metadata');
      for (const [mk, mv] of Object.entries((v as Record<string, unknown>) ?? {})) {
        if (mk === 'managedFields' || mk === 'resourceVersion' || mk === 'uid' || mk === 'creationTimestamp')
          continue;
        if (live && (mk === 'name' || mk === 'namespace')) continue;
        const merged = mergeValue(meta[mk], mv, childOf(metaSchema, mk));
        if (merged === undefined) delete meta[mk];
        else meta[mk] = merged;
      }
      result['metadata'] = meta;
      continue;
    }
    const merged = mergeValue(base[k], v, childOf(schema, k));
    if (merged === undefined) delete result[k];
    else result[k] = merged;
  }
  if (!live) {
    const meta = { ...((config.metadata as unknown as Record<string, unknown>) ?? {}) };
    for (const k of ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp']) delete meta[k];
    result['metadata'] = { ...meta, ...((result['metadata'] as object) ?? {}) };
  }
  return result as unknown as KubeObject;
}

function mergeValue(live: unknown, applied: unknown, node: SchemaNode): unknown {
  if (applied === null) return undefined;
  if (Array.isArray(applied)) {
    if (node.kind !== 'list' || node.listType === 'atomic' || !Array.isArray(live))
      return structuredClone(applied);
    if (node.listType === 'set') {
      const out = [...live];
      const seen = new Set(live.map((v) => JSON.stringify(v)));
      for (const v of applied) if (!seen.has(JSON.stringify(v))) out.push(v);
      return out;
    }
    const out = [...live];
    for (const item of applied) {
      if (!isMap(item)) return structuredClone(applied);
      const key = keyElement(item, node.listMapKeys);
      const at = out.findIndex((o) => isMap(o) && keyElement(o, node.listMapKeys) === key);
      if (at >= 0) out[at] = mergeValue(out[at], item, node.item);
      else out.push(mergeValue(undefined, item, node.item));
    }
    return out;
  }
  if (isMap(applied)) {
    const atomic = (node.kind === 'struct' || node.kind === 'map') && node.atomic;
    if (atomic || !isMap(live)) {
      if (atomic) return structuredClone(applied);
      live = {};
    }
    const out: Record<string, unknown> = { ...(live as Record<string, unknown>) };
    for (const [k, v] of Object.entries(applied)) {
      const merged = mergeValue(out[k], v, node.kind === 'any' ? ANY : childOf(node, k));
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  return applied;
}

function decode(obj: KubeObject): Entry[] {
  return (obj.metadata.managedFields ?? []).map((m) => {
    const { fieldsV1, ...meta } = m;
    return { meta: { ...meta }, fields: FieldSet.fromFieldsV1(fieldsV1) };
  });
}

function encode(entries: Entry[]): ManagedFieldsEntry[] {
  return entries.map(
    (e) => ({ ...e.meta, fieldsType: 'FieldsV1', fieldsV1: e.fields.toFieldsV1() }) as ManagedFieldsEntry,
  );
}

/** Who a managedFields entry is: appliers by name and subresource; updaters also by apiVersion. */
function identity(m: {
  manager: string;
  operation: string;
  apiVersion?: string | undefined;
  subresource?: string | undefined;
}): string {
  return JSON.stringify([
    m.manager,
    m.operation,
    m.operation === 'Apply' ? '' : (m.apiVersion ?? ''),
    m.subresource ?? '',
  ]);
}

/** A manager as the API server names it in conflicts: `"kubectl"`, `"kube-controller-manager" using apps/v1`. */
function printManager(m: Omit<ManagedFieldsEntry, 'fieldsV1'>): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s = `${s} with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update')
    return m.time ? `${s} using ${m.apiVersion} at ${m.time}` : `${s} using ${m.apiVersion}`;
  return s;
}

function conflictMessage(conflicts: ApplyConflict[]): string {
  if (conflicts.length === 1)
    return `Apply failed with 1 conflict: conflict with ${conflicts[0]!.manager}: ${conflicts[0]!.field}`;
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.field]);
  const lines: string[] = [];
  for (const m of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${m}:`);
    for (const f of byManager.get(m)!) lines.push(`- ${f}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}
