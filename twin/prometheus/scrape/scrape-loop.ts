import { createHash } from 'node:crypto';
import type { Clock } from '../../../kube/clock.ts';
import { SCRAPE_PROTOCOL_HEADERS, type ScrapeConfig } from '../config/prometheus-config.ts';
import { labelsKey } from '../labels.ts';
import type { Head, MemSeries } from '../tsdb/head.ts';
import { formatOf, parseExposition } from './exposition-parser.ts';
import { reportLabels, sampleLabels } from './sample-labels.ts';
import { scrapeHttp } from './scrape-http.ts';
import type { ScrapeTarget } from './scrape-target.ts';

/**
 * One target's scrape loop (scrape/scrape.go scrapeLoop): a scrape every interval at a fixed
 * offset within it (from the target's hash, so targets spread out), stored with the scheduled
 * timestamp (Prometheus aligns scrape timestamps to the schedule); the exposition's own
 * timestamps with honor_timestamps; staleness markers for the series a scrape no longer returns,
 * for all of them when a scrape fails, and — two intervals after the loop stops — when the target
 * is gone; and the up, scrape_duration_seconds, scrape_samples_scraped,
 * scrape_samples_post_metric_relabeling and scrape_series_added series.
 *
 * Twin simplification: the interval is control-plane time, the scrape timeout is applied in real
 * time (as the twin's probe timeouts are), and scrape_duration_seconds is real seconds.
 */
export type TargetHealth = 'unknown' | 'up' | 'down';

export interface ScrapeLoopOptions {
  head: Head;
  clock: Clock;
  config: ScrapeConfig;
  log(message: string): void;
}

const REPORT_SERIES = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
] as const;

/** The Accept header of a scrape (scrape.go acceptHeader): weights 0.5, 0.4, … then any type. */
export function acceptHeader(protocols: readonly string[]): string {
  let weight = Object.keys(SCRAPE_PROTOCOL_HEADERS).length + 1;
  const parts = protocols.map((p) => `${SCRAPE_PROTOCOL_HEADERS[p]};q=0.${weight--}`);
  return [...parts, `*/*;q=0.${weight}`].join(',');
}

export class ScrapeLoop {
  health: TargetHealth = 'unknown';
  lastError = '';
  /** Control-plane ms of the last scrape. */
  lastScrape: number | undefined;
  lastScrapeDurationSeconds = 0;
  /** Set while the job exceeds its target_limit: every scrape fails with it. */
  forcedError: string | undefined;
  private seen = new Map<string, MemSeries>();
  private readonly report: Map<string, MemSeries>;
  private cancelTimer: (() => void) | undefined;
  private stopped = false;
  private lastScheduled: number | undefined;
  private readonly offsetMs: number;

  constructor(
    readonly target: ScrapeTarget,
    private readonly options: ScrapeLoopOptions,
  ) {
    const hash = createHash('sha256').update(target.key).digest().readUInt32BE(0);
    this.offsetMs = hash % target.intervalMs;
    this.report = new Map(
      REPORT_SERIES.map((name) => [
        name,
        options.head.getOrCreate(reportLabels(name, target.publicLabels)).series,
      ]),
    );
  }

  start(): void {
    this.schedule(this.nextSlot(this.options.clock.now()));
  }

  /** The first slot of this target's schedule at or after t. */
  private nextSlot(t: number): number {
    const interval = this.target.intervalMs;
    return Math.ceil((t - this.offsetMs) / interval) * interval + this.offsetMs;
  }

  private schedule(at: number): void {
    if (this.stopped) return;
    this.cancelTimer = this.options.clock.after(
      Math.max(0, at - this.options.clock.now()),
      () => void this.tick(at),
    );
  }

  private async tick(scheduled: number): Promise<void> {
    if (this.stopped) return;
    this.lastScheduled = scheduled;
    await this.scrapeOnce(scheduled);
    // A scrape slower than the interval skips the slots it overran, as Prometheus' ticker does.
    const next = Math.max(scheduled + this.target.intervalMs, this.nextSlot(this.options.clock.now()));
    this.schedule(next);
  }

