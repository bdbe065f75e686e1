import { clone, type KubeObject, ownerReferenceTo } from '../../kube/object.ts';
import { ALPHANUMS, randomString } from '../store/name-generator.ts';

/** Five random characters of the API server's generateName alphabet (rand.String). */
export const randomSuffix = (): string => randomString();

/** JSON with object keys sorted, so that equal templates hash and compare equal. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * controller.ComputeHash: FNV-32a of the pod template (plus the collision count), written as its
 * decimal digits through rand.SafeEncodeString, e.g. "5d8f7b9c4".
 * Twin simplification: hashes the template's sorted JSON rather than Go's spew dump, so values differ from a real cluster's.
 */
export function podTemplateHash(template: unknown, collisionCount = 0): string {
  const sum = fnv32a(stableStringify(template) + (collisionCount ? String(collisionCount) : ''));
  return [...String(sum)].map((d) => ALPHANUMS[d.charCodeAt(0) % ALPHANUMS.length]).join('');
}

export interface PodFromTemplateOptions {
  /** The pod's name (StatefulSet pods); otherwise generateName. */
  name?: string;
  /** metadata.generateName: the API server appends the random suffix (controller.GetPodFromTemplate). */
  generateName?: string;
  namespace: string;
  owner: KubeObject;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** controller.GetPodFromTemplate: the template's labels, annotations and spec, owned by the controller. */
export function podFromTemplate(template: KubeObject['spec'], options: PodFromTemplateOptions): KubeObject {
  const t = clone(template ?? {}) as {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: unknown;
  };
  const labels = { ...(t.metadata?.labels ?? {}), ...(options.labels ?? {}) };
  const annotations = { ...(t.metadata?.annotations ?? {}), ...(options.annotations ?? {}) };
  const metadata: KubeObject['metadata'] = {
    name: options.name ?? '',
    ...(options.name ? {} : { generateName: options.generateName }),
    namespace: options.namespace,
    labels,
    ownerReferences: [ownerReferenceTo(options.owner)],
  };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: t.spec ?? {}, status: { phase: 'Pending' } };
}
