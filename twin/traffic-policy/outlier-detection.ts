import type { OutlierDetectionPolicy } from './route-table.ts';

interface HostState {
  consecutive5xx: number;
  consecutiveGateway: number;
  /** performance.now() until which the host is ejected; 0 when it is not. */
  ejectedUntil: number;
  timesEjected: number;
}

/**
 * Envoy's outlier detection (cluster.v3 OutlierDetection), the consecutive-error detectors: after
 * consecutive_5xx answers of 5xx (locally originated failures, connect failures, resets and timeouts,
 * count as 5xx) or consecutive_gateway_failure answers of 502/503/504, the host is ejected for
 * base_ejection_time × the number of times it was ejected, unless max_ejection_percent of the
 * cluster's hosts are ejected already (at least one host may always be ejected). Ejected hosts return
 * at the first interval tick after their time is up. (Istio's minHealthPercent is the cluster's
 * healthy_panic_threshold, applied where hosts are chosen: upstream-cluster.ts.)
 */
export class OutlierDetector {
  private readonly hosts = new Map<string, HostState>();

  constructor(
    readonly policy: OutlierDetectionPolicy,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Records how a request to `host` ("ip:port") ended; `status` 0 for a locally originated failure. */
  record(host: string, status: number, clusterSize: number): void {
    const h = this.state(host);
    if (this.isEjected(host)) return;
    const is5xx = status === 0 || status >= 500;
    const isGateway = status === 0 || status === 502 || status === 503 || status === 504;
    h.consecutive5xx = is5xx ? h.consecutive5xx + 1 : 0;
    h.consecutiveGateway = isGateway ? h.consecutiveGateway + 1 : 0;
    const p = this.policy;
    const trip =
      (p.consecutive5xx > 0 && h.consecutive5xx >= p.consecutive5xx) ||
      (p.consecutiveGatewayFailure > 0 && h.consecutiveGateway >= p.consecutiveGatewayFailure);
    if (trip && this.mayEject(clusterSize)) {
      h.timesEjected++;
      const until = this.now() + p.baseEjectionTimeMs * h.timesEjected;
      // Ejected hosts come back on the detector's interval tick, not at the instant their time ends.
      h.ejectedUntil = Math.ceil(until / p.intervalMs) * p.intervalMs;
      h.consecutive5xx = 0;
      h.consecutiveGateway = 0;
    }
  }

  isEjected(host: string): boolean {
    const h = this.hosts.get(host);
    if (!h || h.ejectedUntil === 0) return false;
    if (this.now() >= h.ejectedUntil) {
      h.ejectedUntil = 0;
      return false;
    }
    return true;
  }

  ejectedCount(): number {
    let n = 0;
    for (const host of this.hosts.keys()) if (this.isEjected(host)) n++;
    return n;
  }

  private mayEject(clusterSize: number): boolean {
    const ejected = this.ejectedCount();
    if (clusterSize <= 0) return false;
    if (ejected === 0) return true;
    return ((ejected + 1) / clusterSize) * 100 <= this.policy.maxEjectionPercent;
  }

  private state(host: string): HostState {
    let h = this.hosts.get(host);
    if (!h) {
      h = { consecutive5xx: 0, consecutiveGateway: 0, ejectedUntil: 0, timesEjected: 0 };
      this.hosts.set(host, h);
    }
    return h;
  }
}
