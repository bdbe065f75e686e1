import { TwinError } from '../../core/errors.ts';
import type { RetryPolicy } from './route-table.ts';

/**
 * The retry_on conditions of Envoy's router (x-envoy-retry-on and x-envoy-retry-grpc-on), which are
 * also what Istio's HTTPRetry.retryOn accepts.
 */
export const RETRY_ON = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'envoy-ratelimited',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

/** The gRPC status codes of the gRPC retry conditions (grpc-status in the response headers). */
const GRPC_RETRY_ON: Record<string, number> = {
  cancelled: 1,
  'deadline-exceeded': 4,
  'resource-exhausted': 8,
  internal: 13,
  unavailable: 14,
};

/** How one try ended. */
export type TryOutcome =
  | { kind: 'response'; status: number; headers: Record<string, string | string[] | undefined> }
  /** No connection could be opened (refused, connect timeout). */
  | { kind: 'connect-failure' }
  /** The connection closed or was reset before response headers. */
  | { kind: 'reset' }
  /** The per-try timeout passed before response headers. */
  | { kind: 'per-try-timeout' };

/** Parses a retry_on list; an unknown condition is refused, naming `field`. */
export function parseRetryOn(text: string, field: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.split(',')) {
    const c = raw.trim();
    if (c === '') continue;
    // Istio also takes bare HTTP status codes in retryOn ("503"): they become retriable_status_codes.
    if (/^\d{3}$/.test(c)) {
      out.add(c);
      continue;
    }
    if (!RETRY_ON.has(c))
      throw new TwinError(
        'TWIN_TRAFFIC_POLICY_INVALID',
        `${field}: unknown retry condition "${c}" (Envoy's router knows ${[...RETRY_ON].join(', ')})`,
      );
    out.add(c);
  }
  return out;
}

/**
 * Whether Envoy's router retries after this try (route.v3 RetryPolicy, "x-envoy-retry-on"):
 * 5xx covers any 5xx answer and no answer at all (reset, connect failure, timeout); gateway-error
 * 502/503/504 and no answer; reset and connect-failure what they say; retriable-4xx 409;
 * retriable-status-codes the listed codes; the gRPC conditions the grpc-status of the answer.
 * refused-stream is an HTTP/2 stream error, which HTTP/1.1 upstreams cannot produce.
 */
export function shouldRetry(policy: RetryPolicy, outcome: TryOutcome): boolean {
  const on = policy.retryOn;
  if (outcome.kind !== 'response') {
    if (on.has('5xx') || on.has('gateway-error')) return true;
    if (outcome.kind === 'connect-failure') return on.has('connect-failure') || on.has('reset');
    return on.has('reset');
  }
  const s = outcome.status;
  if (on.has('5xx') && s >= 500) return true;
  if (on.has('gateway-error') && (s === 502 || s === 503 || s === 504)) return true;
  if (on.has('retriable-4xx') && s === 409) return true;
  if (
    (on.has('retriable-status-codes') || hasBareCodes(on)) &&
    (policy.retriableStatusCodes.has(s) || on.has(String(s)))
  )
    return true;
  if (on.has('envoy-ratelimited') && outcome.headers['x-envoy-ratelimited'] !== undefined) return true;
  const grpc = outcome.headers['grpc-status'];
  if (typeof grpc === 'string') {
    const code = Number(grpc);
    for (const [cond, value] of Object.entries(GRPC_RETRY_ON))
      if (on.has(cond) && code === value) return true;
  }
  return false;
}

function hasBareCodes(on: ReadonlySet<string>): boolean {
  for (const c of on) if (/^\d{3}$/.test(c)) return true;
  return false;
}

/**
 * Envoy's back-off before retry n (1-based): fully jittered exponential, a random time in
 * [0, (2^n − 1) × base_interval], capped at max_interval.
 */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxIntervalMs, (2 ** retry - 1) * policy.baseIntervalMs);
  return Math.floor(random() * ceiling);
}

export function retryPolicy(
  p: Partial<RetryPolicy> & Pick<RetryPolicy, 'retryOn' | 'numRetries'>,
): RetryPolicy {
  const base = p.baseIntervalMs ?? 25;
  return {
    retryOn: p.retryOn,
    numRetries: p.numRetries,
    perTryTimeoutMs: p.perTryTimeoutMs ?? 0,
    retriableStatusCodes: p.retriableStatusCodes ?? new Set(),
    baseIntervalMs: base,
    maxIntervalMs: p.maxIntervalMs ?? base * 10,
    otherHosts: p.otherHosts ?? false,
  };
}
