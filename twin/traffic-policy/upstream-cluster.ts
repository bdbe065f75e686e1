import { Agent } from 'node:http';
import { CircuitBreaker } from './circuit-breaker.ts';
import { OutlierDetector } from './outlier-detection.ts';
import type { ClusterSpec, Upstream } from './route-table.ts';

/** A cluster at run time: its hosts, round-robin cursor, circuit breaker, outlier detector and connection pools. */
export class UpstreamCluster {
  readonly breaker: CircuitBreaker;
  readonly outlier: OutlierDetector | undefined;
  private next = 0;
  private readonly agents = new Map<string, Agent>();

  constructor(readonly spec: ClusterSpec) {
    this.breaker = new CircuitBreaker(spec.thresholds);
    this.outlier = spec.outlier ? new OutlierDetector(spec.outlier) : undefined;
  }

  /**
   * The next host, round-robin, among those not ejected; hosts in `avoid` (tried before) only when no
   * other is left. Below the panic threshold of healthy hosts, every host is used (Envoy panic mode).
   */
  pick(avoid: ReadonlySet<string> = new Set()): Upstream | undefined {
    const all = this.spec.hosts();
    if (all.length === 0) return undefined;
    let healthy = this.outlier ? all.filter((h) => !this.outlier!.isEjected(key(h))) : all;
    if ((healthy.length / all.length) * 100 < this.spec.panicThresholdPercent) healthy = all;
    if (healthy.length === 0) return undefined;
    const fresh = healthy.filter((h) => !avoid.has(key(h)));
    const pool = fresh.length > 0 ? fresh : healthy;
    const host = pool[this.next % pool.length]!;
    this.next = (this.next + 1) % 1_000_000;
    return host;
  }

  /** Records how a request to `host` ended (status 0: no answer) for outlier detection. */
  record(host: Upstream, status: number): void {
    this.outlier?.record(key(host), status, this.spec.hosts().length);
  }

  agentFor(host: Upstream): Agent {
    const k = key(host);
    let agent = this.agents.get(k);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' });
      this.agents.set(k, agent);
    }
    return agent;
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}

export function key(h: Upstream): string {
  return `${h.ip}:${h.port}`;
}
