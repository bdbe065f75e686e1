import type { CanaryStep, IntOrString, Rollout, SetCanaryScale } from './types.ts';

/** The replica figures of a ReplicaSet that the canary math reads. */
export interface ReplicaSetCounts {
  name: string;
  specReplicas: number;
  availableReplicas: number;
  /** status.replicas: the pods it has created. */
  replicas?: number;
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

/** GetCanaryReplicasOrWeight: an explicit canary count (setCanaryScale, traffic routing only) or a weight. */
export function canaryReplicasOrWeight(ro: Rollout): { replicas?: number; weight: number } {
  const status = ro.status ?? {};
  if (status.promoteFull || !status.stableRS || status.currentPodHash === status.stableRS)
    return { weight: 100 };
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

/** floorCeilingTied: the two whole numbers around total × weight are equally far from it. */
function floorCeilingTied(weight: number, total: number): boolean {
  const exact = (total * weight) / 100;
  return exact - Math.floor(exact) === 0.5;
}

/**
 * approximateWeightedCanaryStableReplicaCounts (Argo Rollouts ≥ 1.2): the canary and stable counts
 * whose canary share is closest to the weight, among the ceiling and the floor of replicas × weight
 * over spec.replicas and, when maxSurge allows it, spec.replicas + 1; the ceiling wins a tie. For a
 * weight between 1 and 99 neither side gets 0 unless a single replica cannot surge.
 */
export function approximateWeightedCanaryStableReplicaCounts(
  specReplicas: number,
  weight: number,
  maxSurge: number,
): { canary: number; stable: number } {
  if (specReplicas === 0) return { canary: 0, stable: 0 };
  const ceil = Math.ceil((specReplicas * weight) / 100);
  const floor = Math.floor((specReplicas * weight) / 100);
  const zeroAllowed = weight === 100 || weight === 0 || (specReplicas === 1 && maxSurge === 0);
  const options: Array<{ canary: number; total: number }> = [];
  if (ceil < specReplicas || zeroAllowed) options.push({ canary: ceil, total: specReplicas });
  if (!floorCeilingTied(weight, specReplicas) && (floor !== 0 || zeroAllowed))
    options.push({ canary: floor, total: specReplicas });
  if (maxSurge > 0) {
    options.push({ canary: ceil, total: specReplicas + 1 });
    if (!floorCeilingTied(weight, specReplicas + 1) && (floor !== 0 || zeroAllowed))
      options.push({ canary: floor, total: specReplicas + 1 });
  }
  if (options.length === 0) return { canary: 0, stable: specReplicas };
  const delta = (o: { canary: number; total: number }) => Math.abs((o.canary * 100) / o.total - weight);
  let best = options[0]!;
  for (const o of options.slice(1)) if (delta(o) < delta(best)) best = o;
  return { canary: best.canary, stable: best.total - best.canary };
}

/**
 * The next replica counts for the new and stable ReplicaSets. Without traffic routing
 * (CalculateReplicaCountsForBasicCanary, Argo Rollouts ≥ 1.2) the weight is approximated by replica
 * counts and reached within maxSurge and maxUnavailable, older ReplicaSets shrinking first; with
 * traffic routing (CalculateReplicaCountsForTrafficRoutedCanary) the canary is sized to the weight
 * and the stable stays at full scale.
 */
export function calculateReplicaCounts(
  ro: Rollout,
  newRS: ReplicaSetCounts | undefined,
  stableRS: ReplicaSetCounts | undefined,
  oldRSs: ReplicaSetCounts[],
): { canary: number; stable: number } {
  const replicas = specReplicas(ro);
  const rw = canaryReplicasOrWeight(ro);
  if (hasTrafficRouting(ro))
    return { canary: rw.replicas ?? Math.ceil((replicas * rw.weight) / 100), stable: replicas };

  const { maxSurge, maxUnavailable } = surgeAndUnavailable(ro);
  let { canary: desiredNew, stable: desiredStable } = approximateWeightedCanaryStableReplicaCounts(
    replicas,
    rw.weight,
    maxSurge,
  );
  let newCount = newRS?.specReplicas ?? 0;
  let stableCount = 0;
  const scaleStable = stableExists(newRS, stableRS);
  if (scaleStable) stableCount = stableRS.specReplicas;
  else {
    desiredNew = replicas;
    desiredStable = 0;
  }

  const maxTotal = replicas + maxSurge;
  const all = [...oldRSs, ...(newRS ? [newRS] : []), ...(scaleStable ? [stableRS] : [])];
  let scaleUp = maxTotal - sum(all.map((r) => r.specReplicas));
  if (scaleStable && stableRS.specReplicas < desiredStable && scaleUp > 0) {
    if (stableRS.specReplicas + scaleUp < desiredStable) {
      stableCount = stableRS.specReplicas + scaleUp;
      scaleUp = 0;
    } else {
      stableCount = desiredStable;
      scaleUp -= desiredStable - stableRS.specReplicas;
    }
  }
  if (newRS && newRS.specReplicas < desiredNew && scaleUp > 0)
    newCount = Math.min(newRS.specReplicas + scaleUp, desiredNew);
  if (sum(oldRSs.map((r) => r.specReplicas)) > 0) return { canary: newCount, stable: stableCount };

  const minAvailable = replicas - maxUnavailable;
  const increasing = newRS === undefined || desiredNew >= newRS.specReplicas;
  const toScaleDown =
    replicasForScaleDown(newRS, !increasing) +
    replicasForScaleDown(scaleStable ? stableRS : undefined, increasing);
  if (toScaleDown <= minAvailable) return { canary: newCount, stable: stableCount };
  const scaleDown = toScaleDown - minAvailable;
  if (!increasing) {
    newCount = scaleDownCount(newRS, desiredNew, scaleDown, newCount);
    [newCount, stableCount] = adjustWithinLimits(
      newRS,
      stableRS,
      newCount,
      stableCount,
      maxTotal,
      minAvailable,
    );
  } else if (scaleStable) {
    stableCount = scaleDownCount(stableRS, desiredStable, scaleDown, stableCount);
    [stableCount, newCount] = adjustWithinLimits(
      stableRS,
      newRS,
      stableCount,
      newCount,
      maxTotal,
      minAvailable,
    );
  }
  return { canary: newCount, stable: stableCount };
}

/** GetReplicasForScaleDown: what a ReplicaSet contributes to the availability a scale-down may use. */
function replicasForScaleDown(rs: ReplicaSetCounts | undefined, ignoreAvailability: boolean): number {
  if (!rs) return 0;
  if (rs.specReplicas < rs.availableReplicas || ignoreAvailability) return rs.specReplicas;
  return rs.availableReplicas;
}

/** calculateScaleDownReplicaCount: down towards the desired count by at most `scaleDown`. */
function scaleDownCount(
  rs: ReplicaSetCounts | undefined,
  desired: number,
  scaleDown: number,
  current: number,
): number {
  if (rs && rs.specReplicas > desired) return Math.max(desired, rs.specReplicas - scaleDown);
  return current;
}

/**
 * adjustReplicaWithinLimits: the ReplicaSet being drained shrinks; the other one is trimmed back
 * within maxSurge, keeping enough of its available pods for the minimum availability.
 */
function adjustWithinLimits(
  drain: ReplicaSetCounts | undefined,
  adjust: ReplicaSetCounts | undefined,
  drainCount: number,
  adjustCount: number,
  maxTotal: number,
  minAvailable: number,
): [number, number] {
  let over = Math.max(0, adjustCount + drainCount - maxTotal);
  let available = drain ? Math.min(drain.availableReplicas, drainCount) : 0;
  if (adjust) {
    adjustCount -= over;
    available += Math.min(adjust.availableReplicas, adjustCount);
    const extra = Math.max(0, adjust.availableReplicas - adjustCount);
    const needed = Math.max(0, minAvailable - available);
    adjustCount += Math.min(extra, needed);
    over = Math.max(0, adjustCount + drainCount - maxTotal);
    drainCount -= over;
  }
  return [drainCount, adjustCount];
}

/**
 * AtDesiredReplicaCountsForCanary: the new ReplicaSet has the replicas this step asks for, all
 * available; the stable one has its count created; without traffic routing no older ReplicaSet
 * still has available pods.
 */
export function atDesiredReplicaCounts(
  ro: Rollout,
  newRS: ReplicaSetCounts | undefined,
  stableRS: ReplicaSetCounts | undefined,
  olderRSs: ReplicaSetCounts[],
): boolean {
  const desired = calculateReplicaCounts(ro, newRS, stableRS, olderRSs);
  if (!newRS || newRS.specReplicas !== desired.canary || newRS.availableReplicas !== desired.canary)
    return false;
  if (
    !stableRS ||
    stableRS.specReplicas !== desired.stable ||
    (stableRS.replicas ?? stableRS.specReplicas) !== desired.stable
  )
    return false;
  if (!hasTrafficRouting(ro) && sum(olderRSs.map((r) => r.availableReplicas)) !== 0) return false;
  return true;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
