import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { TwinError } from '../../core/errors.ts';
import { seededRandom } from '../../core/seeded-random.ts';
import { CHAOS_MESH_API_VERSION } from '../../kube/chaos-mesh.ts';
import { parseGoDuration } from '../../kube/duration.ts';
import type { KubeObject } from '../../kube/object.ts';
import { probeSchema } from './experiment.ts';

/**
 * Randomized chaos under a seed: a system's chaos targets and the limits declared for it
 * (chaos/random/<system>.yaml), and the plan a seed gives — which fault, on what, when and for how
 * long — as a pure function, so `--dry-run` prints exactly what a run will do and the same seed gives
 * the same plan anywhere.
 */

export const FAULT_KINDS = [
  'pod-kill',
  'network-delay',
  'network-loss',
  'http-abort',
  'zone-outage',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const range = z
  .tuple([z.number().min(0), z.number().min(0)])
  .refine(([a, b]) => a <= b, 'expected [low, high]');

export const randomConfigSchema = z.strictObject({
  system: z.string(),
  overlay: z.string().optional(),
  limits: z.strictObject({
    /** K: at most this many pods of one workload in one fault. */
    maxPodsPerWorkload: z.number().int().min(1),
    /** Never more than this many zones failed at once (faults run one at a time, so at most 1). */
    maxZones: z.literal(1).default(1),
    /** Seconds each fault stays in effect. */
    faultSeconds: range,
    /** Seconds between a fault's recovery and the next fault. */
    gapSeconds: range,
    /** Seconds the steady state may take to hold again after a fault ends. */
    recoveryTimeout: z.number().positive().default(60),
    delayMs: range.default([100, 500]),
    lossPercent: range.default([5, 30]),
  }),
  workloads: z
    .array(
      z.strictObject({
        namespace: z.string(),
        name: z.string(),
        selector: z.record(z.string(), z.string()),
        /** The pods' HTTP port, for HTTP faults. */
        port: z.number().int().optional(),
      }),
    )
    .min(1),
  /** Zones a zone outage may take (default: every zone of the topology). */
  zones: z.array(z.string()).optional(),
  /** Weights of the fault kinds (0 or absent: never). */
  faults: z.partialRecord(z.enum(FAULT_KINDS), z.number().min(0)),
  traffic: z
    .strictObject({
      ingress: z.string(),
      paths: z.array(z.string()).min(1),
      rate: z.number().positive().max(500),
      timeout: z.number().positive().default(5),
    })
    .optional(),
  timeline: z
    .strictObject({
      services: z.array(z.strictObject({ namespace: z.string(), name: z.string() })).default([]),
      workloads: z
        .array(
          z.strictObject({
            namespace: z.string(),
            name: z.string(),
            selector: z.record(z.string(), z.string()),
          }),
        )
        .default([]),
    })
    .optional(),
  'steady-state-hypothesis': z.strictObject({ title: z.string(), probes: z.array(probeSchema).min(1) }),
});
export type RandomConfig = z.infer<typeof randomConfigSchema> & { file: string };

export interface PlannedFault {
  index: number;
  /** Planned start, seconds after the run's first fault could start. */
  at: number;
  kind: FaultKind;
  /** "Rollout production/api, 1 pod" / "zone ap-northeast-1a". */
  target: { workload?: string; pods?: number; zone?: string };
  params: { latencyMs?: number; lossPercent?: number };
  durationSeconds: number;
  gapSeconds: number;
  /** The Chaos Mesh object (before its pods are pinned at run time); none for a zone outage. */
  object?: KubeObject;
}

export interface RandomPlan {
  seed: number;
  system: string;
  budgetSeconds: number;
  faults: PlannedFault[];
}

export async function loadRandomConfig(file: string, root = process.cwd()): Promise<RandomConfig> {
  const shown = path.relative(root, file) || file;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `${shown}: no randomized-chaos limits for this system; write its targets and limits there (docs/chaos.md)`,
    );
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new TwinError('TWIN_EXPERIMENT_INVALID', `${shown}: ${doc.errors[0]!.message.split('\n')[0]}`);
  const parsed = randomConfigSchema.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (!parsed.success)
    throw new TwinError(
      'TWIN_EXPERIMENT_INVALID',
      parsed.error.issues
        .slice(0, 5)
        .map((i) => `${shown}: ${i.path.join('.') || '(top)'}: ${i.message}`)
        .join('\n'),
    );
  if (!Object.values(parsed.data.faults).some((w) => (w ?? 0) > 0))
    throw new TwinError(
      'TWIN_EXPERIMENT_INVALID',
      `${shown}: faults: give at least one fault kind a weight above 0`,
    );
  return { ...parsed.data, file };
}

