import type { FaultPolicy } from './route-table.ts';

export interface FaultDecision {
  delayMs: number;
  /** The status the fault filter answers with instead of routing the request. */
  abortStatus?: number;
}

/**
 * Envoy's HTTP fault filter (Istio HTTPFaultInjection): the delay and the abort are drawn independently,
 * each with its own percentage; a delayed request is then routed (or aborted) as usual. The filter runs
 * before the router, so an aborted request never reaches the router's retries, and the delay is not
 * counted against the route's timeout or per-try timeout: that is why Istio documents that timeouts
 * and retries are not in effect for faults injected on the client side.
 */
export function decideFault(
  fault: FaultPolicy | undefined,
  random: () => number = Math.random,
): FaultDecision {
  if (!fault) return { delayMs: 0 };
  const delayMs = fault.delay && random() * 100 < fault.delay.percent ? fault.delay.fixedDelayMs : 0;
  const abort = fault.abort && random() * 100 < fault.abort.percent ? fault.abort.httpStatus : undefined;
  return abort === undefined ? { delayMs } : { delayMs, abortStatus: abort };
}
