// StorageClass decisions of the API server and the PV controller, as pure functions over plain objects:
// the twin's storage (twin/storage) and `twin check` (system/check) decide alike.
import type { KubeObject } from '../../kube/object.ts';
import { DEFAULT_CLASS_ANNOTATION } from './cluster-storage.ts';

export { DEFAULT_CLASS_ANNOTATION };
export const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';
/** The class of a claim or volume written as an annotation (before spec.storageClassName existed). */
export const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';
/** Provisioner of storage classes whose volumes are only ever created by hand (local volumes). */
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

/** Marked default by either the GA or the beta annotation (storageutil.IsDefaultAnnotation). */
export function isDefaultClass(storageClass: KubeObject): boolean {
  const a = storageClass.metadata.annotations ?? {};
  return a[DEFAULT_CLASS_ANNOTATION] === 'true' || a[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';
}

/**
 * The default StorageClass: of several marked default, the newest, then the first by name
 * (storageutil.GetDefaultClass, Kubernetes 1.26 and later).
 */
export function defaultStorageClass(classes: KubeObject[]): KubeObject | undefined {
  const time = (c: KubeObject) => Date.parse(c.metadata.creationTimestamp ?? '') || 0;
  return classes
    .filter(isDefaultClass)
    .sort((a, b) => time(b) - time(a) || (a.metadata.name < b.metadata.name ? -1 : 1))[0];
}

/** A claim names a class when it has the beta annotation or a spec.storageClassName, even "" (helper.PersistentVolumeClaimHasClass). */
export function claimHasClass(claim: KubeObject): boolean {
  if (claim.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] !== undefined) return true;
  const name = claim.spec?.storageClassName;
  return name !== undefined && name !== null;
}

/** The class a claim asks for; "" for none (storagehelpers.GetPersistentVolumeClaimClass). */
export function claimClass(claim: KubeObject): string {
  const beta = claim.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (beta !== undefined) return beta;
  return claim.spec?.storageClassName ?? '';
}

/** The class of a volume; "" for none (storagehelpers.GetPersistentVolumeClass). */
export function volumeClass(volume: KubeObject): string {
  const beta = volume.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (beta !== undefined) return beta;
  return volume.spec?.storageClassName ?? '';
}

export function bindingMode(storageClass: KubeObject): 'Immediate' | 'WaitForFirstConsumer' {
  return storageClass['volumeBindingMode'] === 'WaitForFirstConsumer' ? 'WaitForFirstConsumer' : 'Immediate';
}

/**
 * Whether binding of the claim waits for the first pod that uses it: its class exists and has
 * volumeBindingMode WaitForFirstConsumer. A claim of a missing class binds immediately
 * (storagehelpers.IsDelayBindingMode), so it stays Pending and blocks its pods.
 */
export function isDelayBinding(
  claim: KubeObject,
  storageClass: (name: string) => KubeObject | undefined,
): boolean {
  const name = claimClass(claim);
  if (name === '') return false;
  const sc = storageClass(name);
  return sc !== undefined && bindingMode(sc) === 'WaitForFirstConsumer';
}
