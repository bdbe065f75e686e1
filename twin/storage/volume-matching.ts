import { matchesSelector } from '../../kube/labels.ts';
import type { KubeObject } from '../../kube/object.ts';
import { bytes } from '../../kube/quantity.ts';
import { matchesNodeSelectorTerms } from '../scheduler/node-selector.ts';
import { claimClass, volumeClass } from './storage-class.ts';

/** Whether the volume's spec.claimRef names this claim (and its uid, once set): storagehelpers.IsVolumeBoundToClaim. */
export function isVolumeBoundToClaim(volume: KubeObject, claim: KubeObject): boolean {
  const ref = volume.spec?.claimRef;
  if (!ref) return false;
  return (
    ref.name === claim.metadata.name &&
    (ref.namespace ?? '') === (claim.metadata.namespace ?? '') &&
    (!ref.uid || ref.uid === claim.metadata.uid)
  );
}

/** Where the volume can be used: its spec.nodeAffinity holds for the node (volumeutil.CheckNodeAffinity). */
export function volumeNodeAffinityMatches(volume: KubeObject, node: KubeObject): boolean {
  const required = volume.spec?.nodeAffinity?.required;
  if (!required) return true;
  return matchesNodeSelectorTerms(required.nodeSelectorTerms ?? [], node);
}

/** Every access mode the claim asks for is one the volume has (CheckAccessModes). */
export function accessModesMatch(claim: KubeObject, volume: KubeObject): boolean {
  const have = new Set<string>(volume.spec?.accessModes ?? []);
  return ((claim.spec?.accessModes ?? []) as string[]).every((m) => have.has(m));
}

export function requestedStorage(claim: KubeObject): number {
  return bytes(claim.spec?.resources?.requests?.storage ?? 0);
}

const volumeMode = (obj: KubeObject) => obj.spec?.volumeMode ?? 'Filesystem';

/**
 * Why a volume cannot serve a claim, or undefined when it can (pv_controller's
 * checkVolumeSatisfyClaim, used when a claim names its volume): size, class, volume mode, access modes.
 */
export function volumeMismatch(volume: KubeObject, claim: KubeObject): string | undefined {
  if (bytes(volume.spec?.capacity?.storage ?? 0) < requestedStorage(claim))
    return 'requested PV is too small';
  if (volumeClass(volume) !== claimClass(claim)) return 'storageClassName does not match';
  if (volumeMode(volume) !== volumeMode(claim)) return 'incompatible volumeMode';
  if (!accessModesMatch(claim, volume)) return 'incompatible accessMode';
  return undefined;
}

/**
 * The volume to bind an unbound claim to (volume.FindMatchingVolume): one already pre-bound to the
 * claim (by a provisioner or a user) wins; otherwise the smallest Available volume of the claim's
 * class that is large enough, has its access modes and volume mode, matches its selector and, on the
 * scheduler's path (`node` given), whose node affinity admits the node. The PV controller (no node)
 * leaves delayed-binding claims to the scheduler. `exclude` names volumes chosen for other claims.
 */
export function findMatchingVolume(
  claim: KubeObject,
  volumes: KubeObject[],
  options: { node?: KubeObject; delayBinding: boolean; exclude?: ReadonlySet<string> },
): KubeObject | undefined {
  const requested = requestedStorage(claim);
  const wantedClass = claimClass(claim);
  const selector = claim.spec?.selector;
  let smallest: KubeObject | undefined;
  let smallestSize = 0;
  for (const volume of volumes) {
    if (options.exclude?.has(volume.metadata.name)) continue;
    if (volume.spec?.claimRef && !isVolumeBoundToClaim(volume, claim)) continue;
    const size = bytes(volume.spec?.capacity?.storage ?? 0);
    if (size < requested) continue;
    if (volumeMode(volume) !== volumeMode(claim)) continue;
    if (volume.metadata.deletionTimestamp) continue;
    const affinityOk = options.node ? volumeNodeAffinityMatches(volume, options.node) : true;
    if (isVolumeBoundToClaim(volume, claim)) return affinityOk ? volume : undefined;
    if (!options.node && options.delayBinding) continue;
    if (volume.status?.phase !== 'Available') continue;
    if (selector && !matchesSelector(selector, volume.metadata.labels ?? {})) continue;
    if (volumeClass(volume) !== wantedClass) continue;
    if (!affinityOk) continue;
    if (!accessModesMatch(claim, volume)) continue;
    if (!smallest || size < smallestSize) {
      smallest = volume;
      smallestSize = size;
    }
  }
  return smallest;
}
