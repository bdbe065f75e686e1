import type { KubeObject } from '../../kube/object.ts';
import { podClaimNames } from '../storage/pod-claims.ts';
import { bindingMode, claimClass } from '../storage/storage-class.ts';
import { type CycleState, type Plugin, type Rejection, unresolvable } from './framework.ts';
import type { NodeInfo } from './node-info.ts';

export const ERR_REASON_ZONE_CONFLICT = 'node(s) had no available volume zone';

const ZONE_BETA = 'failure-domain.beta.kubernetes.io/zone';
const REGION_BETA = 'failure-domain.beta.kubernetes.io/region';
const ZONE = 'topology.kubernetes.io/zone';
const REGION = 'topology.kubernetes.io/region';
const TOPOLOGY_LABELS = [ZONE_BETA, REGION_BETA, ZONE, REGION];
const GA_LABEL: Record<string, string> = { [ZONE_BETA]: ZONE, [REGION_BETA]: REGION };

interface PvTopology {
  key: string;
  values: Set<string>;
}

/**
 * The zone and region labels of the pod's bound volumes (VolumeZone's getPVbyPod); a label value may
 * name several zones separated by "__" (volumehelpers.LabelZonesToSet).
 */
function volumeTopologies(pod: KubeObject, state: CycleState): PvTopology[] | Rejection {
  const out: PvTopology[] = [];
  const ns = pod.metadata.namespace ?? 'default';
  for (const name of podClaimNames(pod)) {
    if (name === '') return unresolvable('PersistentVolumeClaim had no name');
    const claim = state.volumes.claim(ns, name);
    if (!claim) return unresolvable(`persistentvolumeclaim "${name}" not found`);
    const volumeName: string | undefined = claim.spec?.volumeName || undefined;
    if (!volumeName) {
      const className = claimClass(claim);
      if (className === '') return unresolvable('PersistentVolumeClaim had no pv name and storageClass name');
      const storageClass = state.volumes.storageClass(className);
      if (!storageClass) return unresolvable(`storageclass.storage.k8s.io "${className}" not found`);
      if (bindingMode(storageClass) === 'WaitForFirstConsumer') continue;
      return unresolvable('PersistentVolume had no name');
    }
    const volume = state.volumes.volume(volumeName);
    if (!volume) return unresolvable(`persistentvolume "${volumeName}" not found`);
    const labels = volume.metadata.labels ?? {};
    for (const key of TOPOLOGY_LABELS) {
      const value = labels[key];
      if (value !== undefined) out.push({ key, values: new Set(value.split('__').map((z) => z.trim())) });
    }
  }
  return out;
}

/**
 * VolumeZone: a pod whose bound volumes carry zone or region labels (in-tree cloud disks, and PVs
 * written with them) fits only nodes in that zone and region. CSI volumes say the same through their
 * node affinity, which VolumeBinding checks. See
 * https://kubernetes.io/docs/reference/scheduling/config/#scheduling-plugins
 */
export function volumeZone(state: CycleState): Plugin {
  const topologies = podClaimNames(state.pod).length > 0 ? volumeTopologies(state.pod, state) : [];
  return {
    name: 'VolumeZone',
    preFilter() {
      return Array.isArray(topologies) ? undefined : topologies;
    },
    filter(node: NodeInfo) {
      if (!Array.isArray(topologies) || topologies.length === 0) return undefined;
      for (const t of topologies) {
        const value = node.labels[t.key] ?? (GA_LABEL[t.key] ? node.labels[GA_LABEL[t.key]!] : undefined);
        if (value === undefined || !t.values.has(value)) return unresolvable(ERR_REASON_ZONE_CONFLICT);
      }
      return undefined;
    },
  };
}
