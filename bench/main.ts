/**
 * Benchmarks of the foundation slice:
 *   boot   — time until every AI-platform workload is ready on the twin (target ≤ 3 s on 2 cores)
 *   canary — wall time of the canary-rollout scenario at its own time scale, ×10 (target ≤ 180 s)
 *   az-outage — wall time of the az-outage scenario at the default time scale (target ≤ 30 s)
 * `npm run bench` runs both; `npm run bench -- boot --runs 5` repeats one.
 *   boot --against <git ref> — the boot here and at that commit, alternating (bench/boot-comparison.ts)
 *   load   — the embedded load engine against wrk on one loopback target (bench/load.ts; not in `all`)
 *   failover — Redis Sentinel and PostgreSQL failover of lambda-microservice (bench/failover.ts; not in `all`)
 *   kafka  — the twin's Kafka broker: 100,000 records of 1 KiB with acks=all end to end, beside each client's own limit (bench/kafka.ts; not in `all`)
 *   promql — the twin Prometheus' canary-analysis queries over ~4 000 series (bench/promql.ts; not in `all`)
 *   apiserver — the twin's API server: kubectl get pods -A, write-to-watch latency, 1,000 informers
 *               (bench/apiserver.ts; not in `all`; `apiserver kubectl|watch|informers` runs one)
 *   interrupt — ≥ 50 seeded interruptions of up and a scenario; nothing may be left (bench/interrupt.ts; not in `all`)
 *   stability — each scenario N times in a row, counting passes (bench/stability.ts; not in `all`)
 *   scale  — 100 / 300 / 1,000 nodes (3,000 with --with-3000) of 30 emulated pods each: time to all bound,
 *            all Ready, pods/s, peak RSS (bench/scale.ts; not in `all`; `--nodes 100,300` picks sizes)
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_TIME_SCALE } from '../kube/clock.ts';
import { loadSystem, REPO_ROOT, resolveSystem } from '../system/system.ts';
import { Twin } from '../twin/twin.ts';

const args = process.argv.slice(2);
const which = args.find((a) => !a.startsWith('--')) ?? 'all';
const runsArg = args.indexOf('--runs');
const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : 3;

async function benchBoot(): Promise<void> {
  const times: number[] = [];
  let pods = 0;
  for (let i = 0; i < runs; i++) {
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'twin-bench-'));
    const t0 = performance.now();
    const twin = await Twin.up({
      system: await loadSystem(await resolveSystem('ai-platform'), 'local'),
      timeScale: DEFAULT_TIME_SCALE,
      workDir,
    });
    const ms = performance.now() - t0;
    const all = twin.store.list({ kind: 'Pod' });
    const ready = all.filter((p) =>
      (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
    );
    pods = ready.length;
    const live = twin.kubelet.livePids().length;
    await twin.down();
    await rm(workDir, { recursive: true, force: true });
    times.push(ms);
    console.log(
      `boot run ${i + 1}: ${(ms / 1000).toFixed(2)} s until ${ready.length}/${all.length} pods Ready (${live} live processes)`,
    );
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(
    `bench:boot  median ${(sorted[Math.floor(sorted.length / 2)]! / 1000).toFixed(2)} s, best ${(sorted[0]! / 1000).toFixed(2)} s over ${runs} runs, ${pods} pods Ready (target ≤ 3 s)`,
  );
}

/** Wall time of one scenario run through the CLI, as a user runs it; `what` says what the run covers. */
async function benchScenarioWallTime(
  label: string,
  name: string,
  what: string,
  targetSeconds: number,
): Promise<void> {
  const t0 = performance.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', 'scenario', name], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, TWIN_QUIET: '0' },
    });
    child.on('exit', (c) => resolve(c ?? 1));
  });
  const s = (performance.now() - t0) / 1000;
  console.log(
    `bench:${label}  ${name} wall time ${s.toFixed(1)} s ${what}, exit ${code} (target ≤ ${targetSeconds} s)`,
  );
  if (code !== 0) process.exitCode = 1;
}

const benchCanary = () =>
  benchScenarioWallTime(
    'canary',
    'canary-rollout',
    "at the scenario's own time scale ×10 (the seed's 10-minute analysis, its production Prometheus queries)",
    180,
  );
const benchAzOutage = () =>
  benchScenarioWallTime(
    'az-outage',
    'az-outage',
    `at the default time scale ×${DEFAULT_TIME_SCALE} (about 9 control-plane minutes: grace period, 300 s toleration, drains)`,
    30,
  );

console.log(
  `node ${process.version}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; kubectl ${safe(
    () =>
      execFileSync('kubectl', ['version', '--client', '-o', 'json'])
        .toString()
        .match(/"gitVersion":\s*"([^"]+)"/)?.[1],
  )}`,
);
const againstArg = args.indexOf('--against');
if (which === 'boot' && againstArg >= 0) {
  const ref = args[againstArg + 1];
  if (!ref) throw new Error('--against needs a git ref (a commit, tag or branch), e.g. --against 3177d05^1');
  await (await import('./boot-comparison.ts')).benchBootAgainst(ref, runs);
} else if (which === 'boot' || which === 'all') await benchBoot();
if (which === 'canary' || which === 'all') await benchCanary();
if (which === 'az-outage' || which === 'all') await benchAzOutage();
if (which === 'load') await (await import('./load.ts')).benchLoad(args);
if (which === 'edge') await (await import('./edge.ts')).benchEdge(args);
if (which === 'failover') await (await import('./failover.ts')).benchFailover();
if (which === 'kafka') await (await import('./kafka.ts')).benchKafka(args);
if (which === 'promql') await (await import('./promql.ts')).benchPromql(args);
if (which === 'apiserver')
  await (await import('./apiserver.ts')).benchApiServer(args.slice(args.indexOf('apiserver') + 1));
if (which === 'interrupt') await (await import('./interrupt.ts')).benchInterrupt(args);
if (which === 'stability') await (await import('./stability.ts')).benchStability(args);
if (which === 'scale') await (await import('./scale.ts')).benchScale(args);

function safe(f: () => string | undefined): string {
  try {
    return f() ?? '?';
  } catch {
    return 'missing';
  }
}
