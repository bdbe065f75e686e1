import type { RolloutCondition, RolloutSpec, RolloutStatus } from './types.ts';

// Argo's condition reasons (utils/conditions).
export const ReplicaSetUpdatedReason = 'ReplicaSetUpdated';
export const NewReplicaSetAvailableReason = 'NewReplicaSetAvailable';
export const RolloutAbortedReason = 'RolloutAborted';
export const RolloutPausedReason = 'RolloutPaused';
export const RolloutResumedReason = 'RolloutResumed';
export const AvailableReason = 'AvailableReason';
export const RolloutHealthyReason = 'RolloutHealthy';
export const RolloutCompletedReason = 'RolloutCompleted';

/** Sets a condition, keeping lastTransitionTime while the status holds and lastUpdateTime while nothing changes. */
export function setCondition(
  conditions: RolloutCondition[],
  type: string,
  status: RolloutCondition['status'],
  reason: string,
  message: string,
  now: string,
): RolloutCondition[] {
  const existing = conditions.find((c) => c.type === type);
  if (existing && existing.status === status && existing.reason === reason && existing.message === message)
    return conditions;
  const next: RolloutCondition = {
    type,
    status,
    reason,
    message,
    lastUpdateTime: now,
    lastTransitionTime: existing && existing.status === status ? existing.lastTransitionTime : now,
  };
  return existing ? conditions.map((c) => (c.type === type ? next : c)) : [...conditions, next];
}

export function removeCondition(conditions: RolloutCondition[], type: string): RolloutCondition[] {
  return conditions.filter((c) => c.type !== type);
}

/** The Rollout's phase and message as rolloututil.CalculateRolloutPhase derives them from status. */
export function calculateRolloutPhase(
  spec: RolloutSpec,
  status: RolloutStatus,
): { phase: string; message: string } {
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  const invalid = status.conditions?.find((c) => c.type === 'InvalidSpec');
  if (invalid) return { phase: 'Degraded', message: `InvalidSpec: ${invalid.message}` };
  if (progressing?.reason === RolloutAbortedReason)
    return { phase: 'Degraded', message: `${RolloutAbortedReason}: ${progressing.message}` };
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return { phase: 'Degraded', message: `ProgressDeadlineExceeded: ${progressing.message}` };
  if ((status.pauseConditions?.length ?? 0) > 0)
    return { phase: 'Paused', message: status.pauseConditions![0]!.reason };
  if (spec.paused) return { phase: 'Paused', message: 'manually paused' };
  const replicas = spec.replicas ?? 1;
  if ((status.updatedReplicas ?? 0) < replicas)
    return { phase: 'Progressing', message: 'more replicas need to be updated' };
  if ((status.availableReplicas ?? 0) < (status.updatedReplicas ?? 0)) {
    return { phase: 'Progressing', message: 'updated replicas are still becoming available' };
  }
  if (!status.stableRS || status.stableRS !== status.currentPodHash)
    return { phase: 'Progressing', message: 'waiting for all steps to complete' };
  if ((status.replicas ?? 0) > (status.updatedReplicas ?? 0))
    return { phase: 'Progressing', message: 'old replicas are pending termination' };
  return { phase: 'Healthy', message: '' };
}
