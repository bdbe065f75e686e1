import type { KubeObject } from '../../kube/object.ts';

/** Set by the PV controller once a claim's binding is complete. */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
/** Set on a claim or volume whose binding the PV controller made (not the user). */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
/** Written by the scheduler on a WaitForFirstConsumer claim: provision the volume where this node is. */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';

/** The claim names of a pod's persistentVolumeClaim volumes, in order ("" for a volume that names none). */
export function podClaimNames(pod: KubeObject): string[] {
  return ((pod.spec?.volumes ?? []) as Array<{ persistentVolumeClaim?: { claimName?: string } }>)
    .filter((v) => v.persistentVolumeClaim)
    .map((v) => v.persistentVolumeClaim?.claimName ?? '');
}

/** A claim is bound once the PV controller has completed the binding (spec.volumeName and bind-completed). */
export function isClaimBound(claim: KubeObject): boolean {
  return Boolean(claim.spec?.volumeName) && claim.metadata.annotations?.[ANN_BIND_COMPLETED] !== undefined;
}
