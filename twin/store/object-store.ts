import { randomUUID } from 'node:crypto';
import { TwinError } from '../../core/errors.ts';
import { type LabelSelector, matchesSelector } from '../../kube/labels.ts';
import {
  clone,
  describeObject,
  type KubeObject,
  type ObjectRef,
  objectKey,
  refOf,
  typeKey,
} from '../../kube/object.ts';
import { EventHistory, type HistoryEntry } from './event-history.ts';
import { generateName, MAX_NAME_GENERATION_CREATE_ATTEMPTS } from './name-generator.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  /** The object after the change; for DELETED its last state with the deletion's resourceVersion. */
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

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export interface DeleteOptions {
  /** How dependents (by ownerReferences) go: Background (default), Foreground or Orphan. */
  propagationPolicy?: PropagationPolicy;
  /** The delete applies only to this uid / resourceVersion (409 Conflict otherwise). */
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface UpdateOptions {
  /** Replace the status too (resources without a status subresource: ConfigMaps, CRDs without one). */
  withStatus?: boolean;
}

/** The finalizers the garbage collector handles (metav1.FinalizerOrphanDependents / FinalizerDeleteDependents). */
export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

/**
 * The twin's API server storage: objects by group/kind/namespace/name with a cluster-wide
 * resourceVersion, generation bumped on spec changes, and watch events delivered synchronously in
 * commit order, kept in a bounded history for watches that resume from a resourceVersion. Objects
 * handed out are copies; change them through update/patch.
 *
 * Deletion follows the API: an object with finalizers (metadata.finalizers, a Namespace's
 * spec.finalizers) gets a deletionTimestamp and stays until they are removed; dependents by
 * ownerReferences are deleted in the background, first (Foreground: the owner carries the
 * foregroundDeletion finalizer until its blocking dependents are gone) or orphaned (Orphan).
 *
 * Twin simplification: no graceful deletion period (deletionGracePeriodSeconds is always 0: a pod
 * without finalizers is removed at once and its containers stopped after); the garbage collector runs
 * synchronously inside each delete instead of as a controller.
 */
export class ObjectStore {
  /** Stored objects. Never changed in place once stored: every change stores a new object, so they can be shared read-only. */
  private readonly objects = new Map<string, KubeObject>();
  private readonly byType = new Map<string, Set<string>>();
  /** Keys of the objects that name a uid in their ownerReferences. */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly byUid = new Map<string, string>();
  private readonly watchers = new Set<{ filter: WatchFilter; handler: WatchHandler }>();
  private readonly observers = new Set<(entry: HistoryEntry) => void>();
  private revision = 0;
  /** Picks the name of an object created with generateName (names.SimpleNameGenerator unless a test fixes it). */
  private readonly generateName: (base: string) => string;
  /** Mutating admission plugins run on create, before the object is stored (as the API server runs them). */
  private readonly admission = new Set<(obj: KubeObject) => void>();
  readonly history: EventHistory;

  constructor(
    private readonly now: () => number = Date.now,
    options: { historyLimit?: number; generateName?: (base: string) => string } = {},
  ) {
    this.history = new EventHistory(options.historyLimit ?? 10_000);
    this.generateName = options.generateName ?? generateName;
  }

  get resourceVersion(): string {
    return String(this.revision);
  }

  /** The current revision as a number (the resourceVersion of the latest change). */
  get currentRevision(): number {
    return this.revision;
  }

  get(ref: ObjectRef): KubeObject | undefined {
    const obj = this.objects.get(objectKey(ref));
    return obj ? clone(obj) : undefined;
  }

  /** The stored object itself, without a copy: read it, never change it. */
  peek(ref: ObjectRef): Readonly<KubeObject> | undefined {
    return this.objects.get(objectKey(ref));
  }

  /** Like get, but throws TWIN_NOT_FOUND naming the object. */
  mustGet(ref: ObjectRef): KubeObject {
    const obj = this.get(ref);
    if (!obj) throw new TwinError('TWIN_NOT_FOUND', `${describeObject(ref)} not found`);
    return obj;
  }

  list(type: { apiVersion?: string; kind: string }, options: ListOptions = {}): KubeObject[] {
    return this.listShared(typeKey(type), options).map(clone);
  }

  /**
   * The stored objects of a type key ("apps/Deployment"), without copies, sorted by namespace and name
   * (the order list pages follow): read them, never change them.
   */
  listShared(key: string, options: ListOptions = {}): Readonly<KubeObject>[] {
    const keys = this.byType.get(key);
    if (!keys) return [];
    const out: { k: string; o: KubeObject }[] = [];
    for (const k of keys) {
      const obj = this.objects.get(k)!;
      if (options.namespace !== undefined && obj.metadata.namespace !== options.namespace) continue;
      if (options.labelSelector && !matchesSelector(options.labelSelector, obj.metadata.labels ?? {}))
        continue;
      out.push({ k, o: obj });
    }
    out.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    return out.map((e) => e.o);
  }

  /**
   * The stored objects of a type key whose ownerReferences name `ownerUid`, without copies, sorted as
   * listShared sorts them: read them, never change them. Answered from the owner index, so a
   * controller finds its pods without walking every pod of the namespace.
   */
  listDependents(key: string, ownerUid: string): Readonly<KubeObject>[] {
    const keys = this.dependents.get(ownerUid);
    if (!keys) return [];
    const out: { k: string; o: KubeObject }[] = [];
    for (const k of keys) {
      const obj = this.objects.get(k);
      if (obj && typeKey(obj) === key) out.push({ k, o: obj });
    }
    out.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    return out.map((e) => e.o);
  }

  /** Every stored type key ("apps/Deployment", "/Pod", "argoproj.io/Rollout", …). */
  types(): string[] {
    return [...this.byType.keys()].filter((k) => (this.byType.get(k)?.size ?? 0) > 0).sort();
  }

  create(input: KubeObject): KubeObject {
    const obj = clone(input);
    let key: string;
    if (!obj.metadata.name && obj.metadata.generateName) {
      // As the API server's registry does (KEP-4420): a generated name that is taken is drawn again,
      // up to 8 attempts; then the client gets 409 AlreadyExists saying no unique name was found.
      for (let attempt = 1; ; attempt++) {
        obj.metadata.name = this.generateName(obj.metadata.generateName);
        key = objectKey(obj);
        if (!this.objects.has(key)) break;
        if (attempt === MAX_NAME_GENERATION_CREATE_ATTEMPTS)
          throw new TwinError(
            'TWIN_ALREADY_EXISTS',
            `${describeObject(obj)} already exists, the server was not able to generate a unique name for the object`,
          );
      }
    } else {
      if (!obj.metadata.name) {
        throw new TwinError(
          'TWIN_INVALID',
          `${obj.kind}: metadata.name or metadata.generateName is required`,
        );
      }
      key = objectKey(obj);
      if (this.objects.has(key)) {
        throw new TwinError('TWIN_ALREADY_EXISTS', `${describeObject(obj)} already exists`);
      }
    }
    for (const admit of this.admission) admit(obj);
    obj.metadata.uid = obj.metadata.uid ?? randomUUID();
    obj.metadata.creationTimestamp = new Date(this.now()).toISOString();
    obj.metadata.generation = 1;
    delete obj.metadata.deletionTimestamp;
    obj.metadata.resourceVersion = String(++this.revision);
    this.store(key, obj);
    this.emit({ type: 'ADDED', object: obj });
    return clone(obj);
  }

  /**
   * Replaces an object. A resourceVersion on the input must match the stored one (optimistic
   * concurrency, 409 Conflict otherwise). The stored status is kept unless `subresource` is 'status',
   * in which case only the status is taken from the input, as the /status subresource does.
   */
  update(input: KubeObject, subresource?: 'status', options: UpdateOptions = {}): KubeObject {
    const key = objectKey(input);
    const current = this.objects.get(key);
    if (!current) throw new TwinError('TWIN_NOT_FOUND', `${describeObject(input)} not found`);
    if (
      input.metadata.resourceVersion !== undefined &&
      input.metadata.resourceVersion !== '' &&
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
      if (!options.withStatus) next.status = clone(current.status);
      if (next.status === undefined) delete next.status;
      next.metadata = {
        ...next.metadata,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        generation: current.metadata.generation,
      };
      // Only a delete sets deletionTimestamp; an update keeps what the store has.
      delete next.metadata.deletionTimestamp;
      delete next.metadata.deletionGracePeriodSeconds;
      if (current.metadata.deletionTimestamp) {
        next.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
        next.metadata.deletionGracePeriodSeconds = 0;
      }
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
    return clone(this.commit(key, current, next));
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
    return clone(this.commit(key, current, next));
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

  /**
   * Deletes an object as the API does. Without finalizers (after the propagation policy's own) it is
   * removed at once and its dependents are garbage-collected (Background); otherwise it gets a
   * deletionTimestamp and stays until its finalizers are removed. Returns the object's state after
   * the call (its last state, with the deletion's resourceVersion, when removed); undefined when it
   * does not exist. `peek` tells whether it is still there.
   */
  delete(ref: ObjectRef, options: DeleteOptions = {}): KubeObject | undefined {
    const key = objectKey(ref);
    const current = this.objects.get(key);
    if (!current) return undefined;
    const pre = options.preconditions;
    if (pre?.uid !== undefined && pre.uid !== current.metadata.uid)
      throw new TwinError(
        'TWIN_CONFLICT',
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid ?? ''}`,
      );
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion)
      throw new TwinError(
        'TWIN_CONFLICT',
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ''}`,
      );
    const finalizers = [...(current.metadata.finalizers ?? [])];
    const policy = options.propagationPolicy;
    const wanted =
      policy === 'Foreground' ? FOREGROUND_FINALIZER : policy === 'Orphan' ? ORPHAN_FINALIZER : undefined;
    if (wanted) {
      // One propagation finalizer at a time, as the API server's deletion strategy keeps it.
      const other = wanted === FOREGROUND_FINALIZER ? ORPHAN_FINALIZER : FOREGROUND_FINALIZER;
      const at = finalizers.indexOf(other);
      if (at >= 0) finalizers.splice(at, 1);
      if (!finalizers.includes(wanted)) finalizers.push(wanted);
    } else if (policy === 'Background') {
      for (const f of [ORPHAN_FINALIZER, FOREGROUND_FINALIZER]) {
        const at = finalizers.indexOf(f);
        if (at >= 0 && !current.metadata.deletionTimestamp) finalizers.splice(at, 1);
      }
    }
    const pendingNamespace = current.kind === 'Namespace' && (current.spec?.finalizers ?? []).length > 0;
    if (finalizers.length === 0 && !pendingNamespace) {
      this.remove(key, current);
      return clone(this.lastDeleted!);
    }
    const next = clone(current);
    next.metadata.finalizers = finalizers;
    if (!next.metadata.deletionTimestamp) {
      next.metadata.deletionTimestamp = new Date(this.now()).toISOString();
      next.metadata.deletionGracePeriodSeconds = 0;
    }
    if (current.kind === 'Namespace') next.status = { ...(next.status ?? {}), phase: 'Terminating' };
    if (JSON.stringify(next) !== JSON.stringify(current)) this.commit(key, current, next);
    else this.collect(key);
    return clone(this.objects.get(key) ?? this.lastDeleted!);
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

  /**
   * Calls `observer` with every change as the history records it: the stored objects themselves, not
   * copies (read them, never change them). For readers that only serialize (the API server's watches).
   */
  observe(observer: (entry: HistoryEntry) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Runs the mutating admission plugins on an object about to be created (create runs them too; they are idempotent). */
  admit(obj: KubeObject): void {
    for (const admit of this.admission) admit(obj);
  }

  /** The last object removed (set by remove; what delete returns). */
  private lastDeleted: KubeObject | undefined;

  /** Stores `next` over `current`, and removes it when it is being deleted and has no finalizers left. */
  private commit(key: string, current: KubeObject, next: KubeObject): KubeObject {
    next.metadata.resourceVersion = String(++this.revision);
    this.unindexOwners(key, current);
    this.store(key, next);
    this.emit({ type: 'MODIFIED', object: next, oldObject: current });
    if (next.metadata.deletionTimestamp && isFinalized(next)) {
      this.remove(key, next);
      return this.lastDeleted!;
    }
    if (next.metadata.deletionTimestamp) this.collect(key);
    return next;
  }

  private store(key: string, obj: KubeObject): void {
    this.objects.set(key, obj);
    let set = this.byType.get(typeKey(obj));
    if (!set) {
      set = new Set<string>();
      this.byType.set(typeKey(obj), set);
    }
    set.add(key);
    if (obj.metadata.uid) this.byUid.set(obj.metadata.uid, key);
    for (const o of obj.metadata.ownerReferences ?? []) {
      let deps = this.dependents.get(o.uid);
      if (!deps) {
        deps = new Set<string>();
        this.dependents.set(o.uid, deps);
      }
      deps.add(key);
    }
  }

  private unindexOwners(key: string, obj: KubeObject): void {
    for (const o of obj.metadata.ownerReferences ?? []) {
      const deps = this.dependents.get(o.uid);
      deps?.delete(key);
      if (deps?.size === 0) this.dependents.delete(o.uid);
    }
  }

  /** Removes a stored object (DELETED event), then lets the garbage collector act on its dependents and owners. */
  private remove(key: string, current: KubeObject): void {
    this.objects.delete(key);
    this.byType.get(typeKey(current))?.delete(key);
    this.unindexOwners(key, current);
    if (current.metadata.uid && this.byUid.get(current.metadata.uid) === key)
      this.byUid.delete(current.metadata.uid);
    const gone = clone(current);
    gone.metadata.resourceVersion = String(++this.revision);
    gone.metadata.deletionTimestamp = gone.metadata.deletionTimestamp ?? new Date(this.now()).toISOString();
    this.emit({ type: 'DELETED', object: gone, oldObject: current });
    this.lastDeleted = gone;
    const uid = current.metadata.uid;
    if (uid) {
      // Background propagation: dependents whose every owner is gone are deleted; others lose the dangling reference.
      for (const depKey of [...(this.dependents.get(uid) ?? [])]) {
        const dep = this.objects.get(depKey);
        if (!dep) continue;
        const others = (dep.metadata.ownerReferences ?? []).filter(
          (o) => o.uid !== uid && this.byUid.has(o.uid),
        );
        if (others.length === 0) this.delete(refOf(dep), { propagationPolicy: 'Background' });
        else
          this.patch(refOf(dep), (d) => {
            d.metadata.ownerReferences = d.metadata.ownerReferences!.filter((o) => o.uid !== uid);
          });
      }
    }
    // An owner in foreground deletion goes once its last blocking dependent is gone.
    for (const o of current.metadata.ownerReferences ?? []) {
      const ownerKey = this.byUid.get(o.uid);
      if (ownerKey && this.objects.has(ownerKey)) this.collect(ownerKey);
    }
    this.lastDeleted = gone;
  }

  /**
   * The garbage collector's work on an object being deleted: Orphan removes the owner reference from
   * every dependent, Foreground deletes the dependents and releases the owner once no dependent with
   * blockOwnerDeletion is left; each then drops its finalizer.
   */
  private collect(key: string): void {
    const obj = this.objects.get(key);
    if (!obj?.metadata.deletionTimestamp) return;
    const uid = obj.metadata.uid;
    const finalizers = obj.metadata.finalizers ?? [];
    const deps = () =>
      [...(uid ? (this.dependents.get(uid) ?? []) : [])]
        .map((k) => this.objects.get(k))
        .filter((d): d is KubeObject => d !== undefined);
    if (finalizers.includes(ORPHAN_FINALIZER)) {
      for (const dep of deps())
        this.patch(refOf(dep), (d) => {
          d.metadata.ownerReferences = (d.metadata.ownerReferences ?? []).filter((o) => o.uid !== uid);
          if (d.metadata.ownerReferences.length === 0) delete d.metadata.ownerReferences;
        });
      this.dropFinalizer(key, ORPHAN_FINALIZER);
      return;
    }
    if (finalizers.includes(FOREGROUND_FINALIZER)) {
      for (const dep of deps()) {
        if (dep.metadata.deletionTimestamp) continue;
        const hasOwnDependents = (this.dependents.get(dep.metadata.uid ?? '')?.size ?? 0) > 0;
        this.delete(refOf(dep), { propagationPolicy: hasOwnDependents ? 'Foreground' : 'Background' });
      }
      const blocking = deps().some((d) =>
        (d.metadata.ownerReferences ?? []).some((o) => o.uid === uid && o.blockOwnerDeletion),
      );
      if (!blocking) this.dropFinalizer(key, FOREGROUND_FINALIZER);
    }
  }

  private dropFinalizer(key: string, finalizer: string): void {
    const current = this.objects.get(key);
    if (!current?.metadata.finalizers?.includes(finalizer)) return;
    const next = clone(current);
    next.metadata.finalizers = next.metadata.finalizers!.filter((f) => f !== finalizer);
    this.commit(key, current, next);
  }

  private emit(event: WatchEvent): void {
    const obj = event.object;
    const key = typeKey(obj);
    const entry: HistoryEntry = {
      revision: Number(obj.metadata.resourceVersion),
      type: event.type,
      typeKey: key,
      object: obj,
      ...(event.oldObject ? { oldObject: event.oldObject } : {}),
    };
    this.history.add(entry);
    for (const o of this.observers) o(entry);
    if (this.watchers.size === 0) return;
    const matching: WatchHandler[] = [];
    for (const w of this.watchers) {
      const f = w.filter;
      if (f.kind !== undefined && typeKey({ apiVersion: f.apiVersion, kind: f.kind }) !== key) continue;
      if (f.namespace !== undefined && obj.metadata.namespace !== f.namespace) continue;
      matching.push(w.handler);
    }
    // Nobody watches it (most Events): no copy to make.
    if (matching.length === 0) return;
    // Handlers get one copy per event (they may keep or change it); the stored objects stay untouched.
    const copy: WatchEvent = {
      type: event.type,
      object: clone(obj),
      ...(event.oldObject ? { oldObject: clone(event.oldObject) } : {}),
    };
    for (const handler of matching) handler(copy);
  }
}

/** Whether nothing holds an object's deletion any more (no finalizers; a Namespace's spec.finalizers empty). */
export function isFinalized(obj: KubeObject): boolean {
  if ((obj.metadata.finalizers ?? []).length > 0) return false;
  return !(obj.kind === 'Namespace' && (obj.spec?.finalizers ?? []).length > 0);
}

function stripMeta(obj: KubeObject): unknown {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}
