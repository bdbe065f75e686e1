/**
 * The "faulty build" of the api, switched on by configuration: a delay added to every /api request
 * and a fraction of them answered with 500. A canary of such a build is what the rollout must abort.
 */
export interface FaultInjector {
  /** Resolves after the configured latency; then true when this request must fail. */
  apply(): Promise<boolean>;
}

export function faultInjector(
  errorRate: number,
  latencyMs: number,
  random: () => number = Math.random,
): FaultInjector {
  return {
    async apply() {
      if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
      return errorRate > 0 && random() < errorRate;
    },
  };
}
