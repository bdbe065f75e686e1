import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { TwinError } from '../../core/errors.ts';
import { isChaosObject } from '../../kube/chaos-mesh.ts';
import { parseGoDuration } from '../../kube/duration.ts';
import type { KubeObject } from '../../kube/object.ts';
import { validateObject } from '../../kube/schema/validate-object.ts';
import { loadAddons } from '../../system/addons/addons-file.ts';
import { registryWith } from '../../system/render/manifest-validation.ts';
import { resolveSystem } from '../../system/system.ts';

/**
 * A chaos experiment as data (chaos/experiments/*.yaml), in Chaos Toolkit's model: a steady-state
 * hypothesis (probes with tolerances), a method (actions and probes, with pauses) and rollbacks, with
 * Chaos Toolkit's field names. The actions are Chaos Mesh objects (`provider.type: chaos-mesh`), so the
 * same file runs where Chaos Mesh is installed, or the environment's own faults (`provider.type:
 * environment`: failZone, stopNode, …). Additions for this product: `system`, `traffic` (steady client
 * traffic for the run) and `timeline` (what the report plots).
 */

const ref = z.string().regex(/^[a-z0-9-]+\/[a-z0-9.-]+$/, 'expected "namespace/name"');
const goDuration = z
  .string()
  .refine((s) => parseGoDuration(s) !== undefined, 'expected a duration such as 30s');

/** Chaos Toolkit's tolerances: a value, a list of values, a range, a regex (over a probe's value or target). */
export const toleranceSchema = z.union([
  z.number(),
  z.boolean(),
  z.string(),
  z.array(z.union([z.number(), z.string(), z.boolean()])).min(1),
  z.strictObject({
    type: z.literal('range'),
    range: z.tuple([z.number(), z.number()]),
    target: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('regex'), pattern: z.string(), target: z.string().optional() }),
]);
export type Tolerance = z.infer<typeof toleranceSchema>;

const httpProvider = z.strictObject({
  type: z.literal('http'),
  /** An absolute URL, or an Ingress / Service of the environment and a path. */
  url: z.string().optional(),
  ingress: ref.optional(),
  service: ref.optional(),
  port: z.union([z.number().int(), z.string()]).optional(),
  path: z.string().default('/'),
  method: z.string().default('GET'),
  /** Seconds (Chaos Toolkit's `timeout`). */
  timeout: z.number().positive().default(5),
  /** Requests per evaluation: the value is their last status, their p95 latency, or their last body. */
  count: z.number().int().min(1).max(100).default(1),
});
const trafficProvider = z.strictObject({
  type: z.literal('traffic'),
  metric: z.enum(['errorRate', 'requests', 'errors']),
  /** Over the last … of the experiment's own client traffic. */
  window: goDuration.default('10s'),
});
const metricProvider = z.strictObject({
  type: z.literal('metric'),
  service: ref,
  metric: z.enum(['p50', 'p95', 'p99', 'errorRate', 'requests']),
  window: goDuration.default('30s'),
  version: z.string().optional(),
});
const promqlProvider = z.strictObject({
  type: z.literal('promql'),
  /** The Prometheus HTTP API base URL, or a Service of the environment. */
  url: z.string().optional(),
  service: ref.optional(),
  port: z.union([z.number().int(), z.string()]).optional(),
  query: z.string().min(1),
  timeout: z.number().positive().default(5),
});
const journeyProvider = z.strictObject({
  type: z.literal('journey'),
  /** A journey of the system (harness/journeys/<system>.ts). */
  name: z.string(),
  /** Journeys per evaluation; the value is the share that succeeded (0–1) unless target says otherwise. */
  count: z.number().int().min(1).max(20).default(1),
  timeout: z.number().positive().default(15),
});
export const probeProviderSchema = z.discriminatedUnion('type', [
  httpProvider,
  trafficProvider,
  metricProvider,
  promqlProvider,
  journeyProvider,
]);
export type ProbeProvider = z.infer<typeof probeProviderSchema>;

const pauses = z
  .strictObject({ before: z.number().min(0).optional(), after: z.number().min(0).optional() })
  .optional();

export const probeSchema = z.strictObject({
  type: z.literal('probe'),
  name: z.string().min(1),
  tolerance: toleranceSchema.optional(),
  provider: probeProviderSchema,
  pauses,
});
export type Probe = z.infer<typeof probeSchema>;

const ENVIRONMENT_FAULTS = [
  'failZone',
  'restoreZone',
  'stopNode',
  'startNode',
  'partitionNode',
  'cordon',
  'uncordon',
  'drain',
  'killPod',
] as const;
export type EnvironmentFault = (typeof ENVIRONMENT_FAULTS)[number];

export const actionSchema = z.strictObject({
  type: z.literal('action'),
  name: z.string().min(1),
  provider: z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('chaos-mesh'),
      /** A Chaos Mesh object to inject (apply). */
      object: z.record(z.string(), z.unknown()).optional(),
      /** The metadata.name of an object injected earlier, to recover (delete). */
      recover: z.string().optional(),
    }),
    z.strictObject({
      type: z.literal('environment'),
      func: z.enum(ENVIRONMENT_FAULTS),
      arguments: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
    }),
  ]),
  pauses,
});
export type Action = z.infer<typeof actionSchema>;
export type Activity = Action | Probe;

