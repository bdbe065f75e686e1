// The provisioner decision is pure and shared with `twin check` (system/check/storage-classes.ts).
export {
  CSI_MIGRATION,
  isInTree,
  type Provisioner,
  type ProvisionerResolution,
  resolveProvisioner,
} from '../../system/topology/provisioners.ts';
