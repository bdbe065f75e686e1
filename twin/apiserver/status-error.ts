/** A cause in a v1 Status (details.causes): what is wrong with which field. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** The resource an error is about, as errors name it: plural and group ("deployments", "apps"). */
export interface GroupResource {
  group: string;
  resource: string;
}

/**
 * An API error answered as a `v1 Status` object with the HTTP status, reason, message and details
 * worded as kube-apiserver words them (k8s.io/apimachinery/pkg/api/errors).
 */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** "deployments.apps", or "pods" for the core group. */
export function qualified(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

function details(gr: GroupResource, name: string, extra: Partial<StatusDetails> = {}): StatusDetails {
  return { name, ...(gr.group ? { group: gr.group } : {}), kind: gr.resource, ...extra };
}

export const notFound = (gr: GroupResource, name: string) =>
  new StatusError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, details(gr, name));

export const alreadyExists = (gr: GroupResource, name: string) =>
  new StatusError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, details(gr, name));

/**
 * errors.NewGenerateNameConflict: every name generateName drew was taken (after the registry's
 * attempts); the client should try again after retryAfterSeconds.
 */
export const generateNameConflict = (gr: GroupResource, name: string) =>
  new StatusError(
    409,
    'AlreadyExists',
    `${qualified(gr)} "${name}" already exists, the server was not able to generate a unique name for the object`,
    details(gr, name, { retryAfterSeconds: 1 }),
  );

export const conflict = (gr: GroupResource, name: string, why: string) =>
  new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`,
    details(gr, name),
  );

export const OBJECT_MODIFIED =
  'the object has been modified; please apply your changes to the latest version and try again';

/** 422 Invalid: `Deployment.apps "web" is invalid: spec.replicas: Invalid value: …` (several causes in brackets). */
export function invalid(
  kind: { group: string; kind: string },
  name: string,
  causes: StatusCause[],
): StatusError {
  const qualifiedKind = kind.group ? `${kind.kind}.${kind.group}` : kind.kind;
  const text = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : (c.message ?? '')));
  const list = text.length === 1 ? text[0] : `[${text.join(', ')}]`;
  return new StatusError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${list}`, {
    name,
    ...(kind.group ? { group: kind.group } : {}),
    kind: kind.kind,
    causes,
  });
}

export const badRequest = (message: string) => new StatusError(400, 'BadRequest', message);

export const methodNotSupported = () =>
  new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

export const pathNotFound = () =>
  new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});

export const gone = (message: string) => new StatusError(410, 'Expired', message);

export const unauthorized = () => new StatusError(401, 'Unauthorized', 'Unauthorized');

export const forbidden = (gr: GroupResource, name: string, why: string) =>
  new StatusError(
    403,
    'Forbidden',
    name ? `${qualified(gr)} "${name}" is forbidden: ${why}` : `${qualified(gr)} is forbidden: ${why}`,
    { ...(name ? { name } : {}), ...(gr.group ? { group: gr.group } : {}), kind: gr.resource },
  );

export const unsupportedMediaType = (type: string, accepted: string[]) =>
  new StatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    { causes: [{ reason: 'UnexpectedServerResponse', message: type }] },
  );

export const notAcceptable = (accepted: string[]) =>
  new StatusError(
    406,
    'NotAcceptable',
    `only the following media types are accepted: ${accepted.join(', ')}`,
  );

export const requestTooLarge = (message: string) => new StatusError(413, 'RequestEntityTooLarge', message);

export const timeout = (message: string) => new StatusError(504, 'Timeout', message);

export const internal = (message: string) =>
  new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, {
    causes: [{ message }],
  });
