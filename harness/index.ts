/**
 * The scenario kit: everything a scenario imports besides the Environment API (env/environment.ts).
 * Listed by name so the surface scenarios depend on is visible in one place and pinned by
 * test/exports.test.ts; change it on purpose, not by accident.
 */

export { isTwinError, TwinError, type TwinErrorCode } from '../core/errors.ts';
export { type Check, sleep, type WaitOptions, type WaitProgress, waitUntil } from '../core/wait.ts';
export { NumberedWriter, type PgTarget, ReplicationMonitor, secretPgTarget } from './data/pg-writer.ts';
export { PodAddresses } from './data/pod-addresses.ts';
export {
  type Address,
  ask,
  type ClusterNode,
  ClusterWriter,
  clusterInfo,
  clusterNodes,
  type ShardWindow,
} from './data/redis-cluster-writer.ts';
export {
  type LostWrites,
  onEachSentinel,
  type SentinelTarget,
  SentinelWriter,
  sentinelMaster,
  type WriterWindow,
  waitForNewMaster,
  waitForSentinelReplicas,
} from './data/redis-writer.ts';
export { missingDataServices } from './data/requirements.ts';
export { runProfilesOn, targetUrl } from './gate/gate.ts';
export { describeFailures, type GateVerdict, judgeGate } from './gate/verdict.ts';
export type { LoadResult } from './load/engine.ts';
export { type RunOptions, runOptionsFromWorker } from './scenario/run-options.ts';
export {
  type Measurement,
  type ScenarioContext,
  type ScenarioOptions,
  scenario,
} from './scenario/scenario.ts';
export {
  SteadyTraffic,
  type SteadyTrafficOptions,
  type TrafficWindow,
  type VersionCounts,
} from './traffic/steady-traffic.ts';
