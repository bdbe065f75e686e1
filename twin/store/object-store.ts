import { randomUUID } from 'node:crypto';
import { TwinError } from '../../core/errors.ts';
import { type LabelSelector, matchesSelector } from '../../kube/labels.ts';
import {
  clone,
  describeObject,
  type KubeObject,
  type ObjectRef,
  objectKey,
  typeKey,
} from '../../kube/object.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
  /** The object before this change (MODIFIED and DELETED). */
  oldObject?: KubeObject;
}

export interface WatchFilter {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
}

export type WatchHandler = (event: WatchEvent) => void;

export interface ListOptions {
  namespace?: string;
  labelSelector?: LabelSelector;
}

/**
 * The twin's API server storage: objects by group/kind/namespace/name with a cluster-wide
 * resourceVersion, generation bumped on spec changes, and watch events delivered synchronously in
 * commit order. Objects handed out are copies; change them through update/patch.
 *
 * Twin simplification: one in-process store, no admission chain; deletion is immediate (no
 * finalizers) and cascades to dependents by ownerReferences as background propagation does.
 */
export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  private readonly byType = new Map<string, Set<string>>();
  private readonly watchers = new Set<{ filter: WatchFilter; handler: WatchHandler }>();
  private revision = 0;
  private nameCounter = 0;
  /** Mutating admission plugins run on create, before the object is stored (as the API server runs them). */
  private readonly admission = new Set<(obj: KubeObject) => void>();

  constructor(private readonly now: () => number = Date.now) {}

  get resourceVersion(): string {
    return String(this.revision);
  }

  get(ref: ObjectRef): KubeObject | undefined {
    const obj = this.objects.get(objectKey(ref));
    return obj ? clone(obj) : undefined;
  }

  /** Like get, but throws TWIN_NOT_FOUND naming the object. */
  mustGet(ref: ObjectRef): KubeObject {
    const obj = this.get(ref);
    if (!obj) throw new TwinError('TWIN_NOT_FOUND', `${describeObject(ref)} not found`);
    return obj;
  }

  list(type: { apiVersion?: string; kind: string }, options: ListOptions = {}): KubeObject[] {
    const keys = this.byType.get(typeKey(type));
    if (!keys) return [];
    const out: KubeObject[] = [];
    for (const key of keys) {
      const obj = this.objects.get(key)!;
      if (options.namespace !== undefined && obj.metadata.namespace !== options.namespace) continue;
      if (options.labelSelector && !matchesSelector(options.labelSelector, obj.metadata.labels ?? {}))
        continue;
      out.push(clone(obj));
    }
    return out.sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
  }

  /** Every stored type key ("apps/Deployment", "/Pod", "argoproj.io/Rollout", …). */
  types(): string[] {
    return [...this.byType.keys()].filter((k) => (this.byType.get(k)?.size ?? 0) > 0).sort();
  }

  create(input: KubeObject): KubeObject {
    const obj = clone(input);
    if (!obj.metadata.name && obj.metadata.generateName) {
      obj.metadata.name = `${obj.metadata.generateName}${(++this.nameCounter).toString(36).padStart(5, '0')}`;
    }
    if (!obj.metadata.name) {
      throw new TwinError('TWIN_INVALID', `${obj.kind}: metadata.name or metadata.generateName is required`);
    }
    const key = objectKey(obj);
    if (this.objects.has(key)) {
      throw new TwinError('TWIN_ALREADY_EXISTS', `${describeObject(obj)} already exists`);
    }
    for (const admit of this.admission) admit(obj);
    obj.metadata.uid = obj.metadata.uid ?? randomUUID();
    obj.metadata.creationTimestamp = new Date(this.now()).toISOString();
    obj.metadata.generation = 1;
    obj.metadata.resourceVersion = String(++this.revision);
    this.objects.set(key, obj);
    const set = this.byType.get(typeKey(obj)) ?? new Set<string>();
    this.byType.set(typeKey(obj), set);
    set.add(key);
    this.emit({ type: 'ADDED', object: clone(obj) });
    return clone(obj);
  }

  /**
   * Replaces an object. A resourceVersion on the input must match the stored one (optimistic
   * concurrency, 409 Conflict otherwise). The stored status is kept unless `subresource` is 'status',
   * in which case only the status is taken from the input, as the /status subresource does.
   */
  update(input: KubeObject, subresource?: 'status'): KubeObject {
    const key = objectKey(input);
    const current = this.objects.get(key);
    if (!current) throw new TwinError('TWIN_NOT_FOUND', `${describeObject(input)} not found`);
    if (
      input.metadata.resourceVersion !== undefined &&
      input.metadata.resourceVersion !== current.metadata.resourceVersion
    ) {
      throw new TwinError(
        'TWIN_CONFLICT',
        `Operation cannot be fulfilled on ${describeObject(input)}: the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    let next: KubeObject;
    if (subresource === 'status') {
      next = clone(current);
      next.status = clone(input.status);
    } else {
      next = clone(input);
      next.status = clone(current.status);
      next.metadata = {
        ...next.metadata,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        generation: current.metadata.generation,
      };
      if (JSON.stringify(stripMeta(next)) !== JSON.stringify(stripMeta(current))) {
        next.metadata.generation = (current.metadata.generation ?? 1) + 1;
      }
    }
    if (
      JSON.stringify(next) ===
      JSON.stringify({
        ...current,
        metadata: { ...current.metadata, resourceVersion: next.metadata.resourceVersion },
      })
    ) {
      return clone(current);
    }
    next.metadata.resourceVersion = String(++this.revision);
    this.objects.set(key, next);
    this.emit({ type: 'MODIFIED', object: clone(next), oldObject: clone(current) });
    return clone(next);
  }

  updateStatus(input: KubeObject): KubeObject {
    return this.update(input, 'status');
  }

  /**
   * Read-modify-write on the latest version: `mutate` changes a copy (spec, metadata or status) and
   * the result replaces the object. Returns undefined when the object does not exist.
   */
  patch(ref: ObjectRef, mutate: (obj: KubeObject) => void): KubeObject | undefined {
    const current = this.objects.get(objectKey(ref));
    if (!current) return undefined;
    const next = clone(current);
    mutate(next);
    const key = objectKey(next);
    if (key !== objectKey(current))
      throw new TwinError('TWIN_INVALID', `patch may not rename ${describeObject(current)}`);
    const specChanged = JSON.stringify(stripMeta(next)) !== JSON.stringify(stripMeta(current));
    if (JSON.stringify(next) === JSON.stringify(current)) return clone(current);
    next.metadata.generation = (current.metadata.generation ?? 1) + (specChanged ? 1 : 0);
    next.metadata.resourceVersion = String(++this.revision);
    this.objects.set(key, next);
    this.emit({ type: 'MODIFIED', object: clone(next), oldObject: clone(current) });
    return clone(next);
  }

  /** Creates the object, or replaces its spec/metadata keeping status (kubectl apply). */
  apply(input: KubeObject): KubeObject {
    const current = this.objects.get(objectKey(input));
    if (!current) return this.create(input);
    const next = clone(input);
    next.metadata = {
      ...current.metadata,
      ...next.metadata,
      resourceVersion: current.metadata.resourceVersion,
    };
    return this.update(next);
  }

  /** Deletes an object and, by ownerReferences, its dependents. Returns the deleted object. */
  delete(ref: ObjectRef): KubeObject | undefined {
    const key = objectKey(ref);
    const current = this.objects.get(key);
    if (!current) return undefined;
    this.objects.delete(key);
    this.byType.get(typeKey(current))?.delete(key);
    this.revision++;
    const gone = clone(current);
    gone.metadata.deletionTimestamp = new Date(this.now()).toISOString();
    this.emit({ type: 'DELETED', object: gone, oldObject: clone(current) });
    const uid = current.metadata.uid;
    for (const [depKey, dep] of [...this.objects]) {
      if (dep.metadata.ownerReferences?.some((o) => o.uid === uid) && this.objects.has(depKey)) {
        this.delete({
          apiVersion: dep.apiVersion,
          kind: dep.kind,
          namespace: dep.metadata.namespace,
          name: dep.metadata.name,
        } as ObjectRef);
      }
    }
    return gone;
  }

  /** Adds a mutating admission plugin (called with every object being created); returns its removal. */
  addAdmission(plugin: (obj: KubeObject) => void): () => void {
    this.admission.add(plugin);
    return () => this.admission.delete(plugin);
  }

  /** Subscribes to changes of the matching objects. Returns the function that ends the watch. */
  watch(filter: WatchFilter, handler: WatchHandler): () => void {
    const entry = { filter, handler };
    this.watchers.add(entry);
    return () => this.watchers.delete(entry);
  }

  private emit(event: WatchEvent): void {
    const obj = event.object;
    for (const w of [...this.watchers]) {
      const f = w.filter;
      if (f.kind !== undefined && typeKey({ apiVersion: f.apiVersion, kind: f.kind }) !== typeKey(obj))
        continue;
      if (f.namespace !== undefined && obj.metadata.namespace !== f.namespace) continue;
      w.handler(event);
    }
  }
}

function stripMeta(obj: KubeObject): unknown {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}
