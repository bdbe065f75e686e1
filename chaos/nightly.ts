/**
 * The nightly chaos suite: what `npm run chaos` (and .github/workflows/nightly-chaos.yml) runs in order,
 * each with its own report directory. An experiment is chaos/experiments/<name>.yaml (Chaos Toolkit's
 * model with Chaos Mesh faults, docs/chaos.md); a scenario is scenarios/<name>.scenario.ts.
 */
export type SuiteEntry = { experiment: string } | { scenario: string; timeScale?: number };

export const nightly: SuiteEntry[] = [
  { experiment: 'api-latency' },
  { experiment: 'api-pod-kill' },
  { scenario: 'canary-rollout' },
  { scenario: 'pipeline-e2e' },
  { scenario: 'az-outage' },
  { scenario: 'node-loss' },
  { scenario: 'gpu-node-loss' },
  { scenario: 'redis-failover' },
  { scenario: 'postgres-failover' },
  { scenario: 'function-autoscale' },
  { scenario: 'controller-loss' },
  { scenario: 'redis-cluster-failover' },
  { scenario: 'istio-fault-injection' },
];
