import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { z } from 'zod';
import { TwinError } from '../../core/errors.ts';
import type { LoadResult } from '../load/engine.ts';

/**
 * The last release's performance, per profile: p95 latency, error rate and throughput, the mean of
 * repeated runs and the noise measured across them (the largest distance of a run from the mean).
 * The regression rule allows each figure that noise (but never less than the floor) on top of:
 *   p95 no more than 10 % worse · error rate not higher · throughput not lower.
 */

export interface Figures {
  /** http_req_duration p(95), ms. */
  p95: number;
  /** http_req_failed rate (0–1). */
  errorRate: number;
  /** http_reqs rate, requests per second. */
  throughput: number;
}

const figures = z.object({ p95: z.number(), errorRate: z.number(), throughput: z.number() }).strict();

const baselineSchema = z
  .object({
    kind: z.literal('LoadBaseline'),
    version: z.literal(1),
    system: z.string(),
    env: z.string(),
    recordedAt: z.string(),
    machine: z.object({ cpus: z.number(), node: z.string(), platform: z.string() }).strict(),
    runs: z.number().int().positive(),
    /** p95 may be this much worse than the baseline's (0.10 = 10 %) before the noise allowance. */
    p95Tolerance: z.number().nonnegative(),
    /** Smallest noise allowance per figure: p95 in ms, error rate absolute, throughput as a fraction. */
    floors: z.object({ p95Ms: z.number(), errorRate: z.number(), throughputFraction: z.number() }).strict(),
    profiles: z.record(
      z.string(),
      z.object({ mean: figures, noise: figures, runs: z.array(figures) }).strict(),
    ),
  })
  .strict();

export type Baseline = z.infer<typeof baselineSchema>;

export const DEFAULT_FLOORS: Baseline['floors'] = { p95Ms: 5, errorRate: 0.0005, throughputFraction: 0.02 };
export const P95_TOLERANCE = 0.1;

export function figuresOf(r: LoadResult): Figures {
  return {
    p95: r.metrics['http_req_duration']?.values['p(95)'] ?? 0,
    errorRate: r.metrics['http_req_failed']?.values['rate'] ?? 0,
    throughput: r.metrics['http_reqs']?.values['rate'] ?? 0,
  };
}

/** A baseline from repeated runs: runsByProfile[name] holds one result per run. */
export function buildBaseline(
  runsByProfile: Record<string, LoadResult[]>,
  meta: { system: string; env: string },
): Baseline {
  const profiles: Baseline['profiles'] = {};
  for (const [name, results] of Object.entries(runsByProfile)) {
    const runs = results.map(figuresOf);
    const mean = meanOf(runs);
    const noise: Figures = {
      p95: Math.max(...runs.map((r) => Math.abs(r.p95 - mean.p95))),
      errorRate: Math.max(...runs.map((r) => Math.abs(r.errorRate - mean.errorRate))),
      throughput: Math.max(...runs.map((r) => Math.abs(r.throughput - mean.throughput))),
    };
    profiles[name] = { mean, noise, runs };
  }
  return {
    kind: 'LoadBaseline',
    version: 1,
    system: meta.system,
    env: meta.env,
    recordedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    runs: Math.max(0, ...Object.values(runsByProfile).map((r) => r.length)),
    p95Tolerance: P95_TOLERANCE,
    floors: DEFAULT_FLOORS,
    profiles,
  };
}

function meanOf(runs: Figures[]): Figures {
  const avg = (f: (x: Figures) => number) => runs.reduce((s, r) => s + f(r), 0) / runs.length;
  return { p95: avg((r) => r.p95), errorRate: avg((r) => r.errorRate), throughput: avg((r) => r.throughput) };
}

export interface RegressionCheck {
  profile: string;
  figure: keyof Figures;
  rule: string;
  baseline: number;
  /** The limit the current value is held to (noise allowance included). */
  limit: number;
  actual: number;
  ok: boolean;
}

/** The regression rule for each profile present in both the results and the baseline. */
export function compareWithBaseline(results: LoadResult[], baseline: Baseline): RegressionCheck[] {
  const checks: RegressionCheck[] = [];
  for (const r of results) {
    const b = baseline.profiles[r.profile];
    if (!b) continue;
    const now = figuresOf(r);
    const p95Limit = b.mean.p95 * (1 + baseline.p95Tolerance) + Math.max(b.noise.p95, baseline.floors.p95Ms);
    checks.push({
      profile: r.profile,
      figure: 'p95',
      rule: `p95 no more than ${Math.round(baseline.p95Tolerance * 100)} % worse than the baseline (+ noise allowance)`,
      baseline: b.mean.p95,
      limit: p95Limit,
      actual: now.p95,
      ok: now.p95 <= p95Limit,
    });
    const errLimit = b.mean.errorRate + Math.max(b.noise.errorRate, baseline.floors.errorRate);
    checks.push({
      profile: r.profile,
      figure: 'errorRate',
      rule: 'error rate not higher than the baseline (+ noise allowance)',
      baseline: b.mean.errorRate,
      limit: errLimit,
      actual: now.errorRate,
      ok: now.errorRate <= errLimit,
    });
    const tputLimit =
      b.mean.throughput -
      Math.max(b.noise.throughput, b.mean.throughput * baseline.floors.throughputFraction);
    checks.push({
      profile: r.profile,
      figure: 'throughput',
      rule: 'throughput not lower than the baseline (− noise allowance)',
      baseline: b.mean.throughput,
      limit: tputLimit,
      actual: now.throughput,
      ok: now.throughput >= tputLimit,
    });
  }
  return checks;
}

export async function readBaseline(file: string): Promise<Baseline | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TwinError('TWIN_OPTION_INVALID', `--baseline ${file}: not JSON (${(e as Error).message})`);
  }
  const parsed = baselineSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new TwinError('TWIN_OPTION_INVALID', `--baseline ${file}: ${problems.join('; ')}`);
  }
  return parsed.data;
}

export async function writeBaseline(file: string, baseline: Baseline): Promise<void> {
  await writeFile(file, `${JSON.stringify(baseline, null, 2)}\n`);
}