/** A budget such as 10m: seconds. */
export function budgetSeconds(text: string): number {
  const ms = parseGoDuration(text);
  if (ms === undefined || ms <= 0)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--budget: ${JSON.stringify(text)} is not a duration (e.g. 10m, 90s)`,
    );
  return ms / 1000;
}

/**
 * The faults a seed gives within a budget: each draws its kind (by weight), its target (a workload and
 * 1…K of its pods, or one zone), its parameters, how long it lasts and the gap after it, until the next
 * one would end past the budget. One fault at a time: never more than one zone down.
 */
export function planRandomChaos(
  config: RandomConfig,
  zones: string[],
  seed: number,
  budget: number,
): RandomPlan {
  const random = seededRandom(seed);
  const between = ([lo, hi]: [number, number], step = 1) =>
    lo + Math.floor((random() * (hi - lo)) / step + 0.5) * step;
  const kinds = FAULT_KINDS.filter(
    (k) => (config.faults[k] ?? 0) > 0 && (k !== 'zone-outage' || zoneChoices(config, zones).length > 0),
  );
  const total = kinds.reduce((s, k) => s + config.faults[k]!, 0);
  const faults: PlannedFault[] = [];
  let at = 0;
  for (let index = 0; ; index++) {
    const kind = weighted(kinds, (k) => config.faults[k]!, random() * total);
    const durationSeconds = between(config.limits.faultSeconds);
    const gapSeconds = between(config.limits.gapSeconds);
    if (at + durationSeconds > budget) break;
    const fault: PlannedFault = { index, at, kind, target: {}, params: {}, durationSeconds, gapSeconds };
    if (kind === 'zone-outage') {
      const choices = zoneChoices(config, zones);
      fault.target.zone = choices[Math.floor(random() * choices.length)]!;
    } else {
      const w = config.workloads[Math.floor(random() * config.workloads.length)]!;
      fault.target.workload = `${w.namespace}/${w.name}`;
      fault.target.pods = 1 + Math.floor(random() * config.limits.maxPodsPerWorkload);
      if (kind === 'network-delay') fault.params.latencyMs = between(config.limits.delayMs, 10);
      if (kind === 'network-loss') fault.params.lossPercent = between(config.limits.lossPercent);
      fault.object = chaosObjectOf(fault, w);
    }
    faults.push(fault);
    at += durationSeconds + gapSeconds;
  }
  return { seed, system: config.system, budgetSeconds: budget, faults };
}

/** The item whose cumulative weight first exceeds `point` (0 ≤ point < total). */
function weighted<T>(items: readonly T[], weight: (t: T) => number, point: number): T {
  let left = point;
  for (const item of items) {
    left -= weight(item);
    if (left < 0) return item;
  }
  return items.at(-1)!;
}

function zoneChoices(config: RandomConfig, zones: string[]): string[] {
  return config.zones ?? zones;
}

/** The Chaos Mesh object of a planned fault: its workload's pods by label, `fixed` K of them. */
function chaosObjectOf(f: PlannedFault, w: RandomConfig['workloads'][number]): KubeObject {
  const base = {
    apiVersion: CHAOS_MESH_API_VERSION,
    metadata: { name: `random-${f.index}-${f.kind}`, namespace: w.namespace },
  };
  const selector = { namespaces: [w.namespace], labelSelectors: w.selector };
  const pick = { selector, mode: 'fixed', value: String(f.target.pods) };
  switch (f.kind) {
    case 'pod-kill':
      return { ...base, kind: 'PodChaos', spec: { action: 'pod-kill', ...pick } };
    case 'network-delay':
      return {
        ...base,
        kind: 'NetworkChaos',
        spec: { action: 'delay', ...pick, delay: { latency: `${f.params.latencyMs}ms` } },
      };
    case 'network-loss':
      return {
        ...base,
        kind: 'NetworkChaos',
        spec: { action: 'loss', ...pick, loss: { loss: String(f.params.lossPercent) } },
      };
    default:
      return {
        ...base,
        kind: 'HTTPChaos',
        spec: { ...pick, target: 'Request', port: w.port ?? 80, path: '*', abort: true },
      };
  }
}

/** The plan as text (what --dry-run prints). */
export function describePlan(plan: RandomPlan): string {
  const lines = [
    `randomized chaos: system ${plan.system}, seed ${plan.seed}, budget ${plan.budgetSeconds} s, ${plan.faults.length} faults`,
  ];
  for (const f of plan.faults) {
    const target = f.target.zone
      ? `zone ${f.target.zone}`
      : `${f.target.workload} (${f.target.pods} pod${f.target.pods === 1 ? '' : 's'})`;
    const params = f.params.latencyMs
      ? ` ${f.params.latencyMs} ms`
      : f.params.lossPercent
        ? ` ${f.params.lossPercent} %`
        : '';
    lines.push(
      `  #${f.index} at ${f.at} s: ${f.kind}${params} on ${target} for ${f.durationSeconds} s, then ${f.gapSeconds} s gap${f.object ? ` (${f.object.kind} ${f.object.metadata.namespace}/${f.object.metadata.name})` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
