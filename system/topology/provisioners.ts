import type { Provisioner } from './topology-schema.ts';

export type { Provisioner };

/**
 * In-tree provisioners whose volumes are created by a CSI driver since CSI migration went GA (the
 * in-tree cloud providers were removed in Kubernetes 1.27–1.31): a class naming the left one is
 * served by the right one, and only when that driver runs in the cluster.
 * See https://kubernetes.io/docs/concepts/storage/volumes/#csi-migration
 */
export const CSI_MIGRATION: Readonly<Record<string, string>> = {
  'kubernetes.io/aws-ebs': 'ebs.csi.aws.com',
  'kubernetes.io/gce-pd': 'pd.csi.storage.gke.io',
  'kubernetes.io/azure-disk': 'disk.csi.azure.com',
  'kubernetes.io/azure-file': 'file.csi.azure.com',
  'kubernetes.io/cinder': 'cinder.csi.openstack.org',
  'kubernetes.io/vsphere-volume': 'csi.vsphere.vmware.com',
};

export function isInTree(provisioner: string): boolean {
  return provisioner.startsWith('kubernetes.io/');
}

export type ProvisionerResolution =
  /** An external provisioner (CSI driver) is asked; `running` is it, when the cluster runs it. */
  | { external: string; running?: Provisioner }
  /** No volume plugin can provision for this class at all (ProvisioningFailed). */
  | { failed: string };

/**
 * Who provisions volumes of a class whose provisioner is `name` (the PV controller's
 * findProvisionablePlugin): a migrated in-tree name goes to its CSI driver, any other in-tree name has
 * no plugin left, and every other name is an external provisioner that the cluster may or may not run.
 */
export function resolveProvisioner(name: string, running: readonly Provisioner[]): ProvisionerResolution {
  const external = CSI_MIGRATION[name] ?? (isInTree(name) ? undefined : name);
  if (external === undefined) return { failed: 'no provisionable volume plugin matched' };
  const provider = running.find((p) => p.name === external);
  return provider ? { external, running: provider } : { external };
}
