export { EmulatedUsage, podRequest, type WorkloadLoad } from './emulated-usage.ts';
export {
  applyBehavior,
  type Behavior,
  behaviorOf,
  DEFAULT_BEHAVIOR,
  HPA_SYNC_PERIOD_SECONDS,
  HPA_TOLERANCE,
  type PodSample,
  replicasForUtilization,
  type ScaleEvent,
  scaleDownLimit,
  scaleUpLimit,
} from './hpa-algorithm.ts';
export { HorizontalPodAutoscalerController } from './hpa-controller.ts';
export { LiveUsage, type PodProcessGroups } from './live-usage.ts';
