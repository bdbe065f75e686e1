/** Per-version traffic figures over a window, as counted by an environment's proxies. */
export interface TrafficStats {
  requests: number;
  errors: number;
  errorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}
