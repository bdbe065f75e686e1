import { matchesSelector } from '../labels.ts';
import { cronScheduleProblem } from './cron-schedule.ts';
import {
  child,
  duplicate,
  forbidden,
  index,
  invalid,
  invalidShown,
  notSupported,
  required,
  type StatusCause,
} from './field-errors.ts';
import { labelCauses } from './metadata-validation.ts';
import { portName } from './name-validation.ts';
import { isPort, podSpecCauses } from './pod-validation.ts';
import { isPlainObject } from './structural-schema.ts';

/**
 * The hand-written validation kube-apiserver's registry strategies run for the built-in kinds, beyond
 * what the OpenAPI schema says (pkg/apis/<group>/validation), for the kinds systems write: workloads,
 * Services, Ingresses, HPAs and PodDisruptionBudgets. Messages as kube-apiserver words them.
 */
// Twin simplification: the hand-written validation of the kinds systems write, not of every built-in kind.
export function kindCauses(obj: Record<string, unknown>, group: string, kind: string): StatusCause[] {
  const spec = obj['spec'];
  if (!isPlainObject(spec)) return [];
  const key = `${group}/${kind}`;
  switch (key) {
    case 'apps/Deployment':
    case 'apps/ReplicaSet':
    case 'apps/StatefulSet':
    case 'apps/DaemonSet':
      return workloadCauses(spec, kind);
    case '/Pod':
      return podSpecCauses(spec, 'spec');
    case '/PodTemplate':
      return podSpecCauses(
        isPlainObject(obj['template']) ? obj['template']['spec'] : undefined,
        'template.spec',
      );
    case 'batch/Job':
      return jobSpecCauses(spec, 'spec');
    case 'batch/CronJob': {
      const out: StatusCause[] = [];
      const schedule = spec['schedule'];
      const bad = cronScheduleProblem(schedule);
      if (bad && typeof schedule === 'string')
        out.push(invalid('spec.schedule', schedule, bad.replace(`${JSON.stringify(schedule.trim())}: `, '')));
      const jobTemplate = spec['jobTemplate'];
      if (isPlainObject(jobTemplate))
        out.push(...jobSpecCauses(jobTemplate['spec'], 'spec.jobTemplate.spec'));
      return out;
    }
    case '/Service':
      return serviceCauses(spec);
    case 'networking.k8s.io/Ingress':
      return ingressCauses(spec);
    case 'autoscaling/HorizontalPodAutoscaler':
      return hpaCauses(spec);
    case 'policy/PodDisruptionBudget':
      return pdbCauses(spec);
    default:
      return [];
  }
}

function workloadCauses(spec: Record<string, unknown>, kind: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (kind !== 'DaemonSet' && typeof spec['replicas'] === 'number' && spec['replicas'] < 0)
    out.push(invalid('spec.replicas', spec['replicas'], 'must be greater than or equal to 0'));
  out.push(...selectorCauses(spec['selector'], 'spec.selector', kind.toLowerCase()));
  const template = spec['template'];
  if (isPlainObject(template)) {
    const labels = isPlainObject(template['metadata']) ? template['metadata']['labels'] : undefined;
    if (isPlainObject(spec['selector']) && !selectorIsEmpty(spec['selector'])) {
      const l = isPlainObject(labels) ? (labels as Record<string, string>) : {};
      if (!matchesSelector(spec['selector'] as any, l))
        out.push(
          invalidShown(
            'spec.template.metadata.labels',
            showMap(l),
            '`selector` does not match template `labels`',
          ),
        );
    }
    out.push(...podSpecCauses(template['spec'], 'spec.template.spec', ['Always']));
  }
  if (kind === 'Deployment') out.push(...deploymentStrategyCauses(spec['strategy']));
  if (kind === 'StatefulSet') {
    const claims = spec['volumeClaimTemplates'];
    if (Array.isArray(claims))
      claims.forEach((c: unknown, i: number) => {
        const name = isPlainObject(c) && isPlainObject(c['metadata']) ? c['metadata']['name'] : undefined;
        if (typeof name !== 'string' || name === '')
          out.push(required(child(index('spec.volumeClaimTemplates', i), 'metadata.name')));
      });
  }
  return out;
}

