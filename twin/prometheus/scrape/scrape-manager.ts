import type { Clock } from '../../../kube/clock.ts';
import type { PrometheusConfig, ScrapeConfig } from '../config/prometheus-config.ts';
import type { Discoverer, TargetGroup, TargetGroupSink } from '../discovery/target-group.ts';
import type { Labels } from '../labels.ts';
import type { Head } from '../tsdb/head.ts';
import { ScrapeLoop } from './scrape-loop.ts';
import { targetsFromGroups } from './scrape-target.ts';

/**
 * The scrape manager: for each job, the target groups its discovery mechanisms report, turned into
 * targets at most every 5 s of control-plane time (--scrape.discovery-reload-interval), one scrape
 * loop per active target; a target that disappears is stopped with end-of-run staleness.
 */
/** Starts a job's discovery mechanisms; group sources must be unique across them. */
export type StartDiscovery = (job: ScrapeConfig, sink: TargetGroupSink) => Discoverer[];

const DISCOVERY_RELOAD_INTERVAL_MS = 5000;

interface Job {
  config: ScrapeConfig;
  groups: Map<string, TargetGroup>;
  loops: Map<string, ScrapeLoop>;
  dropped: Labels[];
  discoverers: Discoverer[];
  syncPending: boolean;
  lastSync: number;
  cancelSync?: () => void;
}

export interface ActiveTarget {
  job: string;
  loop: ScrapeLoop;
}

export class ScrapeManager {
  private jobs = new Map<string, Job>();

  constructor(
    private readonly head: Head,
    private readonly clock: Clock,
    private readonly startDiscovery: StartDiscovery,
    private readonly log: (m: string) => void,
  ) {}

  applyConfig(config: PrometheusConfig): void {
    this.stop(false);
    for (const sc of config.scrapeConfigs) {
      const job: Job = {
        config: sc,
        groups: new Map(),
        loops: new Map(),
        dropped: [],
        discoverers: [],
        syncPending: false,
        lastSync: Number.NEGATIVE_INFINITY,
      };
      this.jobs.set(sc.jobName, job);
      const sink: TargetGroupSink = (groups) => {
        for (const g of groups) job.groups.set(g.source, g);
        this.requestSync(job);
      };
      try {
        job.discoverers = this.startDiscovery(sc, sink);
      } catch (err) {
        this.log(`Cannot create service discovery for job ${sc.jobName}: ${(err as Error).message}`);
      }
      this.requestSync(job);
    }
  }

  private requestSync(job: Job): void {
    if (job.syncPending) return;
    job.syncPending = true;
    const wait = Math.max(0, job.lastSync + DISCOVERY_RELOAD_INTERVAL_MS - this.clock.now());
    job.cancelSync = this.clock.after(wait, () => {
      job.syncPending = false;
      job.lastSync = this.clock.now();
      this.sync(job);
    });
  }

  private sync(job: Job): void {
    if (this.jobs.get(job.config.jobName) !== job) return;
    const { active, dropped, errors } = targetsFromGroups(job.groups.values(), job.config);
    for (const e of errors) this.log(`Creating target failed for job ${job.config.jobName}: ${e.error}`);
    job.dropped = dropped;
    const keep = new Set(active.map((t) => t.key));
    for (const [key, loop] of job.loops) {
      if (keep.has(key)) continue;
      loop.stop(true);
      job.loops.delete(key);
    }
    for (const t of active) {
      if (job.loops.has(t.key)) continue;
      const loop = new ScrapeLoop(t, {
        head: this.head,
        clock: this.clock,
        config: job.config,
        log: this.log,
      });
      job.loops.set(t.key, loop);
      loop.start();
    }
    const limit = job.config.targetLimit;
    const forced =
      limit > 0 && job.loops.size > limit
        ? `target_limit exceeded (number of targets: ${job.loops.size}, limit: ${limit})`
        : undefined;
    for (const loop of job.loops.values()) loop.forcedError = forced;
  }

  activeTargets(): ActiveTarget[] {
    return [...this.jobs.entries()].flatMap(([job, j]) =>
      [...j.loops.values()].map((loop) => ({ job, loop })),
    );
  }

  droppedTargets(): Array<{ job: string; discoveredLabels: Labels }> {
    return [...this.jobs.entries()].flatMap(([job, j]) =>
      j.dropped.map((discoveredLabels) => ({ job, discoveredLabels })),
    );
  }

  jobNames(): string[] {
    return [...this.jobs.keys()];
  }

  /** Stops every loop and discovery; `endOfRun` writes staleness markers for the stopped targets. */
  stop(endOfRun = false): void {
    for (const job of this.jobs.values()) {
      job.cancelSync?.();
      for (const d of job.discoverers) d.stop();
      for (const loop of job.loops.values()) loop.stop(endOfRun);
    }
    this.jobs.clear();
  }
}
