/** What a drain did, as `kubectl drain --ignore-daemonsets` would report it. */
export interface DrainReport {
  node: string;
  evicted: string[];
  /** DaemonSet pods left on the node, as `kubectl drain --ignore-daemonsets` leaves them. */
  ignored: string[];
  /** Eviction attempts a PodDisruptionBudget refused (429). */
  refused: number;
  /** Pods still on the node when the timeout ran out. */
  remaining: string[];
  /** Control-plane milliseconds the drain took. */
  durationMs: number;
}
