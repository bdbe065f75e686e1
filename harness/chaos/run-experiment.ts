import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isTwinError } from '../../core/errors.ts';
import { waitUntil } from '../../core/wait.ts';
import { writeReport } from '../report/report-writer.ts';
import { ChaosSession, type Phase, type ProbeRecord, type SessionOptions } from './chaos-session.ts';
import type { Experiment, Probe } from './experiment.ts';

export interface ExperimentOutcome {
  runId: string;
  reportDir: string;
  /** Chaos Toolkit's statuses: completed (the steady state held), aborted (it did not hold before the method), failed. */
  status: 'completed' | 'aborted' | 'failed';
  /** The steady state did not hold after the method. */
  deviated: boolean;
  /** Real seconds the steady state took to hold again after the rollbacks; null when it did not within the timeout. */
  recoverySeconds: number | null;
  passed: boolean;
}

export const JOURNAL_JSON = 'journal.json';

/**
 * Runs an experiment as Chaos Toolkit does: the steady-state hypothesis before the method (not met:
 * aborted), the method's activities in order with their pauses (with `continuously`, the hypothesis is
 * also checked every `frequency` seconds meanwhile), the hypothesis after the method (not met:
 * deviated), then the rollbacks, which always run. Added here: every chaos object still in effect is
 * recovered after the rollbacks, and the hypothesis is polled until it holds again (the time to recover).
 * Writes journal.json beside result.json, junit.xml and report.html.
 */
