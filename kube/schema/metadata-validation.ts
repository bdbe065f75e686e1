import { forbidden, invalid, key, required, type StatusCause, tooLong } from './field-errors.ts';
import {
  dns1035Label,
  dns1123Label,
  dns1123Subdomain,
  labelValue,
  pathSegmentName,
  qualifiedName,
} from './name-validation.ts';
import { isPlainObject } from './structural-schema.ts';

/** apimachinery's TotalAnnotationSizeLimitB: all keys and values of an object's annotations together. */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** etcd's default --max-request-bytes (1.5 MiB): a larger object is refused by the storage. */
export const ETCD_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

/** kube-apiserver's limit on a request body (--max-request-bytes is 3 MiB). */
export const APISERVER_MAX_REQUEST_BYTES = 3 * 1024 * 1024;

/** The rule each kind's name follows (the ValidateName function of its registry strategy). */
function nameRule(group: string, kind: string): (v: string) => string[] {
  if (group === '' && kind === 'Service') return dns1035Label;
  if (group === '' && kind === 'Namespace') return dns1123Label;
  if (group === 'rbac.authorization.k8s.io') return pathSegmentName;
  return dns1123Subdomain;
}

/** ObjectMeta as kube-apiserver validates it on create (apimachinery's ValidateObjectMeta). */
export function objectMetaCauses(
  metadata: unknown,
  options: { group: string; kind: string; namespaced: boolean },
): StatusCause[] {
  if (!isPlainObject(metadata)) return [required('metadata')];
  const out: StatusCause[] = [];
  const name = metadata['name'];
  const generateName = metadata['generateName'];
  const rule = nameRule(options.group, options.kind);
  if (typeof name === 'string' && name !== '') {
    for (const p of rule(name)) out.push(invalid('metadata.name', name, p));
  } else if (typeof generateName === 'string' && generateName !== '') {
    // generateName gets a random suffix: only its prefix has to be valid
    const prefix = generateName.replace(/-$/, '');
    for (const p of rule(prefix || 'a')) out.push(invalid('metadata.generateName', generateName, p));
  } else {
    out.push(required('metadata.name', 'name or generateName is required'));
  }
  const namespace = metadata['namespace'];
  if (options.namespaced) {
    if (typeof namespace === 'string' && namespace !== '')
      for (const p of dns1123Label(namespace)) out.push(invalid('metadata.namespace', namespace, p));
  } else if (typeof namespace === 'string' && namespace !== '') {
    out.push(forbidden('metadata.namespace', 'not allowed on this type'));
  }
  out.push(...labelCauses(metadata['labels'], 'metadata.labels'));
  out.push(...annotationCauses(metadata['annotations'], 'metadata.annotations'));
  return out;
}

export function labelCauses(labels: unknown, at: string): StatusCause[] {
  if (!isPlainObject(labels)) return [];
  const out: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels)) {
    for (const p of qualifiedName(k)) out.push(invalid(at, k, p));
    if (typeof v === 'string') for (const p of labelValue(v)) out.push(invalid(key(at, k), v, p));
  }
  return out;
}

export function annotationCauses(annotations: unknown, at: string): StatusCause[] {
  if (!isPlainObject(annotations)) return [];
  const out: StatusCause[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const p of qualifiedName(k.toLowerCase())) out.push(invalid(at, k, p));
    total += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) out.push(tooLong(at, TOTAL_ANNOTATION_SIZE_LIMIT));
  return out;
}

/** The object's size as it would be stored: over etcd's request limit it cannot be written. */
export function objectSizeCauses(obj: unknown): StatusCause[] {
  const bytes = Buffer.byteLength(JSON.stringify(obj));
  if (bytes > APISERVER_MAX_REQUEST_BYTES)
    return [
      {
        reason: 'RequestEntityTooLarge',
        field: '',
        message: `Request entity too large: limit is ${APISERVER_MAX_REQUEST_BYTES} (the object is ${bytes} bytes)`,
      },
    ];
  if (bytes > ETCD_MAX_REQUEST_BYTES)
    return [
      {
        reason: 'RequestEntityTooLarge',
        field: '',
        message: `etcdserver: request is too large (the object is ${bytes} bytes; etcd's default --max-request-bytes is ${ETCD_MAX_REQUEST_BYTES})`,
      },
    ];
  return [];
}
