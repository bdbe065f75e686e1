import { clone, controllerOf, type KubeObject, typeKey } from '../../kube/object.ts';
import type { ObjectStore } from '../store/object-store.ts';

/** Objects of a type in a namespace whose controller reference points at the owner's uid. */
export function listControlledBy(
  store: ObjectStore,
  type: { apiVersion?: string; kind: string },
  owner: KubeObject,
): KubeObject[] {
  return listControlledByShared(store, type, owner).map((o) => clone(o));
}

/**
 * listControlledBy without copies, from the store's owner index: the stored objects themselves, for
 * controllers that only read them (the ReplicaSet and Deployment controllers count a thousand pods
 * per reconcile at production size).
 */
export function listControlledByShared(
  store: ObjectStore,
  type: { apiVersion?: string; kind: string },
  owner: KubeObject,
): KubeObject[] {
  const uid = owner.metadata.uid;
  if (!uid) return [];
  const namespace = owner.metadata.namespace;
  return store
    .listDependents(typeKey(type), uid)
    .filter(
      (o) => controllerOf(o)?.uid === uid && (namespace === undefined || o.metadata.namespace === namespace),
    ) as KubeObject[];
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
