import type { LookupFunction } from 'node:net';
import type { Controller } from '../controllers/controller.ts';
import { AnalysisRunController } from './analysis-run-controller.ts';
import type { MetricProvider } from './providers/provider.ts';
import { RolloutController } from './rollout-controller.ts';

export interface RolloutControllersOptions {
  /** Resolves cluster DNS names for the web metric provider. */
  lookup?: LookupFunction;
  providers?: MetricProvider[];
}

/** The Argo Rollouts controllers of the twin: the Rollout (canary) controller and the AnalysisRun controller. */
export function rolloutControllers(options: RolloutControllersOptions = {}): Controller[] {
  return [new RolloutController(), new AnalysisRunController(options)];
}

export { type AlbAction, albActionAnnotationKey, albForwardAction } from './alb-actions.ts';
export { AnalysisRunController, type AnalysisRunControllerOptions } from './analysis-run-controller.ts';
export { ExprError, evaluateCondition, evaluateExpr, parseExpr } from './expr.ts';
export { evaluateJsonPath, parseJsonPath } from './jsonpath.ts';
export { abort, promote, type RolloutRef, retry } from './kubectl-argo-rollouts.ts';
export { POD_TEMPLATE_HASH_LABEL, podTemplateHash } from './pod-template-hash.ts';
export type { MeasureContext, MetricProvider, ProviderResult } from './providers/provider.ts';
export { RolloutController, stepString } from './rollout-controller.ts';
export type { AnalysisRun, Rollout, RolloutStatus } from './types.ts';
