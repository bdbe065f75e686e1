import type { KubeObject } from '../../kube/object.ts';
import { bytes } from '../../kube/quantity.ts';
import { allowedByTopologies } from '../storage/allowed-topologies.ts';
import { ANN_SELECTED_NODE, isClaimBound, podClaimNames } from '../storage/pod-claims.ts';
import { claimClass, isDelayBinding, NO_PROVISIONER } from '../storage/storage-class.ts';
import { findMatchingVolume, volumeNodeAffinityMatches } from '../storage/volume-matching.ts';
import { type CycleState, type Plugin, unresolvable, type VolumeLister } from './framework.ts';
import type { NodeInfo } from './node-info.ts';

export const UNBOUND_IMMEDIATE_CLAIMS = 'pod has unbound immediate PersistentVolumeClaims';
export const ERR_REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_REASON_PV_NOT_EXIST =
  'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';

export interface PodVolumeClaims {
  bound: KubeObject[];
  /** Unbound claims of a WaitForFirstConsumer class: the scheduler picks their volume's place. */
  unboundDelayBinding: KubeObject[];
  unboundImmediate: KubeObject[];
}

/**
 * The pod's claims sorted as the binder does (GetPodVolumeClaims), or the PreFilter error about one of
 * them (podHasPVCs): a missing claim, a Lost one. Undefined when the pod uses no claim.
 */
export function podVolumeClaims(
  pod: KubeObject,
  lister: VolumeLister,
): PodVolumeClaims | { error: string } | undefined {
  const names = podClaimNames(pod);
  if (names.length === 0) return undefined;
  const ns = pod.metadata.namespace ?? 'default';
  const result: PodVolumeClaims = { bound: [], unboundDelayBinding: [], unboundImmediate: [] };
  for (const name of names) {
    const claim = lister.claim(ns, name);
    if (!claim) return { error: `persistentvolumeclaim "${name}" not found` };
    if (claim.status?.phase === 'Lost')
      return {
        error: `persistentvolumeclaim "${name}" bound to non-existent persistentvolume "${claim.spec?.volumeName ?? ''}"`,
      };
    if (isClaimBound(claim)) result.bound.push(claim);
    else if (isDelayBinding(claim, (c) => lister.storageClass(c))) result.unboundDelayBinding.push(claim);
    else result.unboundImmediate.push(claim);
  }
  return result;
}

/** What binding the pod's volumes on a node takes: static volumes to pre-bind, claims to provision there. */
export interface VolumeBindingPlan {
  staticBindings: Array<{ claim: KubeObject; volume: KubeObject }>;
  provisions: KubeObject[];
}

/**
 * The binder's FindPodVolumes for one node: every bound claim's volume exists and admits the node;
 * every unbound delayed claim either has a matching Available volume that admits the node (smallest
 * requests first) or can be provisioned there (its class has a provisioner and its allowedTopologies
 * admit the node). A claim whose volume.kubernetes.io/selected-node names another node fails here.
 */
export function findPodVolumes(
  claims: PodVolumeClaims,
  node: KubeObject,
  lister: VolumeLister,
): { reasons: string[]; plan: VolumeBindingPlan } {
  const reasons: string[] = [];
  const plan: VolumeBindingPlan = { staticBindings: [], provisions: [] };
  for (const claim of claims.bound) {
    const volume = lister.volume(claim.spec.volumeName);
    if (!volume) return { reasons: [ERR_REASON_PV_NOT_EXIST], plan };
    if (!volumeNodeAffinityMatches(volume, node)) {
      reasons.push(ERR_REASON_NODE_CONFLICT);
      break;
    }
  }
  let unboundSatisfied = true;
  const toMatch: KubeObject[] = [];
  for (const claim of claims.unboundDelayBinding) {
    const selected = claim.metadata.annotations?.[ANN_SELECTED_NODE];
    if (selected !== undefined) {
      if (selected !== node.metadata.name) {
        unboundSatisfied = false;
        break;
      }
      plan.provisions.push(claim);
    } else toMatch.push(claim);
  }
  if (unboundSatisfied) {
    const chosen = new Set<string>();
    const bySize = [...toMatch].sort(
      (a, b) =>
        bytes(a.spec?.resources?.requests?.storage ?? 0) - bytes(b.spec?.resources?.requests?.storage ?? 0),
    );
    for (const claim of bySize) {
      const volume = findMatchingVolume(claim, lister.volumes(), {
        node,
        delayBinding: true,
        exclude: chosen,
      });
      if (volume) {
        chosen.add(volume.metadata.name);
        plan.staticBindings.push({ claim, volume });
      } else plan.provisions.push(claim);
    }
    for (const claim of plan.provisions) {
      const storageClass = lister.storageClass(claimClass(claim));
      const provisioner = String(storageClass?.['provisioner'] ?? '');
      if (
        !storageClass ||
        provisioner === '' ||
        provisioner === NO_PROVISIONER ||
        !allowedByTopologies(storageClass, node)
      ) {
        unboundSatisfied = false;
        break;
      }
    }
  }
  if (!unboundSatisfied) reasons.push(ERR_REASON_BIND_CONFLICT);
  return { reasons, plan };
}

/**
 * VolumeBinding: PreFilter rejects a pod with an unbound claim that binds immediately ("pod has
 * unbound immediate PersistentVolumeClaims": its class is missing, has no provisioner running, or it
 * has no class and no volume); Filter keeps the nodes where every volume can be used or provisioned.
 * The volumes' node affinity pins a pod to the zone (or node) of a volume it already has.
 * See https://kubernetes.io/docs/reference/scheduling/config/#scheduling-plugins
 *
 * Twin simplification: storage capacity tracking (CSIStorageCapacity) and volume-capacity scoring are not modelled.
 */
export function volumeBinding(state: CycleState): Plugin {
  const claims = podVolumeClaims(state.pod, state.volumes);
  return {
    name: 'VolumeBinding',
    preFilter() {
      if (!claims) return undefined;
      if ('error' in claims) return unresolvable(claims.error);
      if (claims.unboundImmediate.length > 0) return unresolvable(UNBOUND_IMMEDIATE_CLAIMS);
      return undefined;
    },
    filter(node: NodeInfo) {
      if (!claims || 'error' in claims) return undefined;
      const { reasons } = findPodVolumes(claims, node.node, state.volumes);
      return reasons.length > 0 ? unresolvable(...reasons) : undefined;
    },
  };
}
