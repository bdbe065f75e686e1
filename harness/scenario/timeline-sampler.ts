import type { Environment } from '../../env/environment.ts';
import { seriesKey } from '../report/series.ts';

export interface SampledService {
  namespace: string;
  name: string;
}

export interface SampledWorkload {
  namespace: string;
  /** Label selector (matchLabels) of the workload's pods. */
  selector: Record<string, string>;
  name: string;
}

/**
 * Samples the environment every `intervalMs` of real time for the report's timeline: per version,
 * requests/s, error rate and p95 latency as the environment's proxies counted them over the last
 * interval, and ready pods per workload and version.
 */
export class TimelineSampler {
  readonly samples: Array<{ t: number; series: Record<string, number | null> }> = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly env: Environment,
    private readonly startedAt: number,
    private readonly services: SampledService[],
    private readonly workloads: SampledWorkload[],
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const series: Record<string, number | null> = {};
      const windowMs = this.env.clock.toVirtual(1000);
      for (const svc of this.services) {
        const service = `${svc.namespace}/${svc.name}`;
        for (const [version, stats] of Object.entries(this.env.net.trafficByVersion(svc, windowMs))) {
          series[seriesKey('rps', { service, version })] = stats.requests;
          series[seriesKey('errorRate', { service, version })] = stats.errorRate;
          series[seriesKey('p95', { service, version })] = stats.p95;
        }
      }
      for (const w of this.workloads) {
        const pods = await this.env.kube.list(
          { kind: 'Pod' },
          { namespace: w.namespace, labelSelector: { matchLabels: w.selector } },
        );
        const counts: Record<string, number> = {};
        for (const pod of pods) {
          const ready = (pod.status?.conditions ?? []).some(
            (c: any) => c.type === 'Ready' && c.status === 'True',
          );
          const version = pod.metadata.labels?.['app.kubernetes.io/version'] ?? 'unknown';
          counts[version] = (counts[version] ?? 0) + (ready ? 1 : 0);
        }
        for (const [version, n] of Object.entries(counts))
          series[seriesKey('replicas', { workload: `${w.namespace}/${w.name}`, version })] = n;
      }
      this.samples.push({ t: this.env.clock.now() - this.startedAt, series });
    } finally {
      this.busy = false;
    }
  }
}
