/**
 * The nightly chaos run: the scenarios `npm run chaos` (and the nightly CI workflow) run in order,
 * each with its own report directory. Later issues add the AZ-outage and failover scenarios here.
 */
export const nightly: Array<{ scenario: string; timeScale?: number }> = [
  { scenario: 'canary-rollout' },
  { scenario: 'pipeline-e2e' },
  { scenario: 'az-outage' },
  { scenario: 'node-loss' },
  { scenario: 'gpu-node-loss' },
  { scenario: 'redis-failover' },
  { scenario: 'postgres-failover' },
  { scenario: 'redis-cluster-failover' },
];
