import type { Environment } from '../../env/environment.ts';
import type { RunAttachment } from '../report/run-record.ts';
import { findChromium } from './browser.ts';
import type { JourneyOutcome, JourneyRunner } from './journey-runner.ts';
import { journeyOf } from './journeys.ts';

export interface JourneySummary {
  /** Why no journey ran (no Chromium), when none did. */
  skipped?: string;
  runs: number;
  ok: number;
  successRate: number | null;
  /** p95 of the time to interactive, real ms. */
  timeToInteractiveP95: number | null;
  consoleErrors: number;
  /** The first distinct console errors, as the browser printed them. */
  consoleErrorSamples: string[];
  /** What the people whose journeys failed saw, with their screenshots and traces. */
  failures: RunAttachment[];
}

/**
 * A person using the system throughout a scenario: the journey runs again and again, one at a time,
 * until stopped, each outcome kept with the control-plane time it started.
 */
export class JourneyLoop {
  private readonly outcomes: Array<{ t: number; end: number; outcome: JourneyOutcome }> = [];
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  /** The journey in progress: its start (control-plane ms) and its end. */
  private inFlight: { t: number; done: Promise<void> } | undefined;
  readonly skipped: string | undefined;

  constructor(
    private readonly runner: JourneyRunner,
    private readonly env: Environment,
    system: string,
    private readonly name: string,
    private readonly options: { everyMs?: number; timeoutMs?: number } = {},
  ) {
    try {
      findChromium();
      journeyOf(system, name);
    } catch (err) {
      this.skipped = (err as Error).message;
      return;
    }
    const journey = journeyOf(system, name);
    this.running = (async () => {
      const url = await env.net.ingressUrl(journey.ingress);
      while (!this.stopped) {
        const t = this.env.clock.now();
        const run = this.runner.run(journey, url, this.options.timeoutMs ?? 15_000).catch(
          (err: Error): JourneyOutcome => ({
            ok: false,
            timeToInteractiveMs: null,
            durationMs: 0,
            consoleErrors: [],
            error: err.message,
          }),
        );
        this.inFlight = { t, done: run.then(() => {}) };
        const outcome = await run;
        this.outcomes.push({ t, end: this.env.clock.now(), outcome });
        this.inFlight = undefined;
        if (!this.stopped) await new Promise((r) => setTimeout(r, this.options.everyMs ?? 1000));
      }
    })();
  }

  /** Ends the loop (after the journey in progress) and sums up what it saw since `since` (control-plane ms). */
  async stop(startedAt = 0): Promise<JourneySummary> {
    this.stopped = true;
    await this.running.catch(() => {});
    return this.summary(startedAt);
  }

  /**
   * What the journeys that overlapped [from, to] (control-plane ms) saw: ended at or after `from` and
   * started at or before `to`. A journey still in progress that started by `to` is waited for, at most
   * `waitMs` real ms (it takes seconds: without the wait a short window often has none that ended).
   */
  async during(from: number, to: number, waitMs = 20_000): Promise<JourneySummary> {
    const current = this.inFlight;
    if (current && current.t <= to)
      await Promise.race([current.done, new Promise((r) => setTimeout(r, waitMs).unref())]);
    return this.summary(0, from, to);
  }

  /**
   * What the journeys that ended at or after `since` (and started at or before `until`, control-plane
   * ms) saw; `t` relative to `startedAt`.
   */
  summary(startedAt = 0, since = 0, until = Number.POSITIVE_INFINITY): JourneySummary {
    const all = this.outcomes.filter((o) => o.end >= since && o.t <= until);
    const ok = all.filter((o) => o.outcome.ok).length;
    const tti = all
      .map((o) => o.outcome.timeToInteractiveMs)
      .filter((v): v is number => v !== null)
      .sort((a, b) => a - b);
    return {
      ...(this.skipped ? { skipped: this.skipped } : {}),
      runs: all.length,
      ok,
      successRate: all.length > 0 ? ok / all.length : null,
      timeToInteractiveP95:
        tti.length > 0 ? tti[Math.min(tti.length - 1, Math.ceil(0.95 * tti.length) - 1)]! : null,
      consoleErrors: all.reduce((s, o) => s + o.outcome.consoleErrors.length, 0),
      consoleErrorSamples: [...new Set(all.flatMap((o) => o.outcome.consoleErrors))].slice(0, 3),
      failures: all
        .filter((o) => !o.outcome.ok)
        .map((o) => {
          const files = o.outcome.attachments ?? [];
          const screenshot = files.find((f) => f.endsWith('.png'));
          const trace = files.find((f) => f.endsWith('.zip'));
          return {
            title: `${this.name} journey: ${o.outcome.error ?? 'failed'}`,
            t: o.t - startedAt,
            ...(screenshot ? { screenshot } : {}),
            ...(trace ? { trace } : {}),
          };
        }),
    };
  }
}