function deploymentStrategyCauses(strategy: unknown): StatusCause[] {
  if (!isPlainObject(strategy)) return [];
  const out: StatusCause[] = [];
  const rolling = strategy['rollingUpdate'];
  if (strategy['type'] === 'Recreate' && rolling !== undefined && rolling !== null)
    out.push(
      forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"),
    );
  if (isPlainObject(rolling)) {
    const surge = rolling['maxSurge'];
    const unavailable = rolling['maxUnavailable'];
    out.push(...intOrPercentCauses(surge, 'spec.strategy.rollingUpdate.maxSurge'));
    out.push(...intOrPercentCauses(unavailable, 'spec.strategy.rollingUpdate.maxUnavailable'));
    if (isZero(surge) && isZero(unavailable))
      out.push(
        invalid(
          'spec.strategy.rollingUpdate.maxUnavailable',
          unavailable,
          'may not be 0 when `maxSurge` is 0',
        ),
      );
    if (typeof unavailable === 'string' && percentOf(unavailable) > 100)
      out.push(
        invalid('spec.strategy.rollingUpdate.maxUnavailable', unavailable, 'must not be greater than 100%'),
      );
  }
  return out;
}

function isZero(v: unknown): boolean {
  return v === 0 || v === '0%';
}

function percentOf(v: string): number {
  return /^[0-9]+%$/.test(v) ? Number(v.slice(0, -1)) : Number.NaN;
}