export const experimentSchema = z.strictObject({
  version: z.string().default('1.0.0'),
  title: z.string().min(1),
  description: z.string().optional(),
  tags: z.array(z.string()).default([]),
  system: z.string().min(1),
  overlay: z.string().optional(),
  traffic: z
    .strictObject({
      ingress: ref,
      paths: z.array(z.string().startsWith('/')).min(1),
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
  'steady-state-hypothesis': z
    .strictObject({ title: z.string(), probes: z.array(probeSchema).min(1) })
    .optional(),
  method: z.array(z.union([actionSchema, probeSchema])).min(1),
  rollbacks: z.array(actionSchema).default([]),
  /** Chaos Toolkit's runtime settings: how often the hypothesis is checked during the method; rollbacks always run. */
  runtime: z
    .strictObject({
      hypothesis: z
        .strictObject({
          strategy: z.enum(['default', 'continuously']).default('default'),
          frequency: z.number().positive().default(2),
        })
        .optional(),
      /** Seconds the steady state may take to hold again after the rollbacks (the time to recover). */
      recovery: z.strictObject({ timeout: z.number().positive().default(60) }).optional(),
      /** Seconds of traffic before the first check (metric and traffic probes need a window). */
      warmup: z.number().min(0).default(2),
    })
    .default({ warmup: 2 }),
});
export type Experiment = z.infer<typeof experimentSchema> & { file: string; name: string };

/**
 * Reads and checks an experiment file: its shape, and every Chaos Mesh object as an API server of a
 * cluster with the system's add-ons would take it (so an object k3d's API server would reject is
 * rejected here too, before anything starts). Errors name the file and the field.
 */
export async function loadExperiment(file: string, root = process.cwd()): Promise<Experiment> {
  const shown = path.relative(root, file) || file;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new TwinError('TWIN_EXPERIMENT_INVALID', `${shown}: cannot read it (${(err as Error).message})`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new TwinError('TWIN_EXPERIMENT_INVALID', `${shown}: ${doc.errors[0]!.message.split('\n')[0]}`);
  const parsed = experimentSchema.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (!parsed.success) {
    const lines = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${shown}: ${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new TwinError('TWIN_EXPERIMENT_INVALID', lines.join('\n'));
  }
  const experiment: Experiment = { ...parsed.data, file, name: path.basename(file).replace(/\.ya?ml$/, '') };
  await checkChaosObjects(experiment, shown);
  return experiment;
}

async function checkChaosObjects(e: Experiment, shown: string): Promise<void> {
  const objects: Array<{ at: string; obj: KubeObject }> = [];
  const injected = new Set<string>();
  const walk = (list: Activity[], where: string) =>
    list.forEach((a, i) => {
      if (a.type !== 'action' || a.provider.type !== 'chaos-mesh') return;
      const at = `${where}[${i}].provider`;
      const p = a.provider;
      if (!p.object === !p.recover)
        throw new TwinError(
          'TWIN_EXPERIMENT_INVALID',
          `${shown}: ${at}: give exactly one of object (inject) and recover (end)`,
        );
      if (p.object) {
        const obj = p.object as unknown as KubeObject;
        if (!isChaosObject(obj))
          throw new TwinError(
            'TWIN_EXPERIMENT_INVALID',
            `${shown}: ${at}.object: ${obj.apiVersion} ${obj.kind} is not a Chaos Mesh chaos object (chaos-mesh.org/v1alpha1 PodChaos, NetworkChaos, HTTPChaos, StressChaos, DNSChaos)`,
          );
        objects.push({ at: `${at}.object`, obj });
        injected.add(obj.metadata?.name);
      } else if (!injected.has(p.recover!))
        throw new TwinError(
          'TWIN_EXPERIMENT_INVALID',
          `${shown}: ${at}.recover: no chaos object named ${JSON.stringify(p.recover)} is injected before it (injected: ${[...injected].join(', ') || 'none'})`,
        );
    });
  walk(e.method, 'method');
  walk(e.rollbacks, 'rollbacks');
  if (objects.length === 0) return;
  const layout = await resolveSystem(e.system);
  const addons = existsSync(layout.addonsFile) ? await loadAddons(layout.addonsFile) : [];
  if (!addons.some((a) => a.name === 'chaos-mesh'))
    throw new TwinError(
      'TWIN_EXPERIMENT_INVALID',
      `${shown}: its Chaos Mesh objects need the chaos-mesh add-on in infra/${e.system}/addons.yaml (a cluster without Chaos Mesh rejects them); add - { name: chaos-mesh, version: v2.8.2 }`,
    );
  const registry = registryWith(addons);
  for (const { at, obj } of objects) {
    const withNs = { ...obj, metadata: { namespace: 'default', ...obj.metadata } };
    const { causes } = validateObject(withNs, registry, { fieldValidation: 'Strict' });
    if (causes.length > 0)
      throw new TwinError(
        'TWIN_EXPERIMENT_INVALID',
        causes
          .map(
            (c) =>
              `${shown}: ${at}: ${obj.kind} ${obj.metadata?.name}: ${c.field ? `${c.field}: ` : ''}${c.message}`,
          )
          .join('\n'),
      );
  }
}
