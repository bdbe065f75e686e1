export { defaultTolerationSeconds } from './default-toleration-seconds.ts';
export {
  cordon,
  type DrainOptions,
  drain,
  type EvictionResult,
  evictPod,
} from './eviction.ts';
export { NodeHeartbeats, type NodePower, type NodeRuntime } from './node-heartbeats.ts';
export { type HeartbeatSource, NodeLifecycleController, readyOf } from './node-lifecycle-controller.ts';
export {
  NODE_LIFECYCLE_DEFAULTS,
  type NodeLifecycleSettings,
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
  ZONE_LABEL,
} from './node-lifecycle-defaults.ts';
export { minTolerationSeconds, TaintEvictionController } from './taint-eviction-controller.ts';
export { TokenBucket } from './token-bucket.ts';
export { computeZoneState, type ZoneState, zoneEvictionQps } from './zone-state.ts';
