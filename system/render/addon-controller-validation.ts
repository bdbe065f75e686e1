import { parseGoDuration } from '../../kube/duration.ts';
import type { KubeObject } from '../../kube/object.ts';
import type { StatusCause } from '../../kube/schema/index.ts';

const CANARY_STEP_KINDS = [
  'setWeight',
  'pause',
  'analysis',
  'experiment',
  'setCanaryScale',
  'setHeaderRoute',
  'setMirrorRoute',
  'plugin',
];

const isObject = (v: unknown): v is Record<string, any> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What an add-on's controller rejects that its CRD schema lets through: the API server stores these
 * objects, and then the controller refuses them (Argo Rollouts marks a Rollout InvalidSpec, fails the
 * AnalysisRun of a template with a bad duration). At load time the twin reports them with the rest.
 */
export function addonControllerCauses(obj: KubeObject): StatusCause[] {
  if (obj.apiVersion !== 'argoproj.io/v1alpha1') return [];
  switch (obj.kind) {
    case 'Rollout':
      return rolloutCauses(obj.spec);
    case 'AnalysisTemplate':
    case 'ClusterAnalysisTemplate':
    case 'AnalysisRun':
      return analysisCauses(obj.spec);
    default:
      return [];
  }
}

const invalid = (field: string, message: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  field,
  message,
});

/** Argo Rollouts' ValidateRollout (pkg/apis/rollouts/validation), with its InvalidSpec wording. */
function rolloutCauses(spec: unknown): StatusCause[] {
  if (!isObject(spec)) return [];
  const out: StatusCause[] = [];
  if (!isObject(spec['workloadRef']) && !isObject(spec['template']))
    out.push({ reason: 'FieldValueRequired', field: 'spec.template', message: 'Required value' });
  const strategy = spec['strategy'];
  if (!isObject(strategy) || (strategy['canary'] === undefined && strategy['blueGreen'] === undefined))
    return [
      ...out,
      invalid(
        'spec.strategy',
        "Invalid value: {}: Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'",
      ),
    ];
  if (strategy['canary'] !== undefined && strategy['blueGreen'] !== undefined)
    out.push(
      invalid('spec.strategy', 'Invalid value: {…}: Rollout has both Canary and BlueGreen strategies'),
    );
  const steps = strategy['canary']?.steps;
  if (!Array.isArray(steps)) return out;
  steps.forEach((step: unknown, i: number) => {
    const at = `spec.strategy.canary.steps[${i}]`;
    const keys = isObject(step)
      ? Object.keys(step).filter((k) => CANARY_STEP_KINDS.includes(k) && step[k] !== null)
      : [];
    if (keys.length !== 1)
      out.push(
        invalid(
          at,
          `Invalid value: {…}: Step must have one of the following set: experiment, setWeight, setCanaryScale or pause`,
        ),
      );
    if (!isObject(step)) return;
    const w = step['setWeight'];
    if (typeof w === 'number' && (w < 0 || w > 100))
      out.push(invalid(`${at}.setWeight`, `Invalid value: ${w}: SetWeight needs to be between 0 and 100`));
    const d = step['pause']?.duration;
    if (typeof d === 'string' && !/^[0-9]+$/.test(d) && parseGoDuration(d) === undefined)
      out.push(
        invalid(
          `${at}.pause.duration`,
          `Invalid value: ${JSON.stringify(d)}: time: invalid duration ${JSON.stringify(d)}`,
        ),
      );
    if (typeof d === 'number' && d < 0)
      out.push(
        invalid(
          `${at}.pause.duration`,
          `Invalid value: ${d}: Pause duration needs to be greater than or equal to 0`,
        ),
      );
    if (step['analysis'] !== undefined && !Array.isArray(step['analysis']?.templates))
      out.push({
        reason: 'FieldValueRequired',
        field: `${at}.analysis.templates`,
        message: 'Required value',
      });
  });
  return out;
}

/** The metric durations Argo Rollouts parses with time.ParseDuration when it runs the analysis. */
function analysisCauses(spec: unknown): StatusCause[] {
  if (!isObject(spec) || !Array.isArray(spec['metrics'])) return [];
  const out: StatusCause[] = [];
  spec['metrics'].forEach((m: unknown, i: number) => {
    if (!isObject(m)) return;
    for (const field of ['interval', 'initialDelay']) {
      const v = m[field];
      // "{{args.x}}" is resolved when the run is made; only literal values are checked here
      if (typeof v !== 'string' || v.includes('{{')) continue;
      if (parseGoDuration(v.trim()) === undefined)
        out.push(
          invalid(
            `spec.metrics[${i}].${field}`,
            `Invalid value: ${JSON.stringify(v)}: time: invalid duration ${JSON.stringify(v)} (Argo Rollouts fails the AnalysisRun with this error)`,
          ),
        );
    }
  });
  return out;
}
