import type { KubeObject } from '../../kube/object.ts';
import { resourceValue } from '../../kube/quantity.ts';

/** Resource amounts by resource name: millicores for cpu, base units (bytes, counts) otherwise. */
export type Resources = Record<string, number>;

/** Requests the scheduler assumes for a container that states none (used for scoring only). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 2 ** 20;

interface Container {
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  restartPolicy?: string;
}

/** A container's requests; a resource with a limit and no request requests its limit, as API defaulting sets it. */
export function containerRequests(c: Container): Resources {
  const out: Resources = {};
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  for (const [name, q] of Object.entries(limits)) out[name] = resourceValue(name, q);
  for (const [name, q] of Object.entries(requests)) out[name] = resourceValue(name, q);
  return out;
}

function add(into: Resources, r: Resources): void {
  for (const [k, v] of Object.entries(r)) into[k] = (into[k] ?? 0) + v;
}

function max(into: Resources, r: Resources): void {
  for (const [k, v] of Object.entries(r)) into[k] = Math.max(into[k] ?? 0, v);
}

/**
 * What a pod requests of a node: the sum of its containers, or the largest init container when that
 * is larger (resource by resource), plus restartable (sidecar) init containers, plus spec.overhead.
 */
export function podRequests(pod: KubeObject, nonZero = false): Resources {
  const cache = nonZero ? NON_ZERO_CACHE : CACHE;
  let r = cache.get(pod);
  if (!r) {
    r = computePodRequests(pod, nonZero);
    cache.set(pod, r);
  }
  return { ...r };
}

// The store hands out a fresh copy on every change, so a pod object's requests never change under the same reference.
const CACHE = new WeakMap<KubeObject, Resources>();
const NON_ZERO_CACHE = new WeakMap<KubeObject, Resources>();

function computePodRequests(pod: KubeObject, nonZero: boolean): Resources {
  const spec = pod.spec ?? {};
  const sum: Resources = {};
  for (const c of (spec.containers ?? []) as Container[])
    add(sum, withDefaults(containerRequests(c), nonZero));
  const initMax: Resources = {};
  const sidecars: Resources = {};
  for (const c of (spec.initContainers ?? []) as Container[]) {
    const r = withDefaults(containerRequests(c), nonZero);
    if (c.restartPolicy === 'Always') {
      add(sidecars, r);
      max(initMax, sidecars);
    } else {
      const during: Resources = { ...sidecars };
      add(during, r);
      max(initMax, during);
    }
  }
  add(sum, sidecars);
  max(sum, initMax);
  for (const [name, q] of Object.entries((spec.overhead ?? {}) as Record<string, string>)) {
    sum[name] = (sum[name] ?? 0) + resourceValue(name, q);
  }
  return sum;
}

function withDefaults(r: Resources, nonZero: boolean): Resources {
  if (!nonZero) return r;
  return { ...r, cpu: r['cpu'] || DEFAULT_MILLI_CPU_REQUEST, memory: r['memory'] || DEFAULT_MEMORY_REQUEST };
}
