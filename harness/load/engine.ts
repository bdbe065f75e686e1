import { setTimeout as sleep } from 'node:timers/promises';
import { Client, type Dispatcher } from 'undici';
import { parseDuration } from '../../load/duration.ts';
import {
  type LoadProfile,
  type RequestSpec,
  scenarioDurationMs,
  scenarioMaxVus,
  validateProfile,
} from '../../load/profile.ts';
import {
  compileThresholds,
  evaluateThresholds,
  LoadMetrics,
  type MetricSummary,
  type ThresholdOutcome,
  type TimelinePoint,
} from './metrics.ts';
import { arrivalTimes, vuTarget } from './schedule.ts';

/**
 * The embedded load engine: runs one load profile against a base URL with k6's executor semantics
 * and reports k6's metrics. Arrival-rate executors are open-model: each iteration has a scheduled
 * start time, its latency is measured from that time (so a stalled server shows in the percentiles
 * instead of slowing the sender: no coordinated omission), and an iteration that finds no free VU is
 * dropped and counted in dropped_iterations while a new VU is allocated, up to maxVUs, as k6 does.
 */

export interface LoadResult {
  profile: string;
  executor: string;
  runner: 'embedded' | 'k6';
  target: string;
  startedAt: string;
  /** Real ms from the first iteration to the end (gracefulStop included). */
  durationMs: number;
  /** k6's end-of-test metrics (handleSummary's data.metrics shape), sub-metrics of thresholds included. */
  metrics: Record<string, MetricSummary>;
  thresholds: ThresholdOutcome[];
  /** Set when an abortOnFail threshold stopped the test. */
  abortedBy?: string;
  /** Per-second points: requests, failures, drops, VUs and latency percentiles. */
  timeline: TimelinePoint[];
  /** http_req_duration by percentile (for the percentile plot). */
  percentiles: Array<{ p: number; ms: number }>;
}

export interface RunOptions {
  /** Base URL the profile's paths are joined to (the target resolved by the environment). */
  baseUrl: string;
  signal?: AbortSignal;
  /** Progress lines (about every 5 s). */
  progress?: (message: string) => void;
}

/** Runs a profile (validated first) and returns its result; never throws for failed requests. */
export async function runProfile(input: LoadProfile | unknown, options: RunOptions): Promise<LoadResult> {
  const profile = validateProfile(input);
  return new EngineRun(profile, options).run();
}

class EngineRun {
  private readonly origin: string;
  /** Each VU's own keep-alive connection, as each k6 VU holds its own (made on first use). */
  private readonly clients: Client[] = [];
  private readonly basePath: string;
  private readonly metrics: LoadMetrics;
  private readonly thresholds;
  private readonly timeoutMs: number;
  private readonly weights: number[];
  private readonly prepared: Prepared[];
  private readonly abort = new AbortController();
  private readonly t0 = performance.now();
  /** Iterations started and not yet finished, and who waits for them all to finish. */
  private inFlight = 0;
  private onIdle: (() => void) | undefined;
  private stopped = false;
  private abortedBy: string | undefined;
  private picks = 0;

