export { fitErrorMessage, NO_NODES_AVAILABLE } from './fit-error.ts';
export type { CycleState, Plugin, Rejection, RejectionCode } from './framework.ts';
export { type PodAffinityTerm, termMatches } from './inter-pod-affinity.ts';
export { isAssigned, isTerminal, type NodeInfo, nodeInfos } from './node-info.ts';
export { insufficientResources } from './node-resources-fit.ts';
export {
  matchesNodeSelectorRequirement,
  matchesNodeSelectorTerm,
  matchesNodeSelectorTerms,
  type NodeSelectorRequirement,
  type NodeSelectorTerm,
  podMatchesNodeSelectorAndAffinity,
} from './node-selector.ts';
export { SYSTEM_DEFAULT_CONSTRAINTS, type TopologySpreadConstraint } from './pod-topology-spread.ts';
export { containerRequests, podRequests, type Resources } from './resource-requests.ts';
export {
  diagnose,
  type NodeScore,
  type ScheduleDiagnosis,
  type ScheduleOptions,
  type ScheduleResult,
  schedule,
} from './schedule.ts';
export { DEFAULT_SCHEDULER_NAME, needsScheduling, SchedulerController } from './scheduler-controller.ts';
export { type Taint, type Toleration, toleratesTaint, untoleratedTaint } from './taint-toleration.ts';
