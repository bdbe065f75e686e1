import type { KubeObject } from '../../kube/object.ts';
import { podClaimNames } from '../storage/pod-claims.ts';
import { type CycleState, type Plugin, unresolvable, unschedulable } from './framework.ts';
import type { NodeInfo } from './node-info.ts';

export const ERR_REASON_DISK_CONFLICT = 'node(s) had no available disk';
export const ERR_REASON_RWOP_CONFLICT =
  'node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode';

interface InlineVolume {
  awsElasticBlockStore?: { volumeID?: string };
  gcePersistentDisk?: { pdName?: string; readOnly?: boolean };
  iscsi?: { iqn?: string; readOnly?: boolean };
  rbd?: { monitors?: string[]; pool?: string; image?: string; readOnly?: boolean };
}

/** Two inline volumes are the same disk that may not be mounted twice (isVolumeConflict). */
function diskConflict(v: InlineVolume, other: InlineVolume): boolean {
  if (v.gcePersistentDisk && other.gcePersistentDisk)
    return (
      v.gcePersistentDisk.pdName === other.gcePersistentDisk.pdName &&
      !(v.gcePersistentDisk.readOnly && other.gcePersistentDisk.readOnly)
    );
  if (v.awsElasticBlockStore && other.awsElasticBlockStore)
    return v.awsElasticBlockStore.volumeID === other.awsElasticBlockStore.volumeID;
  if (v.iscsi && other.iscsi)
    return v.iscsi.iqn === other.iscsi.iqn && !(v.iscsi.readOnly && other.iscsi.readOnly);
  if (v.rbd && other.rbd)
    return (
      (v.rbd.monitors ?? []).some((m) => (other.rbd!.monitors ?? []).includes(m)) &&
      (v.rbd.pool ?? 'rbd') === (other.rbd.pool ?? 'rbd') &&
      v.rbd.image === other.rbd.image &&
      !(v.rbd.readOnly && other.rbd.readOnly)
    );
  return false;
}

const isTerminal = (p: KubeObject) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/**
 * VolumeRestrictions: an inline EBS, GCE PD, iSCSI or RBD disk can be mounted by one pod per node (read
 * only excepted), and a ReadWriteOncePod claim by one pod in the cluster: a second pod is
 * Unschedulable on every node while another pod uses it. See
 * https://kubernetes.io/docs/concepts/storage/persistent-volumes/#access-modes
 */
export function volumeRestrictions(state: CycleState): Plugin {
  const pod = state.pod;
  const ns = pod.metadata.namespace ?? 'default';
  const names = podClaimNames(pod);
  const missing = names.find((n) => !state.volumes.claim(ns, n));
  const rwop = new Set(
    names.filter((n) =>
      ((state.volumes.claim(ns, n)?.spec?.accessModes ?? []) as string[]).includes('ReadWriteOncePod'),
    ),
  );
  let conflicting = 0;
  if (rwop.size > 0)
    for (const info of state.nodes)
      for (const other of info.pods)
        if ((other.metadata.namespace ?? 'default') === ns && !isTerminal(other))
          conflicting += podClaimNames(other).filter((n) => rwop.has(n)).length;
  const inline = ((pod.spec?.volumes ?? []) as InlineVolume[]).filter(
    (v) => v.awsElasticBlockStore || v.gcePersistentDisk || v.iscsi || v.rbd,
  );
  return {
    name: 'VolumeRestrictions',
    preFilter() {
      return missing !== undefined ? unresolvable(`persistentvolumeclaim "${missing}" not found`) : undefined;
    },
    filter(node: NodeInfo) {
      for (const v of inline)
        for (const other of node.pods)
          for (const ov of (other.spec?.volumes ?? []) as InlineVolume[])
            if (diskConflict(v, ov)) return unschedulable(ERR_REASON_DISK_CONFLICT);
      if (conflicting > 0) return unschedulable(ERR_REASON_RWOP_CONFLICT);
      return undefined;
    },
  };
}
