import type { KubeObject } from '../../kube/object.ts';
import { claimHasClass, defaultStorageClass } from '../../system/topology/storage-classes.ts';

export {
  BETA_DEFAULT_CLASS_ANNOTATION,
  BETA_STORAGE_CLASS_ANNOTATION,
  bindingMode,
  claimClass,
  claimHasClass,
  DEFAULT_CLASS_ANNOTATION,
  defaultStorageClass,
  isDefaultClass,
  isDelayBinding,
  NO_PROVISIONER,
  volumeClass,
} from '../../system/topology/storage-classes.ts';

/**
 * The DefaultStorageClass admission plugin: a claim created without any class gets the default
 * class's name; a claim with `storageClassName: ""` keeps it (it asks for a volume without a class).
 * See https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#defaultstorageclass
 */
export function defaultStorageClassAdmission(classes: () => KubeObject[]): (obj: KubeObject) => void {
  return (obj) => {
    if (obj.kind !== 'PersistentVolumeClaim' || (obj.apiVersion ?? 'v1') !== 'v1') return;
    if (claimHasClass(obj)) return;
    const def = defaultStorageClass(classes());
    if (!def) return;
    obj.spec = { ...(obj.spec ?? {}), storageClassName: def.metadata.name };
  };
}
