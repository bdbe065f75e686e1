/** A reachability check: can this pod open a TCP connection to that pod or Service port? */
export interface ConnectCheck {
  from: { namespace: string; pod: string };
  /** A pod (its address) or a Service (its cluster IP, as a client in the pod would use it). */
  to: { namespace: string; pod: string } | { namespace: string; service: string };
  /** A container port (number or name) of the pod, or a port (number or name) of the Service. */
  port: number | string;
  /** How long the attempt may take (real milliseconds, default 2000): a dropped connection times out after it. */
  timeoutMs?: number;
}

/**
 * What a real connection attempt gave: `connected`, `refused` (nothing listens, or the connection was
 * reset), or `timed-out` (no answer: what a connection NetworkPolicy denies does, its SYN dropped).
 */
export interface ConnectResult {
  outcome: 'connected' | 'refused' | 'timed-out';
  elapsedMs: number;
  /** What the attempt was (command or addresses) and, where the environment knows, why. */
  detail: string;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 2000;
