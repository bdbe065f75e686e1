import { createHash } from 'node:crypto';
import type { KubeObject } from '../../kube/object.ts';
import type { Provisioner } from './provisioners.ts';
import { CSI_MIGRATION } from './provisioners.ts';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const REGION_LABEL = 'topology.kubernetes.io/region';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
export const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';
export const MIGRATED_TO_ANNOTATION = 'pv.kubernetes.io/migrated-to';

/** Where a new volume lives: the zone (and region) of a zonal disk, or the node of a node-local one. */
export interface Placement {
  zone?: string;
  region?: string;
  node?: string;
}

/** FNV-1 32-bit, as Go's hash/fnv New32. */
function fnv32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h = (h ^ byte) >>> 0;
  }
  return h;
}

/**
 * The zone of a volume provisioned without a selected node (Immediate binding): zones sorted, starting
 * at the hash of the claim name, and for StatefulSet-style names (`<claim>-<set>-<ordinal>`) the hash
 * of the set's name plus the ordinal, so a set's volumes go round-robin over the zones
 * (external-provisioner's getPVCNameHashAndIndexOffset, identical to the in-tree one).
 * Twin simplification: the candidate zones are those of every node, not of the nodes where the CSI driver is registered.
 */
export function chooseZone(claimName: string, zones: string[]): string | undefined {
  const sorted = [...new Set(zones)].sort();
  if (sorted.length === 0) return undefined;
  let hashed = claimName;
  let index = 0;
  const lastDash = claimName.lastIndexOf('-');
  if (lastDash !== -1 && /^\d+$/.test(claimName.slice(lastDash + 1))) {
    index = Number(claimName.slice(lastDash + 1));
    hashed = claimName.slice(0, lastDash);
    const prefixDash = hashed.lastIndexOf('-');
    if (prefixDash !== -1) hashed = hashed.slice(prefixDash + 1);
  }
  return sorted[(fnv32(hashed) + index) % sorted.length];
}

/** The zone and region of a node, from its well-known topology labels. */
export function placementOf(node: KubeObject, provisioner: Provisioner): Placement {
  const labels = node.metadata.labels ?? {};
  switch (provisioner.volumeTopology) {
    case 'zone':
      return {
        ...(labels[ZONE_LABEL] ? { zone: labels[ZONE_LABEL] } : {}),
        ...(labels[REGION_LABEL] ? { region: labels[REGION_LABEL] } : {}),
      };
    case 'node':
      return { node: labels[HOSTNAME_LABEL] ?? node.metadata.name };
    default:
      return {};
  }
}

/** A made-up but well-formed EBS volume id (vol- and 17 hex digits), stable for a claim. */
function ebsVolumeId(claimUid: string): string {
  return `vol-${createHash('sha256').update(claimUid).digest('hex').slice(0, 17)}`;
}

/**
 * The PersistentVolume a provisioner creates for a claim, as the external provisioner writes it: named
 * `pvc-<claim uid>`, pre-bound to the claim (spec.claimRef with its uid), with the class's reclaim
 * policy and mount options, the claim's access modes, volume mode and requested size, and node affinity
 * to where the volume lives (the zone of a zonal disk, the node of a local one). A class of a migrated
 * in-tree provisioner (kubernetes.io/aws-ebs) gets an in-tree volume source carrying its zone and
 * region as labels too (csi-translation-lib), which the scheduler's VolumeZone plugin reads.
 *
 * Twin simplification: the capacity is the requested size (EBS rounds it up to whole GiB).
 * Twin simplification: a zonal volume's node affinity names only topology.kubernetes.io/zone (the EBS CSI driver also writes topology.ebs.csi.aws.com/zone).
 */
export function provisionedVolume(
  claim: KubeObject,
  storageClass: KubeObject,
  provisioner: Provisioner,
  placement: Placement,
): KubeObject {
  const classProvisioner = String(storageClass['provisioner']);
  const migrated = CSI_MIGRATION[classProvisioner] !== undefined;
  const parameters = (storageClass['parameters'] ?? {}) as Record<string, string>;
  const fsType = parameters['csi.storage.k8s.io/fstype'] ?? parameters['fsType'] ?? 'ext4';
  const name = `pvc-${claim.metadata.uid}`;
  const term =
    provisioner.volumeTopology === 'zone' && placement.zone
      ? { key: ZONE_LABEL, values: [placement.zone] }
      : provisioner.volumeTopology === 'node' && placement.node
        ? { key: HOSTNAME_LABEL, values: [placement.node] }
        : undefined;
  const labels: Record<string, string> = {};
  if (migrated && placement.zone) {
    labels[ZONE_LABEL] = placement.zone;
    if (placement.region) labels[REGION_LABEL] = placement.region;
  }
  let source: Record<string, unknown>;
  if (classProvisioner === 'kubernetes.io/aws-ebs')
    source = {
      awsElasticBlockStore: {
        volumeID: `aws://${placement.zone ?? ''}/${ebsVolumeId(claim.metadata.uid!)}`,
        fsType,
      },
    };
  else if (provisioner.name === 'rancher.io/local-path')
    source = {
      hostPath: {
        path: `/var/lib/rancher/k3s/storage/${name}_${claim.metadata.namespace}_${claim.metadata.name}`,
        type: 'DirectoryOrCreate',
      },
    };
  else
    source = {
      csi: {
        driver: provisioner.name,
        volumeHandle: provisioner.name === 'ebs.csi.aws.com' ? ebsVolumeId(claim.metadata.uid!) : name,
        fsType,
      },
    };
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name,
      annotations: {
        [PROVISIONED_BY_ANNOTATION]: classProvisioner,
        ...(migrated ? { [MIGRATED_TO_ANNOTATION]: provisioner.name } : {}),
      },
      ...(Object.keys(labels).length ? { labels } : {}),
    },
    spec: {
      accessModes: [...(claim.spec?.accessModes ?? [])],
      capacity: { storage: String(claim.spec?.resources?.requests?.storage ?? '0') },
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: claim.metadata.namespace,
        name: claim.metadata.name,
        uid: claim.metadata.uid,
        resourceVersion: claim.metadata.resourceVersion,
      },
      persistentVolumeReclaimPolicy: storageClass['reclaimPolicy'] ?? 'Delete',
      storageClassName: storageClass.metadata.name,
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
      ...(storageClass['mountOptions'] ? { mountOptions: storageClass['mountOptions'] } : {}),
      ...source,
      ...(term
        ? {
            nodeAffinity: {
              required: { nodeSelectorTerms: [{ matchExpressions: [{ ...term, operator: 'In' }] }] },
            },
          }
        : {}),
    },
  };
}
