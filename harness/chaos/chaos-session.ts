import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { TwinError } from '../../core/errors.ts';
import type { ChaosInjection, Environment, KubeObject, TimelineEvent } from '../../env/environment.ts';
import { upEnvironment } from '../../env/registry.ts';
import { pinTargets } from '../../kube/chaos-mesh.ts';
import { JourneyRunner } from '../journeys/journey-runner.ts';
import type { RunAttachment, RunMeasurement, RunRecord, RunStep } from '../report/run-record.ts';
import { type SampledService, type SampledWorkload, TimelineSampler } from '../scenario/timeline-sampler.ts';
import { SteadyTraffic, type TrafficWindow } from '../traffic/steady-traffic.ts';
import type { Action, Probe } from './experiment.ts';
import { evaluateProbe, type JourneyOutcome, type ProbeContext } from './probes.ts';
import { describeTolerance, type ProbeValue, withinTolerance } from './tolerance.ts';

export type Phase = 'before' | 'during' | 'method' | 'after' | 'recovery';

/** One evaluation of a probe, as the journal and the report keep it. */
export interface ProbeRecord {
  probe: string;
  phase: Phase;
  /** Control-plane ms since the run started. */
  t: number;
  value: ProbeValue['value'];
  parts?: ProbeValue['parts'];
  /** What the tolerance judged: the value, or the part its `target` names. */
  judged: ProbeValue['value'];
  /** The part the tolerance targets ('latency', 'status', 'body'), if any. */
  target?: string;
  tolerance: string;
  ok: boolean;
  error?: string;
}

export interface SessionOptions {
  env: string;
  system: string;
  overlay?: string;
  timeScale?: number;
  /** reports/<run-id>/: the report, the journal and the environment's work directory. */
  reportDir: string;
  runId: string;
  name: string;
  timeline?: { services?: SampledService[]; workloads?: SampledWorkload[] };
  traffic?: { ingress: string; paths: string[]; rate: number; timeout: number };
  progress: (message: string) => void;
  keep?: boolean;
  /** --env cluster: the existing cluster's kubeconfig and context (--kubeconfig / --context). */
  cluster?: ClusterTarget;
}

/** The existing cluster a run targets with --env cluster (--kubeconfig / --context). */
export interface ClusterTarget {
  kubeconfig?: string;
  context?: string;
  /** The overlay deployed (--overlay; required with --env cluster): it replaces an experiment's own. */
  overlay?: string;
}

/** The kubeconfig and context of a ClusterTarget as EnvironmentOptions spells them (none when absent). */
export function clusterTargetOptions(
  t: ClusterTarget | undefined,
): Pick<ClusterTarget, 'kubeconfig' | 'context'> {
  return {
    ...(t?.kubeconfig !== undefined ? { kubeconfig: t.kubeconfig } : {}),
    ...(t?.context !== undefined ? { context: t.context } : {}),
  };
}

/**
 * What an experiment or a randomized run works through: the environment brought up, the timeline
 * sampled, client traffic if asked, probes judged against their tolerances, actions (Chaos Mesh objects
 * through env.faults.chaos, or the environment's faults) recorded as steps, and every chaos object still
 * in effect recovered before the environment goes down. Writes result.json, junit.xml and report.html.
 */
export class ChaosSession {
  env!: Environment;
  readonly steps: RunStep[] = [];
  readonly measurements: RunMeasurement[] = [];
  readonly probes: ProbeRecord[] = [];
  readonly notes: string[] = [];
  readonly injections = new Map<string, ChaosInjection>();
  readonly attachments: RunAttachment[] = [];
  private readonly journeys: JourneyRunner;
  private readonly events: TimelineEvent[] = [];
  private sampler: TimelineSampler | undefined;
  private traffic: SteadyTraffic | undefined;
  private snapshots: Array<{ at: number; window: TrafficWindow }> = [];
  private snapshotTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private t0 = 0;
  private readonly startedAt = new Date();
  private probeContext!: ProbeContext;

  constructor(readonly options: SessionOptions) {
    this.journeys = new JourneyRunner(options.reportDir);
  }

  /** Control-plane ms since the run started. */
  now(): number {
    return this.env ? this.env.clock.now() - this.t0 : 0;
  }

