import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { isTwinError } from '../../core/errors.ts';
import { apiVersionOf, type ServedResource } from '../../kube/api/resource-registry.ts';
import type { Clock } from '../../kube/clock.ts';
import type { KubeObject, ObjectRef } from '../../kube/object.ts';
import { generateName, MAX_NAME_GENERATION_CREATE_ATTEMPTS } from '../store/name-generator.ts';
import type { ObjectStore, PropagationPolicy } from '../store/object-store.ts';
import { type Admission, fieldValidationOf } from './admission.ts';
import { ApplyConflictError, serverSideApply, trackUpdate } from './apply/server-side-apply.ts';
import { hpaToV1, hpaToV2 } from './hpa-conversion.ts';
import { mediaType, parseBody, readBody, sendJson, warningHeaders } from './http-io.ts';
import { listPage, parseListQuery } from './list-query.ts';
import { jsonMergePatch } from './patch/json-merge-patch.ts';
import { jsonPatch } from './patch/json-patch.ts';
import { PatchError, strategicMergePatch } from './patch/strategic-merge-patch.ts';
import { isTrue } from './request-info.ts';
import { builtinSchema, crdSchema, type StructNode } from './schema/schema-node.ts';
import {
  alreadyExists,
  badRequest,
  conflict,
  generateNameConflict,
  gone,
  invalid,
  methodNotSupported,
  notFound,
  OBJECT_MODIFIED,
  pathNotFound,
  StatusError,
  unsupportedMediaType,
} from './status-error.ts';
import {
  acceptsPartialMetadata,
  acceptsTable,
  type IncludeObject,
  printerFor,
  toTable,
} from './tables/table.ts';
import type { WatchHub } from './watch.ts';

export interface RequestTarget {
  resource: ServedResource;
  namespace: string;
  name: string;
  subresource: string;
  verb: string;
}

const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

/** Fields of an object's metadata only the server sets. */
const SERVER_SET = [
  'uid',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generation',
  'selfLink',
];

/**
 * The REST verbs of one resource, as kube-apiserver's generic registry serves them: get, list (with
 * selectors, paging and resourceVersion semantics), watch, create, update, patch (JSON, merge,
 * strategic merge, server-side apply), delete (with propagationPolicy and preconditions) and
 * deletecollection, with `dryRun=All`, optimistic concurrency, the status subresource, managedFields,
 * admission, and Table output.
 */
