import type { KubeObject } from '../../kube/object.ts';
import type { ClusterStorage, ClusterStorageClass } from './topology-schema.ts';

/** The annotation that makes a StorageClass the cluster's default (DefaultStorageClass admission). */
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

/**
 * What a k3s cluster (and so k3d) provides: the local-path provisioner, whose volumes live on one
 * node's disk, and its `local-path` class, the default. See
 * https://docs.k3s.io/storage#setting-up-the-local-storage-provider
 */
export const K3S_STORAGE: ClusterStorage = {
  provisioners: [{ name: 'rancher.io/local-path', volumeTopology: 'node' }],
  storageClasses: [
    {
      name: 'local-path',
      provisioner: 'rancher.io/local-path',
      default: true,
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    },
  ],
};

/** The storage.k8s.io/v1 StorageClass object of a class the cluster comes with, defaults filled in as the API server does. */
export function storageClassObject(c: ClusterStorageClass): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: c.name,
      ...(c.default ? { annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } } : {}),
    },
    provisioner: c.provisioner,
    ...(c.parameters ? { parameters: { ...c.parameters } } : {}),
    reclaimPolicy: c.reclaimPolicy ?? 'Delete',
    volumeBindingMode: c.volumeBindingMode ?? 'Immediate',
    ...(c.allowVolumeExpansion !== undefined ? { allowVolumeExpansion: c.allowVolumeExpansion } : {}),
  };
}
