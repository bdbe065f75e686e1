import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isTwinError, TwinError } from '../../core/errors.ts';
import { seededRandom, seedOf } from '../../core/seeded-random.ts';
import { waitUntil } from '../../core/wait.ts';
import { pickByMode, pinTargets } from '../../kube/chaos-mesh.ts';
import { resolveSystem } from '../../system/system.ts';
import { loadTopology } from '../../system/topology/topology.ts';
import { writeReport } from '../report/report-writer.ts';
import { newRunId } from '../scenario/run-options.ts';
import { ChaosSession, type ClusterTarget } from './chaos-session.ts';
import {
  budgetSeconds,
  describePlan,
  loadRandomConfig,
  type PlannedFault,
  planRandomChaos,
  type RandomConfig,
  type RandomPlan,
} from './random-plan.ts';
import { finish } from './suite.ts';

export interface RandomCommandOptions {
  env: string;
  timeScale?: number;
  reportDir: string;
  seed?: string;
  budget?: string;
  system?: string;
  dryRun?: boolean;
  summary?: string;
  history?: string;
  /** The targets-and-limits file (default chaos/random/<system>.yaml). */
  config?: string;
  progress: (message: string) => void;
  /** --env cluster: the existing cluster's kubeconfig and context. */
  cluster?: ClusterTarget;
}

/** One fault as it ran: what the plan said, and what was observed. */
export interface JournalStep {
  index: number;
  kind: PlannedFault['kind'];
  target: PlannedFault['target'];
  /** The pods or nodes it acted on (names differ between runs; their count does not). */
  acted: string[];
  /** Real seconds after the first fault was due. */
  injectedAt: number;
  during: Array<{ probe: string; value: unknown; ok: boolean }>;
  recovered: boolean;
  recoverySeconds: number | null;
}

export const RANDOM_JOURNAL = 'journal.json';

/** `twin chaos --random`: the plan (--dry-run) or the run, its journal and report, and a chaos-run entry. */
export async function randomCommand(root: string, o: RandomCommandOptions): Promise<number> {
  if (o.seed === undefined || !/^\d+$/.test(o.seed))
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--seed: a non-negative integer is required with --random, got ${JSON.stringify(o.seed)}`,
    );
  const seed = Number(o.seed);
  const system = o.system ?? 'ai-platform';
  const config = await loadRandomConfig(
    o.config ?? path.join(root, 'chaos', 'random', `${system}.yaml`),
    root,
  );
  if (config.system !== system)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `${config.file}: written for system ${config.system}, not ${system}`,
    );
  const layout = await resolveSystem(system, root);
  const zones = (await loadTopology(layout.topologyFile)).zones;
  const plan = planRandomChaos(config, zones, seed, budgetSeconds(o.budget ?? '10m'));
  if (o.dryRun) {
    process.stdout.write(describePlan(plan));
    return 0;
  }
  const startedAt = new Date();
  const runId = newRunId(`random-seed-${seed}`);
  const reportDir = path.join(path.resolve(o.reportDir), runId);
  const t0 = performance.now();
  const { passed, steps } = await runRandom(config, plan, {
    env: o.env,
    ...(o.timeScale !== undefined ? { timeScale: o.timeScale } : {}),
    reportDir,
    runId,
    progress: o.progress,
    ...(o.cluster ? { cluster: o.cluster } : {}),
  });
  const slowest = Math.max(0, ...steps.map((s) => s.recoverySeconds ?? 0));
  await finish(
    o,
    {
      startedAt,
      entries: [
        {
          name: `random (${system}, seed ${seed})`,
          type: 'random',
          passed,
          status: passed ? 'completed' : 'failed',
          runId,
          durationSeconds: Math.round((performance.now() - t0) / 100) / 10,
          recoverySeconds: steps.every((s) => s.recovered) ? slowest : null,
          failed: steps
            .filter((s) => !s.recovered)
            .map((s) => `#${s.index} ${s.kind}: did not recover within ${config.limits.recoveryTimeout} s`),
        },
      ],
    },
    `Randomized chaos (seed ${seed})`,
  );
  return passed ? 0 : 1;
}

/**
 * Plays a plan: each fault at its planned time (or as soon as the previous one has recovered), the
 * steady state checked while it is on and polled after it ends until it holds again. Pods are chosen
 * among the workload's pods, sorted by name, with a generator seeded by the seed and the fault's index,
 * so the same seed acts on the same count of pods at the same places in the order.
 */