/** ValidatePositiveIntOrPercent. */
export function intOrPercentCauses(v: unknown, at: string): StatusCause[] {
  if (typeof v === 'string') {
    if (!/^[0-9]+%$/.test(v))
      return [
        invalid(
          at,
          v,
          "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        ),
      ];
    return [];
  }
  if (typeof v === 'number' && v < 0) return [invalid(at, v, 'must be greater than or equal to 0')];
  return [];
}

function selectorIsEmpty(selector: Record<string, unknown>): boolean {
  const labels = selector['matchLabels'];
  const expressions = selector['matchExpressions'];
  return (
    (!isPlainObject(labels) || Object.keys(labels).length === 0) &&
    (!Array.isArray(expressions) || expressions.length === 0)
  );
}

export function selectorCauses(selector: unknown, at: string, kindWord?: string): StatusCause[] {
  if (!isPlainObject(selector)) return [];
  const out: StatusCause[] = [];
  if (kindWord && selectorIsEmpty(selector))
    out.push(invalidShown(at, '{}', `empty selector is invalid for ${kindWord}`));
  out.push(...labelCauses(selector['matchLabels'], child(at, 'matchLabels')));
  const expressions = selector['matchExpressions'];
  if (Array.isArray(expressions))
    expressions.forEach((e: unknown, i: number) => {
      if (!isPlainObject(e)) return;
      const eAt = index(child(at, 'matchExpressions'), i);
      const op = e['operator'];
      const values = e['values'];
      const has = Array.isArray(values) && values.length > 0;
      if (op === 'In' || op === 'NotIn') {
        if (!has)
          out.push(required(child(eAt, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      } else if (op === 'Exists' || op === 'DoesNotExist') {
        if (has)
          out.push(
            forbidden(
              child(eAt, 'values'),
              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
          );
      } else if (typeof op === 'string') {
        out.push(notSupported(child(eAt, 'operator'), op, ['In', 'NotIn', 'Exists', 'DoesNotExist']));
      }
    });
  return out;
}

function jobSpecCauses(spec: unknown, at: string): StatusCause[] {
  if (!isPlainObject(spec)) return [];
  const out: StatusCause[] = [];
  for (const field of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds']) {
    const v = spec[field];
    if (typeof v === 'number' && v < 0)
      out.push(invalid(child(at, field), v, 'must be greater than or equal to 0'));
  }
  const template = spec['template'];
  if (isPlainObject(template))
    out.push(...podSpecCauses(template['spec'], child(at, 'template.spec'), ['OnFailure', 'Never']));
  return out;
}

function serviceCauses(spec: Record<string, unknown>): StatusCause[] {
  const out: StatusCause[] = [];
  const type = spec['type'] ?? 'ClusterIP';
  if (type === 'ExternalName' && (typeof spec['externalName'] !== 'string' || spec['externalName'] === ''))
    out.push(required('spec.externalName'));
  const ports = spec['ports'];
  const headless = spec['clusterIP'] === 'None';
  if (!Array.isArray(ports) || ports.length === 0) {
    if (type !== 'ExternalName' && !headless) out.push(required('spec.ports'));
    return out;
  }
  const names = new Set<string>();
  ports.forEach((p: unknown, i: number) => {
    if (!isPlainObject(p)) return;
    const at = index('spec.ports', i);
    if (typeof p['port'] === 'number' && !isPort(p['port']))
      out.push(invalid(child(at, 'port'), p['port'], 'must be between 1 and 65535, inclusive'));
    const target = p['targetPort'];
    if (typeof target === 'number' && !isPort(target))
      out.push(invalid(child(at, 'targetPort'), target, 'must be between 1 and 65535, inclusive'));
    if (typeof target === 'string')
      for (const m of portName(target)) out.push(invalid(child(at, 'targetPort'), target, m));
    if (ports.length > 1) {
      const name = p['name'];
      if (typeof name !== 'string' || name === '') out.push(required(child(at, 'name')));
      else if (names.has(name)) out.push(duplicate(child(at, 'name'), name));
      else names.add(name);
    }
  });
  return out;
}

function ingressCauses(spec: Record<string, unknown>): StatusCause[] {
  const out: StatusCause[] = [];
  const rules = spec['rules'];
  if (spec['defaultBackend'] === undefined && (!Array.isArray(rules) || rules.length === 0))
    return [invalidShown('spec.rules', '[]', 'either `defaultBackend` or `rules` must be specified')];
  if (spec['defaultBackend'] !== undefined)
    out.push(...backendCauses(spec['defaultBackend'], 'spec.defaultBackend'));
  (Array.isArray(rules) ? rules : []).forEach((rule: unknown, i: number) => {
    if (!isPlainObject(rule) || !isPlainObject(rule['http'])) return;
    const at = child(index('spec.rules', i), 'http');
    const paths = rule['http']['paths'];
    if (!Array.isArray(paths) || paths.length === 0) {
      out.push(required(child(at, 'paths')));
      return;
    }
    paths.forEach((p: unknown, j: number) => {
      if (!isPlainObject(p)) return;
      const pAt = index(child(at, 'paths'), j);
      const path = p['path'];
      if (typeof path === 'string' && !path.startsWith('/'))
        out.push(invalid(child(pAt, 'path'), path, 'must be an absolute path'));
      if (p['backend'] !== undefined) out.push(...backendCauses(p['backend'], child(pAt, 'backend')));
    });
  });
  return out;
}

function backendCauses(backend: unknown, at: string): StatusCause[] {
  if (!isPlainObject(backend)) return [];
  const svc = backend['service'];
  const resource = backend['resource'];
  if (svc !== undefined && resource !== undefined)
    return [invalidShown(at, '{…}', 'cannot set both resource and service backends')];
  if (svc === undefined && resource === undefined)
    return [invalidShown(at, '{…}', 'resource or service backend is required')];
  if (!isPlainObject(svc)) return [];
  const port = svc['port'];
  if (!isPlainObject(port)) return [required(child(at, 'service.port'))];
  if (port['name'] !== undefined && port['number'] !== undefined)
    return [invalidShown(child(at, 'service.port'), '{…}', 'cannot set both port name & port number')];
  if (port['name'] === undefined && port['number'] === undefined)
    return [invalidShown(child(at, 'service.port'), '{…}', 'port name or number is required')];
  if (typeof port['number'] === 'number' && !isPort(port['number']))
    return [
      invalid(child(at, 'service.port.number'), port['number'], 'must be between 1 and 65535, inclusive'),
    ];
  return [];
}

function hpaCauses(spec: Record<string, unknown>): StatusCause[] {
  const out: StatusCause[] = [];
  const max = spec['maxReplicas'];
  const min = spec['minReplicas'];
  if (typeof max === 'number' && max < 1)
    out.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to 1'));
  if (typeof min === 'number' && min < 1)
    out.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  else if (typeof min === 'number' && typeof max === 'number' && min > max)
    out.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  return out;
}

function pdbCauses(spec: Record<string, unknown>): StatusCause[] {
  const out: StatusCause[] = [];
  const min = spec['minAvailable'];
  const max = spec['maxUnavailable'];
  if (min !== undefined && min !== null && max !== undefined && max !== null)
    out.push(invalidShown('spec', '{…}', 'minAvailable and maxUnavailable cannot be both set'));
  for (const [field, v] of [
    ['minAvailable', min],
    ['maxUnavailable', max],
  ] as const) {
    const at = `spec.${field}`;
    const bad = intOrPercentCauses(v, at);
    out.push(...bad);
    if (bad.length === 0 && typeof v === 'string' && percentOf(v) > 100)
      out.push(invalid(at, v, 'must not be greater than 100%'));
  }
  out.push(...selectorCauses(spec['selector'], 'spec.selector'));
  return out;
}

/** How kube prints a label map in a field error: map[string]string{"app":"api"}. */
function showMap(m: Record<string, string>): string {
  return `map[string]string{${Object.entries(m)
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join(', ')}}`;
}