export async function runExperiment(
  e: Experiment,
  options: Omit<SessionOptions, 'system' | 'overlay' | 'name' | 'timeline' | 'traffic'>,
): Promise<ExperimentOutcome> {
  const s = new ChaosSession({
    ...options,
    system: e.system,
    ...(e.overlay ? { overlay: e.overlay } : {}),
    name: e.name,
    ...(e.timeline ? { timeline: e.timeline } : {}),
    ...(e.traffic ? { traffic: e.traffic } : {}),
  });
  const hypothesis = e['steady-state-hypothesis']?.probes ?? [];
  const runtime = e.runtime;
  const frequencyMs = (runtime.hypothesis?.frequency ?? 2) * 1000;
  const continuously = runtime.hypothesis?.strategy === 'continuously';
  let status: ExperimentOutcome['status'] = 'completed';
  let deviated = false;
  let recoverySeconds: number | null = null;
  const activities: Array<{ name: string; type: string; status: string; output?: unknown; error?: string }> =
    [];
  const rollbacks: typeof activities = [];
  let failure: string | undefined;
  try {
    await s.up();
    await sleep(runtime.warmup * 1000);
    const before = await s.check(hypothesis, 'before');
    s.steps.push(stepOf('steady state before the method', before.ok, before.records));
    if (!before.ok) {
      status = 'aborted';
      s.notes.push(
        'the steady state did not hold before the method: the method did not run (Chaos Toolkit: aborted)',
      );
    } else {
      const stopDuring = continuously
        ? every(frequencyMs, () => s.check(hypothesis, 'during'))
        : () => Promise.resolve();
      try {
        for (const a of e.method) {
          if (a.pauses?.before) await sleep(a.pauses.before * 1000);
          const out = await s
            .step(`${a.type} ${a.name}`, async () =>
              a.type === 'action' ? s.act(a) : (await s.check([a], 'method')).records[0],
            )
            .then(
              (output) => ({ status: 'succeeded', output }),
              (err: Error) => ({ status: 'failed', error: err.message }),
            );
          activities.push({ name: a.name, type: a.type, ...out });
          if (out.status === 'failed' && a.type === 'action') {
            status = 'failed';
            failure = `action ${a.name} failed: ${'error' in out ? out.error : ''}`;
            break;
          }
          if (a.pauses?.after) await sleep(a.pauses.after * 1000);
        }
      } finally {
        await stopDuring();
      }
      if (status === 'completed') {
        const after = await s.check(hypothesis, 'after');
        deviated = !after.ok;
        s.steps.push(stepOf('steady state after the method', after.ok, after.records));
      }
    }
  } catch (err) {
    status = 'failed';
    failure = (err as Error).message;
  } finally {
    if (s.env) {
      for (const r of e.rollbacks) {
        const out = await s
          .step(`rollback ${r.name}`, () => s.act(r))
          .then(
            (output) => ({ status: 'succeeded', output }),
            (err: Error) => ({ status: 'failed', error: err.message }),
          );
        rollbacks.push({ name: r.name, type: r.type, ...out });
      }
      await s.recoverAll();
      if (hypothesis.length > 0 && status !== 'failed') recoverySeconds = await recover(s, hypothesis, e);
    }
  }
  summarize(s, hypothesis);
  const recovered = hypothesis.length === 0 || recoverySeconds !== null || status === 'failed';
  const passed =
    status === 'completed' && !deviated && recovered && rollbacks.every((r) => r.status === 'succeeded');
  if (recoverySeconds !== null)
    s.measure({
      name: 'time to recover (after the rollbacks)',
      value: recoverySeconds,
      unit: 's',
      assertion: `≤ ${runtime.recovery?.timeout ?? 60}`,
      passed: true,
      description: 'real seconds until every probe of the steady-state hypothesis held again',
    });
  else if (hypothesis.length > 0 && status !== 'failed')
    s.measure({
      name: 'time to recover (after the rollbacks)',
      value: Number.NaN,
      unit: 's',
      assertion: `≤ ${runtime.recovery?.timeout ?? 60}`,
      passed: false,
      description: 'the steady state did not hold again within the recovery timeout',
    });
  const notes = [
    `experiment ${path.relative(process.cwd(), e.file)}: ${e.title}`,
    `status ${status}${deviated ? ', deviated (the steady state did not hold after the method)' : ''}`,
    ...(failure ? [failure] : []),
  ];
  const record = await s.close(passed ? 'passed' : 'failed', notes);
  await writeReport(options.reportDir, record, { junit: true });
  const journal = {
    chaoslib: 'infra-twin (Chaos Toolkit model)',
    experiment: {
      title: e.title,
      file: path.relative(process.cwd(), e.file),
      tags: e.tags,
      system: e.system,
    },
    environment: options.env,
    start: record.startedAt,
    end: record.finishedAt,
    status,
    deviated,
    passed,
    recoverySeconds,
    steady_states: {
      before: phaseOf(s.probes, 'before'),
      during: s.probes.filter((p) => p.phase === 'during'),
      after: phaseOf(s.probes, 'after'),
      recovery: s.probes.filter((p) => p.phase === 'recovery'),
    },
    run: activities,
    rollbacks,
  };
  await writeFile(path.join(options.reportDir, JOURNAL_JSON), `${JSON.stringify(journal, null, 2)}\n`);
  return { runId: options.runId, reportDir: options.reportDir, status, deviated, recoverySeconds, passed };
}

/** Polls the hypothesis until every probe holds: the real seconds it took, or null after the timeout. */
async function recover(s: ChaosSession, hypothesis: Probe[], e: Experiment): Promise<number | null> {
  const timeoutMs = (e.runtime.recovery?.timeout ?? 60) * 1000;
  const t0 = performance.now();
  return s.step('steady state again after the rollbacks (time to recover)', () =>
    waitUntil(
      async () =>
        (await s.check(hypothesis, 'recovery')).ok && {
          seconds: Math.round((performance.now() - t0) / 100) / 10,
        },
      { what: `the steady state of "${e.title}" again`, timeout: timeoutMs, interval: 1000 },
    ).then(
      (r) => r.seconds,
      (err) => {
        // Not recovered in time: reported as null (the experiment deviated), not thrown.
        if (isTwinError(err, 'TWIN_TIMEOUT')) return null;
        throw err;
      },
    ),
  );
}