export async function runRandom(
  config: RandomConfig,
  plan: RandomPlan,
  o: {
    env: string;
    timeScale?: number;
    reportDir: string;
    runId: string;
    progress: (m: string) => void;
    cluster?: ClusterTarget;
  },
): Promise<{ passed: boolean; steps: JournalStep[] }> {
  const s = new ChaosSession({
    env: o.env,
    ...(o.cluster ? { cluster: o.cluster } : {}),
    system: config.system,
    ...(config.overlay ? { overlay: config.overlay } : {}),
    ...(o.timeScale !== undefined ? { timeScale: o.timeScale } : {}),
    reportDir: o.reportDir,
    runId: o.runId,
    name: `random-seed-${plan.seed}`,
    ...(config.timeline ? { timeline: config.timeline } : {}),
    ...(config.traffic ? { traffic: config.traffic } : {}),
    progress: o.progress,
  });
  const probes = config['steady-state-hypothesis'].probes;
  const steps: JournalStep[] = [];
  let failure: string | undefined;
  try {
    await s.up();
    await sleep(2000);
    const before = await s.check(probes, 'before');
    if (!before.ok) s.notes.push('the steady state did not hold before the first fault');
    const start = performance.now();
    for (const f of plan.faults) {
      const wait = start + f.at * 1000 - performance.now();
      if (wait > 0) await sleep(wait);
      const injectedAt = Math.round((performance.now() - start) / 100) / 10;
      const label = `#${f.index} ${f.kind} on ${f.target.zone ? `zone ${f.target.zone}` : `${f.target.workload} (${f.target.pods} pods)`}`;
      const { acted, end } = await s.step(`fault ${label} for ${f.durationSeconds} s`, () =>
        inject(s, f, plan.seed),
      );
      await sleep(f.durationSeconds * 1000);
      const during = await s.check(probes, 'during');
      await s.step(`end ${label}`, end);
      const t1 = performance.now();
      const recoverySeconds = await waitUntil(
        async () =>
          (await s.check(probes, 'recovery')).ok && {
            seconds: Math.round((performance.now() - t1) / 100) / 10,
          },
        {
          what: `the steady state after ${label}`,
          timeout: config.limits.recoveryTimeout * 1000,
          interval: 1000,
        },
      ).then(
        (r) => r.seconds,
        (err) => {
          // Not recovered within the limit: the journal says so (null), the run goes on.
          if (isTwinError(err, 'TWIN_TIMEOUT')) return null;
          throw err;
        },
      );
      const step: JournalStep = {
        index: f.index,
        kind: f.kind,
        target: f.target,
        acted,
        injectedAt,
        during: during.records.map((r) => ({ probe: r.probe, value: r.value, ok: r.ok })),
        recovered: recoverySeconds !== null,
        recoverySeconds,
      };
      steps.push(step);
      s.measure({
        name: `${label}: steady state held while it was on`,
        value: during.records.filter((r) => r.ok).length / Math.max(1, during.records.length),
        unit: 'share of probes',
      });
      s.measure({
        name: `${label}: time to recover`,
        value: recoverySeconds ?? Number.NaN,
        unit: 's',
        assertion: `≤ ${config.limits.recoveryTimeout}`,
        passed: recoverySeconds !== null,
      });
      await sleep(f.gapSeconds * 1000);
    }
  } catch (err) {
    failure = (err as Error).message;
  } finally {
    if (s.env) await s.recoverAll();
  }
  const passed =
    failure === undefined && steps.length === plan.faults.length && steps.every((x) => x.recovered);
  const record = await s.close(passed ? 'passed' : 'failed', [
    `randomized chaos, seed ${plan.seed}: ${plan.faults.length} faults planned within ${plan.budgetSeconds} s (${path.relative(process.cwd(), config.file)})`,
    ...(failure ? [failure] : []),
  ]);
  await writeReport(o.reportDir, record, { junit: true });
  const journal = {
    seed: plan.seed,
    system: plan.system,
    environment: o.env,
    budgetSeconds: plan.budgetSeconds,
    plan: plan.faults,
    steps,
    passed,
  };
  await writeFile(path.join(o.reportDir, RANDOM_JOURNAL), `${JSON.stringify(journal, null, 2)}\n`);
  o.progress(`journal: ${path.relative(process.cwd(), path.join(o.reportDir, RANDOM_JOURNAL))}`);
  return { passed, steps };
}

async function inject(
  s: ChaosSession,
  f: PlannedFault,
  seed: number,
): Promise<{ acted: string[]; end: () => Promise<void> }> {
  const env = s.env;
  if (f.kind === 'zone-outage') {
    const zone = f.target.zone!;
    const nodes = await env.faults.failZone(zone);
    return { acted: nodes, end: async () => void (await env.faults.restoreZone(zone)) };
  }
  const object = f.object!;
  const [namespace] = f.target.workload!.split('/') as [string, string];
  const pods = (
    await env.kube.list(
      { kind: 'Pod' },
      { namespace, labelSelector: { matchLabels: object['spec'].selector.labelSelectors } },
    )
  )
    .filter((p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running')
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const chosen = pickByMode(
    pods,
    { mode: 'fixed', value: String(f.target.pods) },
    seededRandom(seedOf(`${seed}/${f.index}`)),
    `${object.kind} ${object.metadata.name}`,
  );
  const injection = await env.faults.chaos(pinTargets(object, chosen));
  s.injections.set(injection.name, injection);
  return {
    acted: injection.targets,
    end: async () => {
      await injection.recover();
      s.injections.delete(injection.name);
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
