import type { ServedResource } from '../../kube/api/resource-registry.ts';
import type { KubeObject } from '../../kube/object.ts';
import { badRequest } from './status-error.ts';

/** One term of a field selector: `field=value`, `field==value` or `field!=value`. */
export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/**
 * Parses `?fieldSelector=` as k8s.io/apimachinery/pkg/fields does: comma-separated terms, `\,`,
 * `\=` and `\\` escapes in values.
 */
export function parseFieldSelector(selector: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  for (const term of splitUnescaped(selector, ',')) {
    if (term === '') continue;
    const m = /^(.*?)(==|!=|=)(.*)$/s.exec(term);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = m[1]!.trim();
    const value = unescapeValue(m[3]!);
    out.push({ field, op: m[2] === '!=' ? '!=' : '=', value });
  }
  return out;
}

function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === sep) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function unescapeValue(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

type Getter = (obj: any) => string | undefined;

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/**
 * The fields each built-in kind can be selected by (its registry's field label conversion functions);
 * every kind has metadata.name and (if namespaced) metadata.namespace. Custom resources add the
 * CRD version's selectableFields.
 * See https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/#list-of-supported-fields
 */
const FIELDS: Record<string, Record<string, Getter>> = {
  '/Pod': {
    'spec.nodeName': (p) => str(p.spec?.nodeName),
    'spec.restartPolicy': (p) => str(p.spec?.restartPolicy),
    'spec.schedulerName': (p) => str(p.spec?.schedulerName),
    'spec.serviceAccountName': (p) => str(p.spec?.serviceAccountName),
    'spec.hostNetwork': (p) => String(p.spec?.hostNetwork === true),
    'status.phase': (p) => str(p.status?.phase),
    'status.podIP': (p) => str(p.status?.podIP),
    'status.nominatedNodeName': (p) => str(p.status?.nominatedNodeName),
  },
  '/Node': { 'spec.unschedulable': (n) => String(n.spec?.unschedulable === true) },
  '/Event': {
    'involvedObject.kind': (e) => str(e.involvedObject?.kind),
    'involvedObject.namespace': (e) => str(e.involvedObject?.namespace),
    'involvedObject.name': (e) => str(e.involvedObject?.name),
    'involvedObject.uid': (e) => str(e.involvedObject?.uid),
    'involvedObject.apiVersion': (e) => str(e.involvedObject?.apiVersion),
    'involvedObject.resourceVersion': (e) => str(e.involvedObject?.resourceVersion),
    'involvedObject.fieldPath': (e) => str(e.involvedObject?.fieldPath),
    reason: (e) => str(e.reason),
    reportingComponent: (e) => str(e.reportingComponent),
    source: (e) => str(e.source?.component),
    type: (e) => str(e.type),
  },
  '/Secret': { type: (s) => str(s.type) },
  '/Namespace': { 'status.phase': (n) => str(n.status?.phase) },
  '/ReplicationController': { 'status.replicas': (r) => str(r.status?.replicas ?? 0) },
  'apps/ReplicaSet': { 'status.replicas': (r) => str(r.status?.replicas ?? 0) },
  'batch/Job': { 'status.successful': (j) => str(j.status?.succeeded ?? 0) },
  '/Service': { 'spec.clusterIP': (s) => str(s.spec?.clusterIP), 'spec.type': (s) => str(s.spec?.type) },
  'certificates.k8s.io/CertificateSigningRequest': { 'spec.signerName': (c) => str(c.spec?.signerName) },
};

/** The getters of the fields a resource supports. */
export function selectableFields(r: ServedResource): Record<string, Getter> {
  const out: Record<string, Getter> = { 'metadata.name': (o) => o.metadata?.name };
  if (r.namespaced) out['metadata.namespace'] = (o) => str(o.metadata?.namespace);
  Object.assign(out, FIELDS[`${r.group}/${r.kind}`] ?? {});
  for (const f of r.custom?.selectableFields ?? []) {
    const path = f.jsonPath.replace(/^\./, '');
    out[path] = (o) => str(path.split('.').reduce<any>((v, k) => v?.[k], o));
  }
  return out;
}

/**
 * A matcher for a parsed field selector; an unsupported field is 400 BadRequest
 * ("field label not supported: …"), as kube-apiserver answers.
 */
export function fieldMatcher(r: ServedResource, reqs: FieldRequirement[]): (obj: KubeObject) => boolean {
  if (reqs.length === 0) return () => true;
  const fields = selectableFields(r);
  const checks = reqs.map((req) => {
    const get = fields[req.field];
    if (!get) throw badRequest(`field label not supported: ${req.field}`);
    return { get, req };
  });
  return (obj) => checks.every(({ get, req }) => (get(obj) === req.value) === (req.op === '='));
}
