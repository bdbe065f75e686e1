import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TwinError } from '../../core/errors.ts';
import type { LoadProfile } from '../../load/profile.ts';
import type { LoadResult } from './engine.ts';
import { k6Script } from './k6-script.ts';
import type { MetricSummary, ThresholdOutcome, TimelinePoint } from './metrics.ts';

/**
 * Runs a profile with k6 (`k6 run` of the generated .ts script) and reads its summary back in the
 * embedded engine's result shape. k6's exit codes: 0 passed, 99 thresholds failed (also when an
 * abortOnFail threshold stopped the test); anything else is an error of the run itself.
 */

export const K6_THRESHOLDS_FAILED = 99;

export interface K6Invocation {
  file: string;
  args: string[];
  env: Record<string, string>;
}

/** The exact command the runner starts. */
export function k6Command(options: {
  k6: string;
  script: string;
  baseUrl: string;
  summaryFile: string;
  pointsFile: string;
}): K6Invocation {
  return {
    file: options.k6,
    args: [
      'run',
      '--no-color',
      '--quiet',
      '-e',
      `BASE_URL=${options.baseUrl}`,
      '-e',
      `SUMMARY_JSON=${options.summaryFile}`,
      '--out',
      `json=${options.pointsFile}`,
      options.script,
    ],
    env: { K6_NO_USAGE_REPORT: 'true' },
  };
}

/** What k6's exit code means for the gate. */
export function interpretK6Exit(code: number | null, signal?: string | null): 'passed' | 'thresholds-failed' {
  if (code === 0) return 'passed';
  if (code === K6_THRESHOLDS_FAILED) return 'thresholds-failed';
  throw new TwinError(
    'TWIN_PROCESS_FAILED',
    `k6 run failed with ${code === null ? `signal ${signal}` : `exit code ${code}`} (not a threshold failure: 99 is; see its output above)`,
  );
}

/** k6 on the PATH (or K6_BINARY), or undefined. */
export async function findK6(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const candidates = env['K6_BINARY']
    ? [env['K6_BINARY']]
    : (env['PATH'] ?? '').split(path.delimiter).map((d) => path.join(d, 'k6'));
  const { access, constants } = await import('node:fs/promises');
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {}
  }
  return undefined;
}

export async function runWithK6(
  profile: LoadProfile,
  options: { k6: string; baseUrl: string; workDir: string; signal?: AbortSignal },
): Promise<LoadResult> {
  await mkdir(options.workDir, { recursive: true });
  const script = path.join(options.workDir, `${profile.name}.ts`);
  await writeFile(script, k6Script(profile, `load/profiles/${profile.name}.ts`));
  const summaryFile = path.join(options.workDir, `${profile.name}.summary.json`);
  const pointsFile = path.join(options.workDir, `${profile.name}.points.json`);
  const cmd = k6Command({ k6: options.k6, script, baseUrl: options.baseUrl, summaryFile, pointsFile });
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>(
    (resolve, reject) => {
      const child = spawn(cmd.file, cmd.args, {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, ...cmd.env },
      });
      const onAbort = () => child.kill('SIGINT');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', reject);
      child.on('exit', (c, s) => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve({ code: c, signal: s });
      });
    },
  );
  const verdict = interpretK6Exit(code, signal);
  const summary = JSON.parse(await readFile(summaryFile, 'utf8')) as {
    metrics: Record<string, MetricSummary>;
  };
  const points = await readFile(pointsFile, 'utf8').catch(() => '');
  return k6ResultFrom(profile, summary.metrics, points, {
    baseUrl: options.baseUrl,
    startedAt,
    durationMs: performance.now() - t0,
    verdict,
  });
}

/** k6's summary metrics (and its JSON output's points) in the engine's result shape. */
export function k6ResultFrom(
  profile: LoadProfile,
  metrics: Record<string, MetricSummary>,
  pointsNdjson: string,
  meta: { baseUrl: string; startedAt: string; durationMs: number; verdict: 'passed' | 'thresholds-failed' },
): LoadResult {
  const thresholds: ThresholdOutcome[] = [];
  for (const [metric, m] of Object.entries(metrics)) {
    for (const [expression, t] of Object.entries(m.thresholds ?? {})) {
      const agg = /^\s*(p\([\d.]+\)|\w+)/.exec(expression)?.[1] ?? '';
      const abortOnFail = (profile.thresholds[metric] ?? []).some(
        (x) => typeof x === 'object' && x.threshold === expression && x.abortOnFail === true,
      );
      thresholds.push({ metric, expression, ok: t.ok, actual: m.values[agg] ?? Number.NaN, abortOnFail });
    }
  }
  if (meta.verdict === 'thresholds-failed' && thresholds.every((t) => t.ok)) {
    thresholds.push({
      metric: '(k6)',
      expression: 'exit code 99',
      ok: false,
      actual: 99,
      abortOnFail: false,
    });
  }
  return {
    profile: profile.name,
    executor: profile.scenario.executor,
    runner: 'k6',
    target: meta.baseUrl,
    startedAt: meta.startedAt,
    durationMs: meta.durationMs,
    metrics,
    thresholds,
    timeline: timelineFromPoints(pointsNdjson),
    percentiles: [],
  };
}

/** Per-second points from k6's `--out json` lines (http_req_duration, http_req_failed, vus). */
export function timelineFromPoints(ndjson: string): TimelinePoint[] {
  const buckets = new Map<number, { d: number[]; failed: number; vus: number; dropped: number }>();
  let t0: number | undefined;
  for (const line of ndjson.split('\n')) {
    if (!line.startsWith('{"metric"') && !line.includes('"type":"Point"')) continue;
    let p: { type?: string; metric?: string; data?: { time?: string; value?: number } };
    try {
      p = JSON.parse(line);
    } catch {
      continue;
    }
    if (p.type !== 'Point' || !p.data?.time) continue;
    const at = Date.parse(p.data.time);
    t0 ??= at;
    const s = Math.max(0, Math.floor((at - t0) / 1000));
    let b = buckets.get(s);
    if (!b) {
      b = { d: [], failed: 0, vus: 0, dropped: 0 };
      buckets.set(s, b);
    }
    const v = p.data.value ?? 0;
    if (p.metric === 'http_req_duration') b.d.push(v);
    else if (p.metric === 'http_req_failed' && v) b.failed++;
    else if (p.metric === 'vus') b.vus = v;
    else if (p.metric === 'dropped_iterations') b.dropped += v;
  }
  const last = Math.max(-1, ...buckets.keys());
  const out: TimelinePoint[] = [];
  for (let s = 0; s <= last; s++) {
    const b = buckets.get(s);
    const d = (b?.d ?? []).sort((x, y) => x - y);
    const q = (p: number) =>
      d.length ? d[Math.min(d.length - 1, Math.ceil((p / 100) * d.length) - 1)]! : null;
    out.push({
      t: s,
      reqs: d.length,
      failed: b?.failed ?? 0,
      dropped: b?.dropped ?? 0,
      vus: b?.vus ?? 0,
      p50: q(50),
      p95: q(95),
      p99: q(99),
      max: d.length ? d.at(-1)! : null,
    });
  }
  return out;
}
