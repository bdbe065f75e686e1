import { describe, expect, it } from 'vitest';
import * as topology from '../../../system/topology/topology.ts';
import * as scheduler from '../../../twin/scheduler/index.ts';

describe('public surface', () => {
  it('pins the scheduler exports', () => {
    expect(Object.keys(scheduler).sort()).toEqual([
      'DEFAULT_SCHEDULER_NAME',
      'NO_NODES_AVAILABLE',
      'SYSTEM_DEFAULT_CONSTRAINTS',
      'SchedulerController',
      'containerRequests',
      'diagnose',
      'fitErrorMessage',
      'insufficientResources',
      'isAssigned',
      'isTerminal',
      'matchesNodeSelectorRequirement',
      'matchesNodeSelectorTerm',
      'matchesNodeSelectorTerms',
      'needsScheduling',
      'nodeInfos',
      'podMatchesNodeSelectorAndAffinity',
      'podRequests',
      'schedule',
      'termMatches',
      'toleratesTaint',
      'untoleratedTaint',
    ]);
  });

  it('pins the topology exports', () => {
    expect(Object.keys(topology).sort()).toEqual(['loadTopology', 'parseTopology', 'topologyToNodes']);
  });
});
