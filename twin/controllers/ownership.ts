import { controllerOf, type KubeObject } from '../../kube/object.ts';
import type { ObjectStore } from '../store/object-store.ts';

/** Objects of a type in a namespace whose controller reference points at the owner's uid. */
export function listControlledBy(
  store: ObjectStore,
  type: { apiVersion?: string; kind: string },
  owner: KubeObject,
): KubeObject[] {
  const uid = owner.metadata.uid;
  const opts = owner.metadata.namespace === undefined ? {} : { namespace: owner.metadata.namespace };
  return store.list(type, opts).filter((o) => controllerOf(o)?.uid === uid);
}

/** Work-queue keys of the controller of kind `kind` named by the object's (old and new) controller references. */
export function controllerKeys(kind: string, ...objects: Array<KubeObject | undefined>): string[] {
  const keys = new Set<string>();
  for (const obj of objects) {
    if (!obj) continue;
    const ref = controllerOf(obj);
    if (ref?.kind === kind) keys.add(`${obj.metadata.namespace ?? ''}/${ref.name}`);
  }
  return [...keys];
}

export function creationTime(obj: KubeObject): number {
  const t = obj.metadata.creationTimestamp ? Date.parse(obj.metadata.creationTimestamp) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}
