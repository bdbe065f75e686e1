import type { CanaryStep, IntOrString, Rollout, SetCanaryScale } from './types.ts';

/** The replica figures of a ReplicaSet that the canary math reads. */
export interface ReplicaSetCounts {
  name: string;
  specReplicas: number;
  availableReplicas: number;
}

export function specReplicas(ro: Rollout): number {
  return ro.spec?.replicas ?? 1;
}

function steps(ro: Rollout): CanaryStep[] {
  return ro.spec?.strategy?.canary?.steps ?? [];
}

function hasTrafficRouting(ro: Rollout): boolean {
  return ro.spec?.strategy?.canary?.trafficRouting !== undefined;
}

/** An int-or-percent resolved against a total, as intstr.GetScaledValueFromIntOrPercent does. */
export function scaledValue(
  value: IntOrString | undefined,
  total: number,
  roundUp: boolean,
  fallback: IntOrString,
): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^([0-9]+)%$/.exec(v.trim());
  if (!m) return Number.parseInt(v, 10) || 0;
  const raw = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(raw) : Math.floor(raw);
}

/** maxSurge and maxUnavailable (default 25% each), with the Deployment fencepost rule. */
export function surgeAndUnavailable(ro: Rollout): { maxSurge: number; maxUnavailable: number } {
  const replicas = specReplicas(ro);
  const canary = ro.spec?.strategy?.canary ?? {};
  const maxSurge = scaledValue(canary.maxSurge, replicas, true, '25%');
  let maxUnavailable = scaledValue(canary.maxUnavailable, replicas, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

/** The current step (undefined past the last one) and the index, as GetCurrentCanaryStep. */
export function currentStep(ro: Rollout): { step: CanaryStep | undefined; index: number } {
  const index = ro.status?.currentStepIndex ?? 0;
  return { step: steps(ro)[index], index };
}

/** The weight of the last setWeight step at or before the current one (0 when aborted, 100 when past the end). */
export function currentSetWeight(ro: Rollout): number {
  if (ro.status?.abort) return 0;
  const { step, index } = currentStep(ro);
  if (!step) return 100;
  for (let i = index; i >= 0; i--) {
    const w = steps(ro)[i]?.setWeight;
    if (w !== undefined) return w;
  }
  return 0;
}

/** The setCanaryScale in force, if any (traffic routing only; matchTrafficWeight cancels it). */
export function activeSetCanaryScale(ro: Rollout): SetCanaryScale | undefined {
  const { step, index } = currentStep(ro);
  if (!step || !hasTrafficRouting(ro)) return undefined;
  for (let i = index; i >= 0; i--) {
    const scs = steps(ro)[i]?.setCanaryScale;
    if (!scs) continue;
    return scs.matchTrafficWeight ? undefined : scs;
  }
  return undefined;
}

export function canaryReplicasOrWeight(ro: Rollout): { replicas?: number; weight: number } {
  if (ro.status?.promoteFull || ro.status?.currentPodHash === ro.status?.stableRS) return { weight: 100 };
  const scs = activeSetCanaryScale(ro);
  if (scs?.replicas !== undefined) return { replicas: scs.replicas, weight: 0 };
  if (scs?.weight !== undefined) return { weight: scs.weight };
  return { weight: currentSetWeight(ro) };
}

function stableExists(
  newRS: ReplicaSetCounts | undefined,
  stableRS: ReplicaSetCounts | undefined,
): stableRS is ReplicaSetCounts {
  return stableRS !== undefined && (newRS === undefined || newRS.name !== stableRS.name);
}

/** The end-state replica counts of the current step (DesiredReplicaCountsForCanary). */
export function desiredReplicaCounts(
  ro: Rollout,
  newRS: ReplicaSetCounts | undefined,
  stableRS: ReplicaSetCounts | undefined,
): { canary: number; stable: number } {
  const replicas = specReplicas(ro);
  const rw = canaryReplicasOrWeight(ro);
  let canary = rw.replicas ?? Math.ceil(replicas * (rw.weight / 100));
  let stable = rw.replicas !== undefined ? replicas : Math.ceil(replicas * (1 - rw.weight / 100));
  if (!stableExists(newRS, stableRS)) {
    canary = replicas;
    stable = 0;
  }
  if (hasTrafficRouting(ro)) stable = replicas;
  return { canary, stable };
}

/**
 * The next replica counts for the new and stable ReplicaSets (CalculateReplicaCountsForCanary):
 * without traffic routing the weight is realised by replica ratios, moving within maxSurge and
 * maxUnavailable; with traffic routing the stable stays at full scale.
 */
export function calculateReplicaCounts(
  ro: Rollout,
  newRS: ReplicaSetCounts | undefined,
  stableRS: ReplicaSetCounts | undefined,
  oldRSs: ReplicaSetCounts[],
): { canary: number; stable: number } {
  const replicas = specReplicas(ro);
  const rw = canaryReplicasOrWeight(ro);
  if (rw.replicas !== undefined) return { canary: rw.replicas, stable: replicas };
  const weight = rw.weight;
  let desiredStable = Math.ceil(replicas * (1 - weight / 100));
  let desiredNew = Math.ceil(replicas * (weight / 100));
  if (hasTrafficRouting(ro)) return { canary: desiredNew, stable: replicas };

  let newCount = newRS?.specReplicas ?? 0;
  let stableCount = 0;
  const scaleStable = stableExists(newRS, stableRS);
  if (scaleStable) stableCount = stableRS.specReplicas;
  else {
    desiredNew = replicas;
    desiredStable = 0;
  }

  let { maxSurge, maxUnavailable } = surgeAndUnavailable(ro);
  // Both counts round up when the weight does not divide the replicas evenly: allow one more.
  if (((replicas * weight) / 100) % 1 !== 0) maxSurge += 1;
  const all = [...oldRSs, ...(newRS ? [newRS] : []), ...(scaleStable ? [stableRS] : [])];
  let scaleUp = replicas + maxSurge - sum(all.map((r) => r.specReplicas));

  if (scaleStable && stableRS.specReplicas < desiredStable && scaleUp > 0) {
    if (stableRS.specReplicas + scaleUp < desiredStable) {
      stableCount = stableRS.specReplicas + scaleUp;
      scaleUp = 0;
    } else {
      stableCount = desiredStable;
      scaleUp -= desiredStable - stableRS.specReplicas;
    }
  }
  if (newRS && newRS.specReplicas < desiredNew && scaleUp > 0) {
    newCount = Math.min(newRS.specReplicas + scaleUp, desiredNew);
  }
  if (sum(oldRSs.map((r) => r.specReplicas)) > 0) return { canary: newCount, stable: stableCount };

  const minAvailable = replicas - maxUnavailable;
  const increasing = newRS === undefined || desiredNew >= newRS.specReplicas;
  const toScaleDown =
    forScaleDown(newRS, !increasing) + (scaleStable ? forScaleDown(stableRS, increasing) : 0);
  if (toScaleDown <= minAvailable) return { canary: newCount, stable: stableCount };
  let scaleDown = toScaleDown - minAvailable;

  if (newRS && newRS.specReplicas > desiredNew) {
    if (newRS.specReplicas - scaleDown < desiredNew) {
      newCount = desiredNew;
      scaleDown -= newRS.specReplicas - desiredNew;
    } else {
      newCount = newRS.specReplicas - scaleDown;
      scaleDown = 0;
    }
  }
  if (scaleStable && stableRS.specReplicas > desiredStable) {
    stableCount = Math.max(stableRS.specReplicas - scaleDown, desiredStable);
  }
  return { canary: newCount, stable: stableCount };
}

function forScaleDown(rs: ReplicaSetCounts | undefined, ignoreAvailability: boolean): number {
  if (!rs) return 0;
  if (rs.specReplicas < rs.availableReplicas || ignoreAvailability) return rs.specReplicas;
  return rs.availableReplicas;
}

/** Whether the new (and stable) ReplicaSets are at the current step's counts and available. */
export function atDesiredReplicaCounts(
  ro: Rollout,
  newRS: ReplicaSetCounts | undefined,
  stableRS: ReplicaSetCounts | undefined,
  olderRSs: ReplicaSetCounts[],
): boolean {
  const desired = desiredReplicaCounts(ro, newRS, stableRS);
  if (!newRS || newRS.specReplicas !== desired.canary || newRS.availableReplicas !== desired.canary)
    return false;
  if (stableExists(newRS, stableRS)) {
    if (stableRS.specReplicas !== desired.stable || stableRS.availableReplicas !== desired.stable)
      return false;
  }
  if (!hasTrafficRouting(ro) && sum(olderRSs.map((r) => r.availableReplicas)) !== 0) return false;
  return true;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