/** The report's measurements: each probe before and after, and what it read while the fault was on. */
function summarize(s: ChaosSession, hypothesis: Probe[]): void {
  // The last recovery check is the one that held (or the last tried): what the rollback left.
  const lastRecovery = s.probes.filter((p) => p.phase === 'recovery').slice(-hypothesis.length);
  const shown: Array<[string, ProbeRecord[]]> = [
    ['before', s.probes.filter((p) => p.phase === 'before')],
    ['method', s.probes.filter((p) => p.phase === 'method')],
    ['after the method', s.probes.filter((p) => p.phase === 'after')],
    ['after the rollbacks', lastRecovery],
  ];
  for (const [label, records] of shown) {
    for (const r of records) {
      const judged = r.judged;
      s.measure({
        name: `${label}: ${r.probe}`,
        value: typeof judged === 'number' ? round(judged) : judged === null ? Number.NaN : Number(r.ok),
        unit: unitOf(r),
        assertion: r.tolerance,
        passed: r.ok,
        ...(r.error ? { description: r.error } : {}),
      });
      const latency = r.parts?.['latency'];
      if (typeof latency === 'number' && r.target !== 'latency')
        s.measure({
          name: `${label}: ${r.probe} — p95 latency of its requests`,
          value: Math.round(latency),
          unit: 'ms',
        });
      const tti = r.parts?.['timeToInteractive'];
      if (typeof tti === 'number')
        s.measure({
          name: `${label}: ${r.probe} — time to interactive (p95)`,
          value: Math.round(tti),
          unit: 'ms',
        });
      const consoleErrors = r.parts?.['consoleErrors'];
      if (typeof consoleErrors === 'number')
        s.measure({ name: `${label}: ${r.probe} — console errors`, value: consoleErrors, unit: 'errors' });
    }
  }
  for (const p of hypothesis) {
    const during = s.probes.filter((r) => r.phase === 'during' && r.probe === p.name);
    if (during.length === 0) continue;
    s.measure({
      name: `during the method: ${p.name} held`,
      value: during.filter((r) => r.ok).length / during.length,
      unit: `share of ${during.length} checks`,
    });
    const latencies = during
      .map((r) => r.parts?.['latency'])
      .filter((v): v is number => typeof v === 'number');
    if (latencies.length > 0)
      s.measure({
        name: `during the method: ${p.name} — worst p95 latency`,
        value: Math.round(Math.max(...latencies)),
        unit: 'ms',
      });
    const values = during.map((r) => r.judged).filter((v): v is number => typeof v === 'number');
    if (values.length > 0 && during[0]!.target !== 'latency')
      s.measure({
        name: `during the method: ${p.name} (worst)`,
        value: round(worst(p, values)),
        unit: unitOf(during[0]!),
      });
  }
}

function worst(p: Probe, values: number[]): number {
  const t = p.tolerance;
  if (t && typeof t === 'object' && !Array.isArray(t) && t.type === 'range') {
    const mid = (t.range[0] + t.range[1]) / 2;
    return values.reduce((w, v) => (Math.abs(v - mid) > Math.abs(w - mid) ? v : w), values[0]!);
  }
  return values[0]!;
}

function unitOf(r: ProbeRecord): string {
  if (r.target === 'latency' || r.target === 'timeToInteractive') return 'ms';
  if (r.target) return r.target;
  if (r.parts && 'status' in r.parts) return 'status';
  if (r.parts && 'successRate' in r.parts) return 'share of journeys';
  return '';
}

function round(v: number): number {
  return Number.isInteger(v) ? v : Math.round(v * 1000) / 1000;
}

function stepOf(name: string, ok: boolean, records: ProbeRecord[]) {
  const now = new Date().toISOString();
  const failed = records
    .filter((r) => !r.ok)
    .map((r) => `${r.probe} = ${r.value} (${r.tolerance})${r.error ? `: ${r.error}` : ''}`);
  return {
    name,
    status: ok ? ('passed' as const) : ('failed' as const),
    startedAt: now,
    finishedAt: now,
    ...(ok ? {} : { error: `deviated: ${failed.join('; ')}` }),
  };
}

function phaseOf(records: ProbeRecord[], phase: Phase) {
  const mine = records.filter((r) => r.phase === phase);
  return { steady_state_met: mine.length > 0 ? mine.every((r) => r.ok) : null, probes: mine };
}

function every(ms: number, fn: () => Promise<unknown>): () => Promise<void> {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const loop = async () => {
    while (!stopped) {
      running = fn().catch(() => {});
      await running;
      await sleep(ms);
    }
  };
  void loop();
  return async () => {
    stopped = true;
    await running;
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