  constructor(
    private readonly profile: LoadProfile,
    private readonly options: RunOptions,
  ) {
    const url = new URL(options.baseUrl);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.origin = url.origin;
    this.metrics = new LoadMetrics(
      { ...profile.tags, ...profile.scenario.tags, scenario: 'default' },
      this.t0,
    );
    this.thresholds = compileThresholds(profile.thresholds, (d) => parseDuration(d)!);
    this.timeoutMs = parseDuration(profile.timeout ?? '60s')!;
    let sum = 0;
    this.weights = profile.requests.map((r) => (sum += r.weight));
    this.prepared = profile.requests.map((r) => this.prepare(r));
    // Interrupting the run errors every request in flight at once (their samples are dropped).
    this.abort.signal.addEventListener('abort', () => {
      for (const c of this.clients) c?.destroy(new Error('interrupted')).catch(() => {});
    });
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  get aborted(): boolean {
    return this.abort.signal.aborted;
  }

  async run(): Promise<LoadResult> {
    const s = this.profile.scenario;
    const startedAt = new Date().toISOString();
    const watchdog = this.startWatchdog();
    try {
      if (s.executor === 'constant-arrival-rate' || s.executor === 'ramping-arrival-rate') {
        await this.runArrivalRate(s);
      } else {
        await this.runVus();
      }
      await this.drain(parseDuration(s.gracefulStop ?? '30s')!);
    } finally {
      clearInterval(watchdog);
      this.abort.abort();
      await Promise.all(this.clients.map((c) => c?.destroy().catch(() => {})));
    }
    const elapsed = performance.now() - this.t0;
    const thresholds = evaluateThresholds(this.metrics, this.thresholds, elapsed);
    const keys = new Set([
      'http_reqs',
      'http_req_duration',
      'http_req_duration{expected_response:true}',
      'http_req_failed',
      'iterations',
      'iteration_duration',
      'dropped_iterations',
      'vus',
      'vus_max',
      'data_received',
      'data_sent',
      ...this.thresholds.map((t) => t.key),
    ]);
    const metrics: Record<string, MetricSummary> = {};
    for (const key of keys) metrics[key] = this.metrics.summary(key, elapsed);
    for (const t of thresholds) {
      const m = metrics[t.metric]!;
      m.thresholds = { ...m.thresholds, [t.expression]: { ok: t.ok } };
    }
    const result: LoadResult = {
      profile: this.profile.name,
      executor: s.executor,
      runner: 'embedded',
      target: this.options.baseUrl,
      startedAt,
      durationMs: elapsed,
      metrics,
      thresholds,
      ...(this.abortedBy ? { abortedBy: this.abortedBy } : {}),
      timeline: this.metrics.timeline(),
      percentiles: this.metrics.percentileCurve(),
    };
    this.metrics.destroy();
    return result;
  }

  private stop(): void {
    this.stopped = true;
  }

  /** abortOnFail thresholds are checked every second (k6: every 2 s) after their delayAbortEval. */
  private startWatchdog(): NodeJS.Timeout {
    let lastProgress = this.t0;
    const abortable = this.thresholds.filter((t) => t.abortOnFail);
    return setInterval(() => {
      const elapsed = performance.now() - this.t0;
      const due = abortable.filter((t) => elapsed >= t.delayAbortEvalMs);
      if (due.length && !this.stopped) {
        const failed = evaluateThresholds(this.metrics, due, elapsed).find((o) => !o.ok);
        if (failed) {
          this.abortedBy = `${failed.metric}: ${failed.expression}`;
          this.options.progress?.(
            `${this.profile.name}: threshold ${this.abortedBy} failed, aborting (abortOnFail)`,
          );
          this.stop();
          this.abort.abort();
        }
      }
      if (this.options.progress && performance.now() - lastProgress >= 5000) {
        lastProgress = performance.now();
        const reqs = this.metrics.summary('http_reqs', elapsed).values['count'];
        this.options.progress(
          `${this.profile.name}: ${(elapsed / 1000).toFixed(0)} s, ${reqs} requests, ${this.metrics.vus} VUs, ${this.metrics.dropped} dropped`,
        );
      }
    }, 1000);
  }

  private async runArrivalRate(
    s: Extract<LoadProfile['scenario'], { executor: 'constant-arrival-rate' | 'ramping-arrival-rate' }>,
  ): Promise<void> {
    const maxVus = s.maxVUs ?? s.preAllocatedVUs;
    let allocated = s.preAllocatedVUs;
    let busy = 0;
    // The VUs not running an iteration (each VU keeps its connection between iterations).
    const idle = Array.from({ length: allocated }, (_, i) => allocated - 1 - i);
    const free = (vu: number) => {
      busy--;
      idle.push(vu);
    };
    this.metrics.setVus(allocated, allocated, this.t0);
    const times = arrivalTimes(s);
    let next = times.next();
    const vuTimer = setInterval(() => this.metrics.setVus(allocated, allocated, performance.now()), 1000);
    try {
      while (!next.done && !this.stopped) {
        const now = performance.now() - this.t0;
        while (!next.done && next.value <= now && !this.stopped) {
          const scheduledAt = this.t0 + next.value;
          if (busy < allocated) {
            busy++;
            this.iteration(scheduledAt, idle.pop()!, free);
          } else {
            this.metrics.recordDropped(scheduledAt);
            // k6 starts another VU in the background for the iterations to come, up to maxVUs.
            if (allocated < maxVus) {
              idle.unshift(allocated);
              allocated++;
              this.metrics.setVus(allocated, allocated, performance.now());
            }
          }
          next = times.next();
        }
        if (next.done || this.stopped) break;
        const wait = next.value - (performance.now() - this.t0);
        // A timer, never a busy loop: spinning would take CPU from the system under test on the same
        // machine. Timer lateness (~1 ms) is inside the measured latency, which starts at the schedule.
        await sleep(Math.max(1, Math.min(wait, 50)));
      }
      // The scenario lasts its full duration even when the last iteration started earlier.
      const end = this.t0 + scenarioDurationMs(s);
      while (!this.stopped && performance.now() < end) await sleep(Math.min(50, end - performance.now()));
    } finally {
      clearInterval(vuTimer);
    }
  }

  private async runVus(): Promise<void> {
    const s = this.profile.scenario;
    if (s.executor !== 'constant-vus' && s.executor !== 'ramping-vus') return;
    const total = scenarioDurationMs(s);
    const maxVus = scenarioMaxVus(s);
    const target = s.executor === 'constant-vus' ? () => s.vus ?? 1 : (t: number) => vuTarget(s, t);
    const end = this.t0 + total;
    const vuTimer = setInterval(() => {
      this.metrics.setVus(Math.min(maxVus, target(performance.now() - this.t0)), maxVus, performance.now());
    }, 250);
    this.metrics.setVus(target(0), maxVus, this.t0);
    const sleepMs = (this.profile.sleep ?? 0) * 1000;
    let live = maxVus;
    let allEnded!: () => void;
    const all = new Promise<void>((resolve) => {
      allEnded = resolve;
    });
    // Each VU is a loop of callbacks rather than of awaits: the next iteration starts as soon as the
    // last one ends, with no promise or closure made per request (the engine's cost per request is
    // what limits it against wrk).
    const vu = (index: number) => {
      const loop = () => {
        if (this.stopped || performance.now() >= end) {
          if (--live === 0) allEnded();
          return;
        }
        // A VU above the current target waits (k6 deactivates it; twin simplification: it is never
        // interrupted mid-iteration, so gracefulRampDown is always long enough).
        if (index >= target(performance.now() - this.t0)) {
          setTimeout(loop, 10);
          return;
        }
        this.iteration(performance.now(), index, after);
      };
      const after =
        sleepMs > 0
          ? () => {
              if (this.stopped) loop();
              else setTimeout(loop, sleepMs);
            }
          : loop;
      loop();
    };
    try {
      for (let i = 0; i < maxVus; i++) vu(i);
      let timer: NodeJS.Timeout | undefined;
      const ended = new Promise<void>((r) => {
        timer = setTimeout(r, Math.max(0, end - performance.now()));
      });
      await Promise.race([all, ended]);
      clearTimeout(timer);
      // Iterations still running at the end get gracefulStop to finish, then are interrupted.
      const graceMs = parseDuration(s.gracefulStop ?? '30s')!;
      const grace = sleep(graceMs, undefined, { ref: false }).then(() => 'timeout' as const);
      if ((await Promise.race([all, grace])) === 'timeout') this.abort.abort();
      await all;
    } finally {
      clearInterval(vuTimer);
    }
  }

  /** Waits for iterations in flight up to gracefulStop, then interrupts the rest (not counted, as in k6). */
  private async drain(gracefulStopMs: number): Promise<void> {
    if (this.inFlight === 0) return;
    const all = new Promise<void>((resolve) => {
      this.onIdle = resolve;
    });
    const timer = sleep(gracefulStopMs, undefined, { ref: false }).then(() => 'timeout' as const);
    if ((await Promise.race([all, timer])) === 'timeout') this.abort.abort();
    await all;
  }

  /** Picks the request of the mix by weight with a low-discrepancy sequence (deterministic, evenly spread). */
  private pick(): number {
    if (this.weights.length === 1) return 0;
    const total = this.weights.at(-1)!;
    const x = ((this.picks++ * 0.6180339887498949) % 1) * total;
    const i = this.weights.findIndex((w) => x < w);
    return i < 0 ? this.weights.length - 1 : i;
  }

  /**
   * One iteration: one request of the mix, timed from `startAt` (the scheduled start for arrival
   * rates) on VU `vu`'s connection; `done` runs when it has ended, interrupted or not.
   */
  private iteration(startAt: number, vu: number, done: (vu: number) => void): void {
    const index = this.pick();
    if (this.aborted) {
      done(vu);
      return;
    }
    this.inFlight++;
    // undici's dispatch API on one Client per VU: no stream objects per request and no pool to
    // search for a free connection, which keeps the client's cost per request low.
    let client = this.clients[vu];
    if (!client) {
      client = new Client(this.origin, { pipelining: 1, keepAliveTimeout: 30_000 });
      this.clients[vu] = client;
    }
    client.dispatch(this.prepared[index]!.options, new Exchange(this, index, vu, startAt, done));
  }

  /** Called by an Exchange when its request has ended (interrupted: by gracefulStop or an abort). */
  finish(x: Exchange, interrupted: boolean): void {
    // Interrupted by gracefulStop/abort: not a sample (k6 drops interrupted iterations' samples).
    if (!interrupted) {
      const end = performance.now();
      const ms = end - x.startAt;
      const p = this.prepared[x.index]!;
      const key = x.index * 1000 + x.status;
      this.metrics.dataReceived += x.bytes;
      this.metrics.dataSent += p.sent;
      if (!this.metrics.hasGroup(key)) this.metrics.addGroup(key, requestTags(p.spec, x.status));
      this.metrics.recordRequest(key, x.status, ms, end);
      this.metrics.recordIteration(ms);
    }
    if (--this.inFlight === 0 && this.onIdle) this.onIdle();
    x.done(x.vu);
  }

  /** The dispatch options of a request of the mix, built once (the hot path only reads them). */
  private prepare(req: RequestSpec): Prepared {
    const body =
      req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    const headers: Record<string, string> = { ...req.headers };
    if (body !== undefined && typeof req.body === 'object' && !headers['content-type']) {
      headers['content-type'] = 'application/json';
    }
    const path = this.basePath + req.path;
    return {
      spec: req,
      options: {
        path,
        method: req.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      },
      sent: path.length + (body?.length ?? 0) + 64,
    };
  }
}

interface Prepared {
  spec: RequestSpec;
  options: Dispatcher.DispatchOptions;
  /** Bytes sent per request (approximate: request line, headers and body). */
  sent: number;
}

/** One request in flight: undici's dispatch handler, with prototype methods (nothing made per call). */
class Exchange implements Dispatcher.DispatchHandler {
  status = 0;
  bytes = 0;
  private ended = false;

  constructor(
    private readonly run: EngineRun,
    readonly index: number,
    readonly vu: number,
    readonly startAt: number,
    readonly done: (vu: number) => void,
  ) {}

  /** Present so undici takes this for a new-style handler; nothing to keep from the start. */
  onRequestStart(): void {}

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bytes += chunk.length;
  }

  onResponseEnd(): void {
    this.end(false);
  }

  /** Any error but an interruption (refused, reset, timeout) is a failed request with status 0. */
  onResponseError(): void {
    this.status = 0;
    this.end(this.run.aborted);
  }

  private end(interrupted: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.run.finish(this, interrupted);
  }
}

function requestTags(req: RequestSpec, status: number): Record<string, string> {
  return {
    ...req.tags,
    name: req.name ?? req.path,
    method: req.method,
    status: String(status),
    expected_response: String(status >= 200 && status < 400),
  };
}