export class ResourceHandler {
  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
    private readonly admission: Admission,
    private readonly hub: WatchHub,
    private readonly bookmarkMs: number,
  ) {}

  /** How the store keys a resource's objects ("apps/Deployment"). */
  typeKey(r: ServedResource): string {
    return `${r.group}/${r.kind}`;
  }

  ref(r: ServedResource, namespace: string, name: string): ObjectRef {
    return { apiVersion: apiVersionOf(r), kind: r.kind, ...(r.namespaced ? { namespace } : {}), name };
  }

  /** The object as the resource's version shows it (a custom resource stored at another version: the apiVersion rewritten, conversion None). */
  view(r: ServedResource, obj: Readonly<KubeObject>): Readonly<KubeObject> {
    const apiVersion = apiVersionOf(r);
    if (obj.apiVersion === apiVersion) return obj;
    if (r.group === 'autoscaling' && r.kind === 'HorizontalPodAutoscaler')
      return apiVersion === 'autoscaling/v1' ? hpaToV1(obj) : hpaToV2(obj);
    return { ...obj, apiVersion };
  }

  /** An object written at the resource's version, as the store keeps it (HPAs at autoscaling/v2). */
  stored(r: ServedResource, obj: KubeObject, current?: Readonly<KubeObject>): KubeObject {
    if (
      r.group === 'autoscaling' &&
      r.kind === 'HorizontalPodAutoscaler' &&
      obj.apiVersion === 'autoscaling/v1'
    ) {
      const v2 = hpaToV2(obj);
      if (current?.status) v2.status = current.status;
      else delete v2.status;
      return v2;
    }
    return obj;
  }

  schemaOf(r: ServedResource): StructNode {
    return r.custom
      ? crdSchema(r.custom.schema as never)
      : (builtinSchema(r.model ?? '') ?? crdSchema(undefined));
  }

  hasStatus(r: ServedResource): boolean {
    return r.subresources.some((s) => s.name === 'status');
  }

  gr(r: ServedResource) {
    return { group: r.group, resource: r.name };
  }

  now(): string {
    return new Date(this.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
  }

  managerOf(req: IncomingMessage, q: URLSearchParams): string {
    const m = q.get('fieldManager');
    if (m) return m;
    const agent = String(req.headers['user-agent'] ?? 'unknown');
    return agent.split('/')[0]!.trim() || 'unknown';
  }

  get(req: IncomingMessage, res: ServerResponse, t: RequestTarget): void {
    const obj = this.store.peek(this.ref(t.resource, t.namespace, t.name));
    if (!obj) throw notFound(this.gr(t.resource), t.name);
    this.respondObject(req, res, t.resource, this.view(t.resource, obj), 200);
  }

  list(req: IncomingMessage, res: ServerResponse, t: RequestTarget, q: URLSearchParams): void {
    const r = t.resource;
    const query = parseListQuery(r, q);
    const page = listPage(this.store, this.typeKey(r), t.namespace || undefined, query);
    const metadata: Record<string, unknown> = { resourceVersion: page.resourceVersion };
    if (page.continueToken) metadata['continue'] = page.continueToken;
    if (page.remainingItemCount !== undefined) metadata['remainingItemCount'] = page.remainingItemCount;
    const accept = req.headers.accept;
    if (acceptsTable(accept)) {
      sendJson(
        res,
        200,
        toTable(
          page.items.map((o) => this.view(r, o)),
          printerFor(r),
          {
            now: this.clock.now(),
            includeObject: includeObjectOf(q),
            metadata,
            apiVersion: apiVersionOf(r),
            kind: r.kind,
          },
        ),
      );
      return;
    }
    if (acceptsPartialMetadata(accept)) {
      sendJson(res, 200, {
        kind: 'PartialObjectMetadataList',
        apiVersion: 'meta.k8s.io/v1',
        metadata,
        items: page.items.map((o) => ({
          kind: 'PartialObjectMetadata',
          apiVersion: 'meta.k8s.io/v1',
          metadata: o.metadata,
        })),
      });
      return;
    }
    const items = page.items.map((o) => JSON.stringify(this.view(r, o))).join(',');
    sendJson(
      res,
      200,
      `{"kind":"${r.kind}List","apiVersion":"${apiVersionOf(r)}","metadata":${JSON.stringify(metadata)},"items":[${items}]}`,
    );
  }

  watch(req: IncomingMessage, res: ServerResponse, t: RequestTarget, q: URLSearchParams): void {
    const r = t.resource;
    const query = parseListQuery(r, q);
    if (t.name) {
      // A watch of one object is a watch of its collection with metadata.name selected.
      const byName = query.fields;
      query.fields = (o) => o.metadata.name === t.name && byName(o);
    }
    const rv = query.resourceVersion;
    let fromRevision: number | undefined;
    if (rv && rv !== '0' && query.sendInitialEvents !== true) {
      fromRevision = Number(rv);
      if (!Number.isInteger(fromRevision))
        throw badRequest(`Invalid value: "${rv}": resourceVersion must be an integer`);
    }
    const table = acceptsTable(req.headers.accept);
    const partial = !table && acceptsPartialMetadata(req.headers.accept);
    const include = includeObjectOf(q);
    const printer = printerFor(r);
    const apiVersion = apiVersionOf(r);
    let first = true;
    const encode = (type: string, obj: Readonly<KubeObject>): string => {
      let object: unknown = type === 'ERROR' || type === 'BOOKMARK' ? obj : this.view(r, obj);
      if (partial && type !== 'ERROR')
        object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
      if (table && type !== 'ERROR' && type !== 'BOOKMARK') {
        object = toTable([object as KubeObject], printer, {
          now: this.clock.now(),
          includeObject: include,
          apiVersion,
          kind: r.kind,
          metadata: { resourceVersion: obj.metadata.resourceVersion },
          withColumns: first,
        });
        first = false;
      }
      return `${JSON.stringify({ type, object })}\n`;
    };
    this.hub.start({
      res,
      typeKey: this.typeKey(r),
      namespace: t.namespace || undefined,
      query,
      encode,
      encoding: table ? `table:${include}:${Math.random()}` : partial ? 'partial' : apiVersion,
      fromRevision,
      bookmarkMs: this.bookmarkMs,
      bookmarkObject: (revision, initialEnd) =>
        ({
          kind: r.kind,
          apiVersion,
          metadata: {
            resourceVersion: revision,
            ...(initialEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}),
          },
        }) as unknown as KubeObject,
      tooOld: (revision) =>
        gone(`too old resource version: ${revision} (${this.store.history.oldestResumable + 1})`),
    });
  }

  async create(
    req: IncomingMessage,
    res: ServerResponse,
    t: RequestTarget,
    q: URLSearchParams,
  ): Promise<void> {
    const r = t.resource;
    const obj = this.decode(await readBody(req), mediaType(req), r);
    this.placeIn(obj, r, t.namespace);
    if (!obj.metadata.name && !obj.metadata.generateName)
      throw invalid({ group: r.group, kind: r.kind }, '', [
        {
          reason: 'FieldValueRequired',
          message: 'Required value: name or generateName is required',
          field: 'metadata.name',
        },
      ]);
    if (obj.metadata.resourceVersion)
      throw badRequest('resourceVersion should not be set on objects to be created');
    for (const f of SERVER_SET) delete (obj.metadata as unknown as Record<string, unknown>)[f];
    this.prepareForCreate(r, obj);
    const dryRun = isDryRun(q);
    const name = obj.metadata.name || this.generatedName(r, t.namespace, obj.metadata.generateName ?? '');
    this.admission.namespaceLifecycle(r, 'create', t.namespace, name);
    this.admission.mutate(obj);
    const warnings = this.admission.validate(r, obj, undefined, fieldValidationOf(q));
    const managed = trackUpdate(undefined, obj, this.fieldManager(req, q, r));
    if (managed) obj.metadata.managedFields = managed;
    else delete obj.metadata.managedFields;
    this.admission.checkSize(obj);
    if (this.store.peek(this.ref(r, t.namespace, name))) throw alreadyExists(this.gr(r), name);
    let created: KubeObject;
    if (dryRun) {
      created = structuredClone(obj);
      created.metadata.name = name;
      created.metadata.uid = randomUUID();
      created.metadata.creationTimestamp = new Date(this.clock.now()).toISOString();
      created.metadata.generation = 1;
    } else {
      if (!obj.metadata.name) obj.metadata.name = name;
      created = this.storeCall(r, name, () => this.store.create(this.stored(r, obj)));
    }
    this.respondObject(req, res, r, this.view(r, created), 201, warningHeaders(warnings));
  }

  /**
   * A name from generateName that no object holds: drawn again while taken, up to the registry's
   * attempts (KEP-4420), then 409 AlreadyExists with retryAfterSeconds 1 (NewGenerateNameConflict).
   */
  private generatedName(r: ServedResource, namespace: string, base: string): string {
    for (let attempt = 1; ; attempt++) {
      const name = generateName(base);
      if (!this.store.peek(this.ref(r, namespace, name))) return name;
      if (attempt === MAX_NAME_GENERATION_CREATE_ATTEMPTS) throw generateNameConflict(this.gr(r), name);
    }
  }

  async update(
    req: IncomingMessage,
    res: ServerResponse,
    t: RequestTarget,
    q: URLSearchParams,
  ): Promise<void> {
    const r = t.resource;
    const body = this.decode(await readBody(req), mediaType(req), r);
    if (body.metadata.name && body.metadata.name !== t.name)
      throw badRequest(
        `the name of the object (${body.metadata.name}) does not match the name on the URL (${t.name})`,
      );
    body.metadata.name = t.name;
    this.placeIn(body, r, t.namespace);
    const current = this.store.peek(this.ref(r, t.namespace, t.name));
    if (!current) throw notFound(this.gr(r), t.name);
    const rv = body.metadata.resourceVersion;
    if (rv && rv !== current.metadata.resourceVersion) throw conflict(this.gr(r), t.name, OBJECT_MODIFIED);
    const next = this.merge(r, current as KubeObject, body, t.subresource);
    const result = this.write(req, q, r, t, current as KubeObject, next);
    this.respondObject(req, res, r, this.view(r, result.object), 200, warningHeaders(result.warnings));
  }

  async patch(
    req: IncomingMessage,
    res: ServerResponse,
    t: RequestTarget,
    q: URLSearchParams,
  ): Promise<void> {
    const r = t.resource;
    const type = mediaType(req);
    if (!PATCH_TYPES.includes(type) || (r.custom && type === 'application/strategic-merge-patch+json'))
      throw unsupportedMediaType(
        type,
        PATCH_TYPES.filter((p) => !(r.custom && p.includes('strategic'))),
      );
    const body = parseBody(await readBody(req), type);
    const current = this.store.peek(this.ref(r, t.namespace, t.name)) as KubeObject | undefined;
    if (type === 'application/apply-patch+yaml') {
      await this.apply(req, res, t, q, body, current);
      return;
    }
    if (!current) throw notFound(this.gr(r), t.name);
    let patched: any;
    try {
      const base = structuredClone(this.view(r, current)) as KubeObject;
      if (type === 'application/json-patch+json') patched = jsonPatch(base, body);
      else if (type === 'application/merge-patch+json') patched = jsonMergePatch(base, body);
      else patched = strategicMergePatch(base, body, this.schemaOf(r));
    } catch (err) {
      if (err instanceof PatchError) throw new StatusError(422, 'Invalid', err.message, {});
      throw err;
    }
    if (typeof patched !== 'object' || patched === null || Array.isArray(patched))
      throw badRequest('the patch did not produce an object');
    patched.metadata ??= {};
    if (
      (patched.metadata.name ?? t.name) !== t.name ||
      (r.namespaced && (patched.metadata.namespace ?? t.namespace) !== t.namespace)
    )
      throw badRequest('the name or namespace of the object may not be changed by a patch');
    if (patched.kind !== r.kind || patched.apiVersion !== apiVersionOf(r))
      throw badRequest(`the kind or apiVersion of the object may not be changed by a patch`);
    const rv = patched.metadata.resourceVersion;
    if (rv && rv !== current.metadata.resourceVersion) throw conflict(this.gr(r), t.name, OBJECT_MODIFIED);
    const next = this.merge(r, current, patched, t.subresource);
    const result = this.write(req, q, r, t, current, next);
    this.respondObject(req, res, r, this.view(r, result.object), 200, warningHeaders(result.warnings));
  }

  private async apply(
    req: IncomingMessage,
    res: ServerResponse,
    t: RequestTarget,
    q: URLSearchParams,
    config: any,
    current: KubeObject | undefined,
  ): Promise<void> {
    const r = t.resource;
    if (!q.get('fieldManager'))
      throw badRequest('PATCH, application/apply-patch+yaml: fieldManager is required for apply requests');
    if (typeof config !== 'object' || config === null || Array.isArray(config))
      throw badRequest('the applied configuration must be an object');
    if (config.apiVersion !== apiVersionOf(r) || config.kind !== r.kind)
      throw badRequest(
        `the API version and kind in the data (${config.apiVersion}, ${config.kind}) do not match the expected ${apiVersionOf(r)}, ${r.kind}`,
      );
    config.metadata ??= {};
    if (config.metadata.name && config.metadata.name !== t.name)
      throw badRequest(
        `the name of the object (${config.metadata.name}) does not match the name on the URL (${t.name})`,
      );
    config.metadata.name = t.name;
    this.placeIn(config, r, t.namespace);
    if (
      config.metadata.resourceVersion &&
      current &&
      config.metadata.resourceVersion !== current.metadata.resourceVersion
    )
      throw conflict(this.gr(r), t.name, OBJECT_MODIFIED);
    const force = isTrue(q.get('force'));
    let merged: KubeObject;
    try {
      merged = serverSideApply(current ? (this.view(r, current) as KubeObject) : undefined, config, {
        ...this.fieldManager(req, q, r, t.subresource),
        force,
      });
    } catch (err) {
      if (err instanceof ApplyConflictError)
        throw new StatusError(409, 'Conflict', err.message, {
          causes: err.conflicts.map((c) => ({
            reason: 'FieldManagerConflict',
            message: `conflict with ${c.manager}`,
            field: c.field,
          })),
        });
      throw err;
    }
    if (!current) {
      if (t.subresource) throw notFound(this.gr(r), t.name);
      this.prepareForCreate(r, merged);
      this.admission.namespaceLifecycle(r, 'create', t.namespace, t.name);
      this.admission.mutate(merged);
      const warnings = this.admission.validate(r, merged, undefined, fieldValidationOf(q));
      this.admission.checkSize(merged);
      const created = isDryRun(q)
        ? merged
        : this.storeCall(r, t.name, () => this.store.create(this.stored(r, merged)));
      this.respondObject(req, res, r, this.view(r, created), 201, warningHeaders(warnings));
      return;
    }
    const result = this.write(req, q, r, t, current, merged, true);
    this.respondObject(req, res, r, this.view(r, result.object), 200, warningHeaders(result.warnings));
  }

  async delete(
    req: IncomingMessage,
    res: ServerResponse,
    t: RequestTarget,
    q: URLSearchParams,
  ): Promise<void> {
    const r = t.resource;
    const options = await this.deleteOptions(req, q);
    const ref = this.ref(r, t.namespace, t.name);
    const current = this.store.peek(ref);
    if (!current) throw notFound(this.gr(r), t.name);
    this.admission.namespaceLifecycle(r, 'delete', t.namespace, t.name);
    if (options.dryRun) {
      this.respondObject(req, res, r, this.view(r, current), 200);
      return;
    }
    const after = this.storeCall(r, t.name, () =>
      this.store.delete(ref, {
        ...(options.propagationPolicy ? { propagationPolicy: options.propagationPolicy } : {}),
        ...(options.preconditions ? { preconditions: options.preconditions } : {}),
      }),
    );
    if (this.store.peek(ref)) {
      // Finalizers hold it: 202 Accepted with the object as it is now (deletionTimestamp set).
      this.respondObject(req, res, r, this.view(r, after!), 202);
      return;
    }
    sendJson(res, 200, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {
        name: t.name,
        ...(r.group ? { group: r.group } : {}),
        kind: r.name,
        uid: current.metadata.uid,
      },
    });
  }

  async deleteCollection(
    req: IncomingMessage,
    res: ServerResponse,
    t: RequestTarget,
    q: URLSearchParams,
  ): Promise<void> {
    const r = t.resource;
    const options = await this.deleteOptions(req, q);
    const query = parseListQuery(r, q);
    const page = listPage(this.store, this.typeKey(r), t.namespace || undefined, {
      ...query,
      limit: 0,
      continueToken: undefined,
    });
    if (!options.dryRun)
      for (const o of page.items) {
        if (!this.store.peek(this.ref(r, o.metadata.namespace ?? '', o.metadata.name))) continue;
        this.store.delete(this.ref(r, o.metadata.namespace ?? '', o.metadata.name), {
          ...(options.propagationPolicy ? { propagationPolicy: options.propagationPolicy } : {}),
        });
      }
    sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
  }

  /**
   * Stores an update after admission: NamespaceLifecycle, validation against the old object,
   * managedFields (the request's manager takes the fields it changed; apply computed its own), size.
   */
  write(
    req: IncomingMessage,
    q: URLSearchParams,
    r: ServedResource,
    t: RequestTarget,
    current: KubeObject,
    next: KubeObject,
    applied = false,
  ): { object: KubeObject; warnings: string[] } {
    next = this.stored(r, next, current);
    next.apiVersion = current.apiVersion;
    this.admission.namespaceLifecycle(r, 'update', t.namespace, t.name);
    const warnings = this.admission.validate(r, next, current, fieldValidationOf(q));
    if (!applied) {
      const managed = trackUpdate(current, next, this.fieldManager(req, q, r, t.subresource));
      if (managed) next.metadata.managedFields = managed;
      else delete next.metadata.managedFields;
    }
    this.admission.checkSize(next);
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    if (isDryRun(q)) return { object: next, warnings };
    const stored = this.storeCall(r, t.name, () => this.store.update(next, undefined, { withStatus: true }));
    return { object: stored, warnings };
  }

  /**
   * The object an update or patch stores: server-set metadata from the current object; the main
   * resource keeps the current status when there is a status subresource, and the status subresource
   * changes only the status.
   */
  merge(r: ServedResource, current: KubeObject, written: KubeObject, subresource: string): KubeObject {
    const body = this.stored(r, written, current);
    if (subresource === 'status') {
      const next = structuredClone(current);
      if (body.status === undefined) delete next.status;
      else next.status = structuredClone(body.status);
      if (body.metadata.managedFields !== undefined)
        next.metadata.managedFields = body.metadata.managedFields;
      return next;
    }
    const next = structuredClone(body);
    next.apiVersion = current.apiVersion;
    next.kind = current.kind;
    for (const f of [
      'uid',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
    ] as const) {
      const v = current.metadata[f];
      if (v === undefined) delete next.metadata[f];
      else (next.metadata as unknown as Record<string, unknown>)[f] = v;
    }
    next.metadata.name = current.metadata.name;
    if (current.metadata.namespace !== undefined) next.metadata.namespace = current.metadata.namespace;
    if (this.hasStatus(r)) {
      if (current.status === undefined) delete next.status;
      else next.status = structuredClone(current.status);
    }
    return next;
  }

  fieldManager(req: IncomingMessage, q: URLSearchParams, r: ServedResource, subresource = '') {
    return {
      manager: this.managerOf(req, q),
      apiVersion: apiVersionOf(r),
      now: this.now(),
      schema: this.schemaOf(r),
      statusSubresource: this.hasStatus(r),
      ...(subresource === 'status' ? { subresource: 'status' } : {}),
    };
  }

  /** What an API server sets on create: a status subresource's status starts empty (a Pod Pending, a Namespace Active). */
  prepareForCreate(r: ServedResource, obj: KubeObject): void {
    if (r.group === '' && r.kind === 'Namespace') {
      obj.spec = { ...(obj.spec ?? {}), finalizers: obj.spec?.finalizers ?? ['kubernetes'] };
      obj.status = { phase: 'Active' };
      return;
    }
    if (r.group === '' && r.kind === 'Node') return;
    if (!this.hasStatus(r)) return;
    if (r.group === '' && r.kind === 'Pod') obj.status = { phase: 'Pending' };
    else delete obj.status;
  }

  private placeIn(obj: KubeObject, r: ServedResource, namespace: string): void {
    if (r.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== namespace)
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      obj.metadata.namespace = namespace;
    } else delete obj.metadata.namespace;
  }

  decode(body: Buffer, type: string, r: ServedResource): KubeObject {
    const obj = parseBody(body, type);
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
      throw badRequest(`the object provided is unrecognized (must be of type ${r.kind})`);
    const apiVersion = apiVersionOf(r);
    if (obj.apiVersion && obj.apiVersion !== apiVersion)
      throw badRequest(
        `the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersion})`,
      );
    if (obj.kind && obj.kind !== r.kind)
      throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${r.kind})`);
    obj.apiVersion = apiVersion;
    obj.kind = r.kind;
    obj.metadata ??= {};
    return obj as KubeObject;
  }

  private async deleteOptions(
    req: IncomingMessage,
    q: URLSearchParams,
  ): Promise<{
    propagationPolicy?: PropagationPolicy;
    preconditions?: { uid?: string; resourceVersion?: string };
    dryRun: boolean;
  }> {
    const raw = await readBody(req);
    const body = raw.length > 0 ? parseBody(raw, mediaType(req)) : {};
    let policy: string | undefined = q.get('propagationPolicy') ?? body?.propagationPolicy ?? undefined;
    const orphan = q.get('orphanDependents') ?? body?.orphanDependents;
    if (policy === undefined && orphan !== undefined && orphan !== null)
      policy = String(orphan) === 'true' ? 'Orphan' : 'Background';
    if (policy !== undefined && !['Background', 'Foreground', 'Orphan'].includes(policy))
      throw badRequest(
        `propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
      );
    const dryRun = q.getAll('dryRun').includes('All') || (body?.dryRun ?? []).includes('All');
    return {
      ...(policy ? { propagationPolicy: policy as PropagationPolicy } : {}),
      ...(body?.preconditions ? { preconditions: body.preconditions } : {}),
      dryRun,
    };
  }

  /** Maps the store's errors to the API's. */
  storeCall<T>(r: ServedResource, name: string, f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (isTwinError(err, 'TWIN_ALREADY_EXISTS')) throw alreadyExists(this.gr(r), name);
      if (isTwinError(err, 'TWIN_NOT_FOUND')) throw notFound(this.gr(r), name);
      if (isTwinError(err, 'TWIN_CONFLICT'))
        throw conflict(
          this.gr(r),
          name,
          err.message.startsWith('Precondition') ? err.message : OBJECT_MODIFIED,
        );
      if (isTwinError(err, 'TWIN_INVALID'))
        throw invalid({ group: r.group, kind: r.kind }, name, [
          { reason: 'FieldValueInvalid', message: err.message, field: 'metadata' },
        ]);
      throw err;
    }
  }

  respondObject(
    req: IncomingMessage,
    res: ServerResponse,
    r: ServedResource,
    obj: Readonly<KubeObject>,
    code: number,
    headers: OutgoingHttpHeaders = {},
  ): void {
    const accept = req.headers.accept;
    if (acceptsTable(accept)) {
      const url = new URL(req.url ?? '/', 'https://twin');
      sendJson(
        res,
        code,
        toTable([obj], printerFor(r), {
          now: this.clock.now(),
          includeObject: includeObjectOf(url.searchParams),
          metadata: { resourceVersion: obj.metadata.resourceVersion },
          apiVersion: apiVersionOf(r),
          kind: r.kind,
        }),
        headers,
      );
      return;
    }
    if (acceptsPartialMetadata(accept)) {
      sendJson(
        res,
        code,
        { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata },
        headers,
      );
      return;
    }
    sendJson(res, code, obj, headers);
  }
}

export function includeObjectOf(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  if (v === 'None' || v === 'Object' || v === 'Metadata') return v;
  if (v)
    throw badRequest(
      `includeObject: Unsupported value: "${v}": supported values: "None", "Metadata", "Object"`,
    );
  return 'Metadata';
}

export function isDryRun(q: URLSearchParams): boolean {
  const values = q.getAll('dryRun');
  for (const v of values)
    if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.includes('All');
}

export { methodNotSupported, pathNotFound };