  async up(): Promise<void> {
    const o = this.options;
    await mkdir(o.reportDir, { recursive: true });
    this.env = await this.step(`bring up ${o.system} on ${o.env}`, () =>
      upEnvironment(o.env, {
        system: o.system,
        overlay: o.cluster?.overlay ?? o.overlay ?? 'local',
        ...(o.timeScale !== undefined ? { timeScale: o.timeScale } : {}),
        workDir: path.join(o.reportDir, 'work'),
        progress: o.progress,
        ...clusterTargetOptions(o.cluster),
      }),
    );
    this.t0 = this.env.clock.now();
    this.unsubscribe = this.env.onEvent((e) => this.events.push(e));
    this.sampler = new TimelineSampler(
      this.env,
      this.t0,
      o.timeline?.services ?? [],
      o.timeline?.workloads ?? [],
    );
    this.sampler.start();
    if (o.traffic) {
      const [namespace, name] = o.traffic.ingress.split('/') as [string, string];
      const url = await this.env.net.ingressUrl({ namespace, name });
      this.traffic = new SteadyTraffic({
        url,
        paths: o.traffic.paths,
        rate: o.traffic.rate,
        timeoutMs: o.traffic.timeout * 1000,
      });
      this.traffic.start();
      this.snapshotTimer = setInterval(() => {
        this.snapshots.push({ at: performance.now(), window: this.traffic!.snapshot() });
        if (this.snapshots.length > 2400) this.snapshots.splice(0, 1200);
      }, 250);
    }
    this.probeContext = {
      env: this.env,
      trafficSnapshots: () => this.snapshots,
      journey: this.journeys.probeFor(this.env, o.system),
    };
  }

  /** A named step: timed, shown, listed in the report; a failure is recorded and rethrown. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const begin = new Date();
    this.options.progress(`▶ ${name}`);
    try {
      const out = await fn();
      this.steps.push({
        name,
        status: 'passed',
        startedAt: begin.toISOString(),
        finishedAt: new Date().toISOString(),
      });
      return out;
    } catch (err) {
      const error = String((err as Error)?.message ?? err);
      this.steps.push({
        name,
        status: 'failed',
        startedAt: begin.toISOString(),
        finishedAt: new Date().toISOString(),
        error,
      });
      this.options.progress(`✘ ${name}: ${error}`);
      throw err;
    }
  }

  event(kind: string, message: string, type: 'Normal' | 'Warning' = 'Normal'): void {
    this.events.push({ t: this.env.clock.now(), kind, message, type });
  }

  /** Evaluates probes once; each evaluation is recorded. Returns whether all held. */
  async check(probes: Probe[], phase: Phase): Promise<{ ok: boolean; records: ProbeRecord[] }> {
    const records: ProbeRecord[] = [];
    for (const p of probes) {
      const v = await evaluateProbe(p.provider, this.probeContext);
      const ok = v.error === undefined && withinTolerance(p.tolerance, v);
      const target =
        p.tolerance && typeof p.tolerance === 'object' && !Array.isArray(p.tolerance)
          ? p.tolerance.target
          : undefined;
      const judged = target ? (v.parts?.[target] ?? null) : v.value;
      const r: ProbeRecord = {
        probe: p.name,
        phase,
        t: this.now(),
        value: v.value,
        judged,
        ...(target ? { target } : {}),
        ...(v.parts ? { parts: v.parts } : {}),
        tolerance: describeTolerance(p.tolerance),
        ok,
        ...(v.error ? { error: v.error } : {}),
      };
      records.push(r);
      this.probes.push(r);
      const files = typeof v.parts?.['attachments'] === 'string' ? v.parts['attachments'].split(' ') : [];
      for (const png of files.filter((f) => f.endsWith('.png')))
        this.attachments.push({
          title: `${phase}: ${p.name}: ${v.parts?.['error'] ?? 'failed'}`,
          t: r.t,
          screenshot: png,
          ...(files.includes(png.replace(/\.png$/, '.trace.zip'))
            ? { trace: png.replace(/\.png$/, '.trace.zip') }
            : {}),
        });
      if (phase !== 'during')
        this.options.progress(
          `  ${ok ? '•' : '✘'} ${phase}: ${p.name} = ${show(judged)}${target ? ` (${target})` : ''}${v.error ? ` (${v.error})` : ''}, expected ${r.tolerance}`,
        );
    }
    return { ok: records.every((r) => r.ok), records };
  }

