/**
 * The field errors of k8s.io/apimachinery/pkg/util/validation/field, as a v1 Status carries them in
 * details.causes: `reason` is the CauseType, `message` is the error's body as kube-apiserver prints it
 * after the field path ("Invalid value: -1: must be greater than or equal to 0"), `field` the path
 * (spec.template.spec.containers[0].env[1].name; map keys in brackets: metadata.labels[app]).
 */
export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

/** A dotted child of a path ("" is the object itself). */
export function child(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** A map key, as field.Path.Key prints it. */
export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

/** A value as field.Error prints it: strings quoted, numbers and booleans bare, objects by type. */
export function shown(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? '[]interface {}{…}' : 'map[string]interface {}{…}';
}

export function required(field: string, detail?: string): StatusCause {
  return {
    reason: 'FieldValueRequired',
    field,
    message: detail ? `Required value: ${detail}` : 'Required value',
  };
}

export function invalid(field: string, value: unknown, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${shown(value)}: ${detail}` };
}

/** Invalid with the value already printed (a Go struct or map as kube shows it). */
export function invalidShown(field: string, printed: string, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${printed}: ${detail}` };
}

export function typeInvalid(field: string, value: unknown, detail: string): StatusCause {
  return { reason: 'FieldValueTypeInvalid', field, message: `Invalid value: ${shown(value)}: ${detail}` };
}

export function notSupported(field: string, value: unknown, supported: readonly string[]): StatusCause {
  const list = supported.map((s) => JSON.stringify(s)).join(', ');
  return {
    reason: 'FieldValueNotSupported',
    field,
    message: `Unsupported value: ${shown(value)}${list ? `: supported values: ${list}` : ''}`,
  };
}

export function duplicate(field: string, value: unknown): StatusCause {
  return { reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${shown(value)}` };
}

export function forbidden(field: string, detail: string): StatusCause {
  return { reason: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` };
}

export function tooLong(field: string, max: number): StatusCause {
  return { reason: 'FieldValueTooLong', field, message: `Too long: must have at most ${max} bytes` };
}

export function tooMany(field: string, actual: number, max: number): StatusCause {
  return {
    reason: 'FieldValueTooMany',
    field,
    message: `Too many: ${actual}: must have at most ${max} items`,
  };
}

export function notFound(field: string, value: unknown): StatusCause {
  return { reason: 'FieldValueNotFound', field, message: `Not found: ${shown(value)}` };
}

/**
 * Strict field validation (sigs.k8s.io/json's strict decoding): a field the schema does not declare,
 * by its full path. kube-apiserver rejects these with 400 BadRequest "strict decoding error: …"
 * (no causes); the reason here only tells them apart.
 */
export function unknownField(field: string): StatusCause {
  return { reason: 'FieldValueUnknown', field, message: `unknown field ${JSON.stringify(field)}` };
}

/** A key given twice in one JSON/YAML object: sigs.k8s.io/json names the key alone. */
export function duplicateField(field: string, name: string): StatusCause {
  return { reason: 'FieldValueDuplicate', field, message: `duplicate field ${JSON.stringify(name)}` };
}

export const STRICT_REASONS: ReadonlySet<string> = new Set(['FieldValueUnknown']);

const ONCE_PER_FIELD = new Set(['FieldValueRequired', 'FieldValueNotSupported', 'FieldValueTypeInvalid']);

/** Drops causes that repeat one already given for the field (the schema and the hand-written checks overlap). */
export function dedupe(causes: StatusCause[]): StatusCause[] {
  const seen = new Set<string>();
  return causes.filter((c) => {
    const k = `${c.field}\u0000${ONCE_PER_FIELD.has(c.reason) ? c.reason : c.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
