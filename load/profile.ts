import { z } from 'zod';
import { TwinError } from '../core/errors.ts';
import { parseDuration } from './duration.ts';
import { parseThresholdExpression, parseThresholdKey } from './thresholds.ts';

/**
 * A load profile: what to hit (a Service or Ingress of the system, resolved by the environment), how
 * (one k6 executor with k6's meanings and option names), with which request mix, and the thresholds in
 * k6 syntax. The same profile runs on the embedded engine (harness/load/) and becomes a k6 script
 * (harness/load/k6-script.ts).
 */

const duration = z.union([z.string(), z.number()]).refine((v) => parseDuration(v) !== undefined, {
  message: "is not a k6 duration (e.g. '500ms', '30s', '1m30s')",
});
const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const stage = z.object({ duration, target: nonNegativeInt }).strict();
const tags = z.record(z.string(), z.string());

const common = {
  /** Time to let iterations in flight finish when the scenario ends (k6 default '30s'). */
  gracefulStop: duration.optional(),
  tags: tags.optional(),
};

const constantArrivalRate = z
  .object({
    executor: z.literal('constant-arrival-rate'),
    rate: positiveInt,
    timeUnit: duration.optional(),
    duration,
    preAllocatedVUs: positiveInt,
    maxVUs: positiveInt.optional(),
    ...common,
  })
  .strict();

const rampingArrivalRate = z
  .object({
    executor: z.literal('ramping-arrival-rate'),
    startRate: nonNegativeInt.optional(),
    timeUnit: duration.optional(),
    stages: z.array(stage).min(1),
    preAllocatedVUs: positiveInt,
    maxVUs: positiveInt.optional(),
    ...common,
  })
  .strict();

const constantVus = z
  .object({
    executor: z.literal('constant-vus'),
    vus: positiveInt.optional(),
    duration,
    ...common,
  })
  .strict();

const rampingVus = z
  .object({
    executor: z.literal('ramping-vus'),
    startVUs: nonNegativeInt.optional(),
    stages: z.array(stage).min(1),
    gracefulRampDown: duration.optional(),
    ...common,
  })
  .strict();

const scenarioSchema = z.discriminatedUnion('executor', [
  constantArrivalRate,
  rampingArrivalRate,
  constantVus,
  rampingVus,
]);

const requestSchema = z
  .object({
    /** k6's `name` tag: groups URLs with different query strings in the metrics. */
    name: z.string().min(1).optional(),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']).default('GET'),
    path: z.string().startsWith('/', { message: "must start with '/' (it is joined to the target's URL)" }),
    body: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    weight: z.number().positive().default(1),
    tags: tags.optional(),
  })
  .strict();

const thresholdSchema = z.union([
  z.string(),
  z
    .object({
      threshold: z.string(),
      abortOnFail: z.boolean().optional(),
      delayAbortEval: duration.optional(),
    })
    .strict(),
]);

const targetSchema = z
  .object({
    kind: z.enum(['Service', 'Ingress']),
    namespace: z.string().min(1),
    name: z.string().min(1),
    /** Service port (name or number); the first port when left out. */
    port: z.union([z.string(), z.number().int()]).optional(),
  })
  .strict();

export const loadProfileSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'must be lowercase letters, digits and -' }),
    description: z.string().optional(),
    target: targetSchema,
    scenario: scenarioSchema,
    requests: z.array(requestSchema).min(1),
    /** Tags on every sample (k6 options.tags). */
    tags: tags.optional(),
    /** Per-request timeout (k6 params.timeout, default '60s'). */
    timeout: duration.optional(),
    /** Think time after each iteration in seconds (k6 sleep()); VU executors only. */
    sleep: z.number().nonnegative().optional(),
    thresholds: z.record(z.string(), z.array(thresholdSchema).min(1)).default({}),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const [key, list] of Object.entries(p.thresholds)) {
      try {
        parseThresholdKey(key);
        list.forEach((t, i) => {
          try {
            parseThresholdExpression(key, typeof t === 'string' ? t : t.threshold);
          } catch (e) {
            ctx.addIssue({ code: 'custom', path: ['thresholds', key, i], message: (e as Error).message });
          }
        });
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['thresholds', key], message: (e as Error).message });
      }
    }
    const s = p.scenario;
    if (
      (s.executor === 'constant-arrival-rate' || s.executor === 'ramping-arrival-rate') &&
      s.maxVUs !== undefined &&
      s.maxVUs < s.preAllocatedVUs
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['scenario', 'maxVUs'],
        message: `must be at least preAllocatedVUs (${s.preAllocatedVUs})`,
      });
    }
  });

export type LoadProfileInput = z.input<typeof loadProfileSchema>;
export type LoadProfile = z.output<typeof loadProfileSchema>;
export type ScenarioConfig = LoadProfile['scenario'];
export type RequestSpec = LoadProfile['requests'][number];
export type ThresholdSpec = LoadProfile['thresholds'][string][number];
export type ProfileTarget = LoadProfile['target'];

/**
 * Checks a profile, throwing TWIN_LOAD_PROFILE_INVALID that names the profile (and its file when
 * known) and every bad field: `load profile "steady" (load/profiles/steady.ts): scenario.rate: …`.
 */
export function validateProfile(input: unknown, source?: string): LoadProfile {
  const result = loadProfileSchema.safeParse(input);
  if (result.success) return result.data;
  const name =
    input && typeof input === 'object' && typeof (input as { name?: unknown }).name === 'string'
      ? (input as { name: string }).name
      : '?';
  const where = `load profile "${name}"${source ? ` (${source})` : ''}`;
  const problems = result.error.issues.map(
    (i) => `${i.path.length ? i.path.map(String).join('.') : '(profile)'}: ${i.message}`,
  );
  throw new TwinError('TWIN_LOAD_PROFILE_INVALID', `${where}: ${problems.join('; ')}`);
}

/** Declares a profile in a load/profiles/*.ts file; validated when loaded. */
export function defineProfile(profile: LoadProfileInput): LoadProfileInput {
  return profile;
}

/** The scenario's time span without gracefulStop, in ms. */
export function scenarioDurationMs(s: ScenarioConfig): number {
  if ('duration' in s) return parseDuration(s.duration)!;
  return s.stages.reduce((sum, st) => sum + parseDuration(st.duration)!, 0);
}

/** The most VUs the scenario may use. */
export function scenarioMaxVus(s: ScenarioConfig): number {
  switch (s.executor) {
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return s.maxVUs ?? s.preAllocatedVUs;
    case 'constant-vus':
      return s.vus ?? 1;
    case 'ramping-vus':
      return Math.max(s.startVUs ?? 1, ...s.stages.map((st) => st.target));
  }
}
