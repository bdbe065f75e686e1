import { TwinError } from '../../core/errors.ts';
import { describeObject } from '../../kube/object.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { ARGO_API_VERSION, type Rollout } from './types.ts';

/** Names a Rollout for the plugin commands. */
export interface RolloutRef {
  namespace?: string;
  name: string;
}

function patchRollout(store: ObjectStore, ref: RolloutRef, mutate: (ro: Rollout) => void): Rollout {
  const full = {
    apiVersion: ARGO_API_VERSION,
    kind: 'Rollout',
    namespace: ref.namespace ?? 'default',
    name: ref.name,
  };
  const updated = store.patch(full, (obj) => mutate(obj as Rollout));
  if (!updated) throw new TwinError('TWIN_NOT_FOUND', `${describeObject(full)} not found`);
  return updated as Rollout;
}

/**
 * `kubectl argo rollouts promote`: unpauses and moves to the next step (clearing pauseConditions);
 * with `full`, skips the remaining steps and analysis (status.promoteFull).
 */
export function promote(store: ObjectStore, ref: RolloutRef, options: { full?: boolean } = {}): Rollout {
  return patchRollout(store, ref, (ro) => {
    ro.status ??= {};
    if (ro.spec?.paused) ro.spec.paused = false;
    if (options.full) {
      ro.status.promoteFull = true;
      delete ro.status.pauseConditions;
      return;
    }
    const steps = ro.spec?.strategy?.canary?.steps ?? [];
    const index = ro.status.currentStepIndex ?? 0;
    delete ro.status.pauseConditions;
    delete ro.status.controllerPause;
    if (index < steps.length) ro.status.currentStepIndex = index + 1;
  });
}

/** `kubectl argo rollouts abort`: shifts traffic back to stable and scales the canary down (status.abort). */
export function abort(store: ObjectStore, ref: RolloutRef): Rollout {
  return patchRollout(store, ref, (ro) => {
    ro.status = { ...ro.status, abort: true };
  });
}

/** `kubectl argo rollouts retry rollout`: clears the abort so that the update starts its steps again. */
export function retry(store: ObjectStore, ref: RolloutRef): Rollout {
  return patchRollout(store, ref, (ro) => {
    ro.status = { ...ro.status, abort: false };
  });
}
