import type { ResourceRegistry, ServedResource } from '../../kube/api/resource-registry.ts';
import type { KubeObject } from '../../kube/object.ts';
import type { ObjectStore } from '../store/object-store.ts';
import {
  badRequest,
  forbidden,
  invalid,
  notFound,
  requestTooLarge,
  type StatusCause,
} from './status-error.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface ValidationResult {
  causes: { reason: string; message: string; field: string }[];
  warnings: string[];
}

/**
 * The schema validation step every create, update and patch goes through. Its signature is the one
 * of kube/schema/validate-object.ts `validateObject` (built separately): errors are causes (422
 * Invalid; unknown and duplicate fields under Strict are 400 BadRequest "strict decoding error", as
 * kube-apiserver answers them), warnings go back as `Warning:` headers.
 */
export type ValidateObject = (
  obj: KubeObject,
  registry: ResourceRegistry,
  options: { fieldValidation: FieldValidation; oldObject?: KubeObject },
) => ValidationResult;

/** No schema validation: what the API server does until a validator is given. */
export const NO_SCHEMA_VALIDATION: ValidateObject = () => ({ causes: [], warnings: [] });

/** etcd's default request limit (1.5 MiB): an object larger than this cannot be stored. */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

/** Namespaces that exist on every cluster and cannot be deleted. */
export const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

const STRICT_REASONS = new Set(['FieldValueUnknown', 'FieldValueDuplicate']);

function isStrictDecoding(c: { reason: string; message: string }): boolean {
  return STRICT_REASONS.has(c.reason) || /^(unknown|duplicate) field\b/.test(c.message);
}

/**
 * The admission chain of the twin's API server, in kube-apiserver's order: NamespaceLifecycle, the
 * store's mutating admission plugins, schema validation (the injected `validateObject`), and the
 * storage size limit.
 */
export class Admission {
  constructor(
    private readonly store: ObjectStore,
    private readonly registry: ResourceRegistry,
    private readonly validateObject: ValidateObject,
  ) {}

  /**
   * NamespaceLifecycle: a namespaced object needs its namespace (404 `namespaces "x" not found`), and
   * nothing new may be created in a namespace being terminated (403); the immortal namespaces cannot
   * be deleted. See https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#namespacelifecycle
   */
  namespaceLifecycle(
    r: ServedResource,
    operation: 'create' | 'update' | 'delete',
    namespace: string,
    name: string,
  ): void {
    if (r.group === '' && r.name === 'namespaces') {
      if (operation === 'delete' && IMMORTAL_NAMESPACES.has(name))
        throw forbidden({ group: '', resource: 'namespaces' }, name, 'this namespace may not be deleted');
      return;
    }
    if (!r.namespaced || operation === 'delete') return;
    const ns = this.store.peek({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (operation === 'create' && (ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating')) {
      const err = forbidden(
        { group: r.group, resource: r.name },
        name,
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
      err.details!.causes = [
        {
          reason: 'NamespaceTerminating',
          message: `namespace ${namespace} is being terminated`,
          field: 'metadata.namespace',
        },
      ];
      throw err;
    }
  }

  /** Mutating admission (the store's plugins: DefaultTolerationSeconds, …) on an object about to be created. */
  mutate(obj: KubeObject): void {
    this.store.admit(obj);
  }

  /** Schema validation; returns the warnings, throws the errors. */
  validate(
    r: ServedResource,
    obj: KubeObject,
    oldObject: KubeObject | undefined,
    fieldValidation: FieldValidation,
  ): string[] {
    const result = this.validateObject(obj, this.registry, {
      fieldValidation,
      ...(oldObject ? { oldObject } : {}),
    });
    if (result.causes.length > 0) {
      const strict = result.causes.filter(isStrictDecoding);
      const other = result.causes.filter((c) => !isStrictDecoding(c));
      if (other.length > 0)
        throw invalid({ group: r.group, kind: r.kind }, obj.metadata.name ?? '', other as StatusCause[]);
      throw badRequest(
        `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: ${strict
          .map((c) => c.message)
          .join(', ')}`,
      );
    }
    return result.warnings;
  }

  /** What etcd refuses: an object over 1.5 MiB (413, "etcdserver: request is too large"). */
  checkSize(obj: KubeObject): void {
    if (Buffer.byteLength(JSON.stringify(obj)) > MAX_OBJECT_BYTES)
      throw requestTooLarge('etcdserver: request is too large');
  }
}

/** `?fieldValidation=`: Strict, Warn (the server's default) or Ignore. */
export function fieldValidationOf(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation') ?? 'Warn';
  if (v !== 'Strict' && v !== 'Warn' && v !== 'Ignore')
    throw badRequest(
      `fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`,
    );
  return v;
}