  /** Runs an action: a Chaos Mesh object injected (or recovered), or one of the environment's faults. */
  async act(a: Action, pin?: (obj: KubeObject) => KubeObject): Promise<string[]> {
    const p = a.provider;
    if (p.type === 'chaos-mesh') {
      if (p.recover) {
        const key = [...this.injections.keys()].find((k) => k.endsWith(`/${p.recover}`));
        const injection = key ? this.injections.get(key) : undefined;
        if (!injection) {
          this.notes.push(`${a.name}: ${p.recover} was not in effect (already recovered)`);
          return [];
        }
        await injection.recover();
        this.injections.delete(key!);
        return injection.targets;
      }
      const object = pin ? pin(p.object as unknown as KubeObject) : (p.object as unknown as KubeObject);
      const injection = await this.env.faults.chaos(object);
      this.injections.set(injection.name, injection);
      this.notes.push(`${a.name}: ${injection.name} on ${injection.targets.join(', ') || 'no pod'}`);
      return injection.targets;
    }
    const args = p.arguments as Record<string, string | number>;
    const need = (k: string): string => {
      const v = args[k];
      if (v === undefined)
        throw new TwinError('TWIN_EXPERIMENT_INVALID', `${a.name}: ${p.func} needs arguments.${k}`);
      return String(v);
    };
    const f = this.env.faults;
    switch (p.func) {
      case 'failZone':
        return f.failZone(need('zone'));
      case 'restoreZone':
        return f.restoreZone(need('zone'));
      case 'stopNode':
        await f.stopNode(need('node'));
        return [need('node')];
      case 'startNode':
        await f.startNode(need('node'));
        return [need('node')];
      case 'partitionNode':
        await f.partitionNode(need('node'));
        return [need('node')];
      case 'cordon':
        await f.cordon(need('node'));
        return [need('node')];
      case 'uncordon':
        await f.uncordon(need('node'));
        return [need('node')];
      case 'drain': {
        const report = await f.drain(need('node'), { timeoutSeconds: Number(args['timeoutSeconds'] ?? 120) });
        return report.evicted;
      }
      case 'killPod': {
        await f.killPod({ namespace: need('namespace'), name: need('name') });
        return [`${need('namespace')}/${need('name')}`];
      }
    }
  }

  /** Ends every chaos object still in effect (what Chaos Toolkit's rollbacks must never leave behind). */
  async recoverAll(): Promise<void> {
    for (const [name, injection] of [...this.injections].reverse()) {
      await this.step(`recover ${name} (still in effect)`, () => injection.recover()).catch(() => {});
      this.injections.delete(name);
    }
  }

  /** Pins a chaos object to the pods a seeded choice made (see kube/chaos-mesh.ts pinTargets). */
  static pin(obj: KubeObject, pods: KubeObject[]): KubeObject {
    return pinTargets(obj, pods);
  }

  measure(m: RunMeasurement): void {
    this.measurements.push(m);
  }

  /** Stops traffic and sampling, writes the report, takes the environment down (unless kept). */
  async close(status: 'passed' | 'failed', extraNotes: string[] = []): Promise<RunRecord> {
    clearInterval(this.snapshotTimer);
    this.sampler?.stop();
    await this.journeys.close();
    await this.traffic?.stop().catch(() => {});
    this.unsubscribe?.();
    const scale = this.env?.clock.scale ?? this.options.timeScale ?? 1;
    const record: RunRecord = {
      runId: this.options.runId,
      scenario: this.options.name,
      environment: this.options.env,
      system: this.options.system,
      timeScale: scale,
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      status,
      steps: this.steps,
      measurements: this.measurements,
      timeline: {
        samples: this.sampler?.samples ?? [],
        events: this.events.map((e) => ({ ...e, t: e.t - this.t0 })),
      },
      notes: [
        `control-plane time scale ×${scale}: pauses and probe windows are real time, the timeline is control-plane time`,
        ...this.notes,
        ...extraNotes,
      ],
      ...(this.attachments.length > 0 ? { attachments: this.attachments } : {}),
    };
    if (this.env && !this.options.keep)
      await this.env.down().catch((err) => this.options.progress(`down failed: ${err}`));
    return record;
  }
}

function show(v: ProbeValue['value']): string {
  return typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v);
}

export type { JourneyOutcome };
