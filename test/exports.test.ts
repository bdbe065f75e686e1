import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The user-facing surface, pinned (zx's test/export.test.js, testcontainers' index.ts): what scenarios
 * import (harness/index.ts, the scenario kit) and the Environment API (env/environment.ts). A change
 * here changes what every scenario may use: make it on purpose, and update this list with it.
 */
const root = path.resolve(import.meta.dirname, '..');

/** Every name a module exports, types included, as the TypeScript checker sees them. */
function exportedNames(file: string): string[] {
  const abs = path.join(root, file);
  const program = ts.createProgram([abs], {
    allowImportingTsExtensions: true,
    noEmit: true,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    strict: true,
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(abs)!)!;
  return checker
    .getExportsOfModule(module)
    .map((s) => s.getName())
    .sort();
}

const HARNESS_KIT = [
  'Address',
  'Check',
  'ClusterNode',
  'ClusterWriter',
  'GateVerdict',
  'LoadResult',
  'LostWrites',
  'Measurement',
  'NumberedWriter',
  'PgTarget',
  'PodAddresses',
  'ReplicationMonitor',
  'RunOptions',
  'ScenarioContext',
  'ScenarioOptions',
  'SentinelTarget',
  'SentinelWriter',
  'ShardWindow',
  'SteadyTraffic',
  'SteadyTrafficOptions',
  'TrafficWindow',
  'TwinError',
  'TwinErrorCode',
  'VersionCounts',
  'WaitOptions',
  'WaitProgress',
  'WriterWindow',
  'ask',
  'clusterInfo',
  'clusterNodes',
  'describeFailures',
  'isTwinError',
  'judgeGate',
  'missingDataServices',
  'onEachSentinel',
  'runOptionsFromWorker',
  'runProfilesOn',
  'scenario',
  'secretPgTarget',
  'sentinelMaster',
  'sleep',
  'targetUrl',
  'waitForNewMaster',
  'waitForSentinelReplicas',
  'waitUntil',
];

const ENVIRONMENT_API = [
  'AwsEndpoint',
  'ChaosInjection',
  'Clock',
  'ConnectCheck',
  'ConnectResult',
  'DrainReport',
  'Environment',
  'EnvironmentBackend',
  'EnvironmentOptions',
  'EvictionAnswer',
  'FAULT_EVENTS',
  'FaultEvent',
  'Faults',
  'KubeApi',
  'KubeObject',
  'KubeWaitOptions',
  'KubeWatchEvent',
  'LabelSelector',
  'LoadControl',
  'Network',
  'ObjectRef',
  'TimelineEvent',
  'TrafficStats',
  'WatchEventType',
];

describe('the user-facing surface', () => {
  it('harness/index.ts, the scenario kit, exports exactly these names', async () => {
    expect(exportedNames('harness/index.ts')).toEqual(HARNESS_KIT);
    // The values among them are really there at run time.
    const kit = await import('../harness/index.ts');
    for (const name of Object.keys(kit)) expect(HARNESS_KIT).toContain(name);
    expect(typeof kit.scenario).toBe('function');
    expect(typeof kit.waitUntil).toBe('function');
  }, 120_000);

  it('env/environment.ts, the Environment API, exports exactly these names', async () => {
    expect(exportedNames('env/environment.ts')).toEqual(ENVIRONMENT_API);
    const api = await import('../env/environment.ts');
    expect(Object.keys(api)).toEqual(['FAULT_EVENTS']);
    expect(api.FAULT_EVENTS).toEqual([
      'PodKilled',
      'NodeStopped',
      'NodeStarted',
      'NodePartitioned',
      'ZoneFailed',
      'ZoneRestored',
      'NodeCordoned',
      'NodeUncordoned',
      'NodeDrain',
      'NodeDrained',
      'LoadSet',
      'ChaosInjected',
      'ChaosRecovered',
    ]);
  }, 120_000);
});
