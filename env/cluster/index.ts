/**
 * What other environments build on (k3d: a cluster it creates, then this): the only module of
 * env/cluster/ they may import (biome.json).
 */
export { chaosInjected, chaosTargets, chaosWaitingFor } from './chaos-mesh-status.ts';
export {
  type ClusterConnection,
  ClusterEnvironment,
  type ClusterEnvironmentParts,
  deployOnCluster,
  ingressUrlOf,
} from './cluster-environment.ts';
export { ClusterFaults } from './cluster-faults.ts';
export { CONNECT_PROBE_SCRIPT, connectCheckArgv, connectOutcome } from './connect-check.ts';
export {
  applyOrder,
  deploymentPlanText,
  SystemDeployment,
  workloadsNotReady,
} from './system-deployment.ts';