  async scrapeOnce(scheduled: number): Promise<void> {
    const { head, config } = this.options;
    const started = performance.now();
    let error: string | undefined;
    let scraped = 0;
    let postRelabel = 0;
    let added = 0;
    const nextSeen = new Map<string, MemSeries>();
    try {
      if (this.forcedError) throw new Error(this.forcedError);
      const res = await scrapeHttp({
        url: this.target.url,
        accept: acceptHeader(config.scrapeProtocols),
        timeoutMs: this.target.timeoutMs,
        compression: config.enableCompression,
        bodySizeLimit: config.bodySizeLimit,
        http: config.http,
      });
      if (this.stopped) return;
      const parsed = parseExposition(res.body, formatOf(res.contentType));
      scraped = parsed.length;
      const pending: Array<{
        labels: ReturnType<typeof sampleLabels>;
        t: number;
        v: number;
        tracked: boolean;
      }> = [];
      for (const s of parsed) {
        const labels = sampleLabels(
          s.labels,
          this.target.publicLabels,
          config.honorLabels,
          config.metricRelabelConfigs,
        );
        if (!labels) continue;
        if (config.labelLimit > 0 && labels.length > config.labelLimit)
          throw new Error(
            `label_limit exceeded (metric: ${labels.find((l) => l.name === '__name__')?.value.slice(0, 50) ?? ''}, number of labels: ${labels.length}, limit: ${config.labelLimit})`,
          );
        for (const l of labels) {
          if (config.labelNameLengthLimit > 0 && l.name.length > config.labelNameLengthLimit)
            throw new Error(
              `label_name_length_limit exceeded (label name: ${l.name.slice(0, 50)}, limit: ${config.labelNameLengthLimit})`,
            );
          if (config.labelValueLengthLimit > 0 && l.value.length > config.labelValueLengthLimit)
            throw new Error(
              `label_value_length_limit exceeded (label value: ${l.value.slice(0, 50)}, limit: ${config.labelValueLengthLimit})`,
            );
        }
        const explicit = config.honorTimestamps && s.timestamp !== undefined;
        pending.push({
          labels,
          t: explicit ? s.timestamp! : scheduled,
          v: s.value,
          tracked: !explicit || config.trackTimestampsStaleness,
        });
      }
      postRelabel = pending.length;
      if (config.sampleLimit > 0 && postRelabel > config.sampleLimit)
        throw new Error('sample limit exceeded');
      for (const p of pending) {
        const { series, created } = head.getOrCreate(p.labels!);
        if (nextSeen.has(series.key) && p.tracked) continue; // a duplicate series in one scrape
        if (created) added++;
        head.append(series, p.t, p.v);
        if (p.tracked) nextSeen.set(series.key, series);
      }
    } catch (err) {
      error = (err as Error).message;
    }
    if (this.stopped) return;
    const duration = (performance.now() - started) / 1000;
    // Series the last scrape had and this one has not (all of them after a failure) go stale.
    for (const [key, series] of this.seen)
      if (!nextSeen.has(key)) head.append(series, scheduled, Number.NaN, true);
    this.seen = error === undefined ? nextSeen : new Map();
    const up = error === undefined ? 1 : 0;
    const values: Record<(typeof REPORT_SERIES)[number], number> = {
      up,
      scrape_duration_seconds: duration,
      scrape_samples_scraped: up ? scraped : 0,
      scrape_samples_post_metric_relabeling: up ? postRelabel : 0,
      scrape_series_added: up ? added : 0,
    };
    for (const name of REPORT_SERIES) head.append(this.report.get(name)!, scheduled, values[name]);
    this.health = up ? 'up' : 'down';
    this.lastError = error ?? '';
    this.lastScrape = scheduled;
    this.lastScrapeDurationSeconds = duration;
    if (error) this.options.log(`scrape of ${this.target.url} failed: ${error}`);
  }

  /**
   * Stops scraping. When the target is gone (not on shutdown), its series go stale at the time its
   * next scrape would have been, written just over two intervals later (endOfRunStaleness): a
   * target that comes back meanwhile has newer samples, and the markers are then out of order.
   */
  stop(endOfRun: boolean): void {
    this.stopped = true;
    this.cancelTimer?.();
    if (!endOfRun || this.lastScheduled === undefined) return;
    const { clock, head } = this.options;
    const staleTime = this.lastScheduled + this.target.intervalMs;
    const writeAt = staleTime + this.target.intervalMs + this.target.intervalMs / 10;
    const seen = [...this.seen.values(), ...this.report.values()];
    clock.after(Math.max(0, writeAt - clock.now()), () => {
      for (const series of seen) head.append(series, staleTime, Number.NaN, true);
    });
  }

  get key(): string {
    return this.target.key;
  }

  get labelsKey(): string {
    return labelsKey(this.target.publicLabels);
  }
}
