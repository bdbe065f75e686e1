import type { Rollout } from './types.ts';

/**
 * The first error Argo Rollouts' controller finds in a Rollout's spec (validation.ValidateRollout),
 * for the rules the twin checks: a setWeight outside 0–100, and a setCanaryScale step without a
 * traffic router ("Setting canary scale is only available when using the canary strategy with a
 * traffic router", https://argo-rollouts.readthedocs.io/en/stable/features/canary/#dynamic-canary-scale-with-traffic-routing).
 * Twin simplification: the other rules of ValidateRollout and of the referenced resources are not
 * checked, and a value is shown as JSON where Go's field errors print it with %#v.
 */
export function rolloutValidationError(ro: Rollout): string | undefined {
  const canary = ro.spec?.strategy?.canary;
  if (!canary) return undefined;
  const steps = canary.steps ?? [];
  for (const [i, step] of steps.entries()) {
    const path = `spec.strategy.canary.steps[${i}]`;
    if (step.setWeight !== undefined && (step.setWeight < 0 || step.setWeight > 100))
      return `${path}.setWeight: Invalid value: ${step.setWeight}: SetWeight needs to be between 0 and 100`;
    if (step.setCanaryScale && !canary.trafficRouting)
      return `${path}.setCanaryScale: Invalid value: ${JSON.stringify(step.setCanaryScale)}: SetCanaryScale requires TrafficRouting to be set`;
  }
  return undefined;
}
