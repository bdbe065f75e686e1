import { parseQuantity } from '../quantity.ts';
import {
  child,
  duplicate,
  index,
  invalid,
  key,
  notSupported,
  required,
  type StatusCause,
} from './field-errors.ts';
import { labelCauses } from './metadata-validation.ts';
import { dns1123Label, envVarName, labelValue, portName, qualifiedName } from './name-validation.ts';
import { isPlainObject } from './structural-schema.ts';

/**
 * The hand-written checks of a pod spec that kube-apiserver makes beyond the OpenAPI schema
 * (pkg/apis/core/validation: ValidatePodSpec, validateContainers, validateEnv, ValidateResourceRequirements,
 * ValidateTolerations). Messages as it words them.
 */
export function podSpecCauses(spec: unknown, at: string, restartPolicies?: readonly string[]): StatusCause[] {
  if (!isPlainObject(spec)) return [];
  const out: StatusCause[] = [];
  const containers = spec['containers'];
  if (!Array.isArray(containers) || containers.length === 0) out.push(required(child(at, 'containers')));
  const names = new Set<string>();
  for (const field of ['initContainers', 'containers']) {
    const list = spec[field];
    if (!Array.isArray(list)) continue;
    list.forEach((c: unknown, i: number) => {
      if (!isPlainObject(c)) return;
      out.push(...containerCauses(c, index(child(at, field), i), names));
    });
  }
  const policy = spec['restartPolicy'] ?? 'Always';
  if (restartPolicies && typeof policy === 'string' && !restartPolicies.includes(policy))
    out.push(notSupported(child(at, 'restartPolicy'), policy, restartPolicies));
  out.push(...tolerationCauses(spec['tolerations'], child(at, 'tolerations')));
  out.push(...labelCauses(spec['nodeSelector'], child(at, 'nodeSelector')));
  const spread = spec['topologySpreadConstraints'];
  if (Array.isArray(spread))
    spread.forEach((c: unknown, i: number) => {
      if (isPlainObject(c) && typeof c['maxSkew'] === 'number' && c['maxSkew'] <= 0)
        out.push(
          invalid(
            child(index(child(at, 'topologySpreadConstraints'), i), 'maxSkew'),
            c['maxSkew'],
            'must be greater than zero',
          ),
        );
    });
  return out;
}

function containerCauses(c: Record<string, unknown>, at: string, names: Set<string>): StatusCause[] {
  const out: StatusCause[] = [];
  const name = c['name'];
  if (typeof name === 'string' && name !== '') {
    for (const p of dns1123Label(name)) out.push(invalid(child(at, 'name'), name, p));
    if (names.has(name)) out.push(duplicate(child(at, 'name'), name));
    names.add(name);
  } else if (name === '') out.push(required(child(at, 'name')));
  const image = c['image'];
  if (typeof image !== 'string' || image.trim() === '') out.push(required(child(at, 'image')));
  const ports = c['ports'];
  if (Array.isArray(ports))
    ports.forEach((p: unknown, i: number) => {
      if (!isPlainObject(p)) return;
      const pAt = index(child(at, 'ports'), i);
      const port = p['containerPort'];
      if (typeof port === 'number' && !isPort(port))
        out.push(invalid(child(pAt, 'containerPort'), port, 'must be between 1 and 65535, inclusive'));
      if (typeof p['name'] === 'string')
        for (const m of portName(p['name'])) out.push(invalid(child(pAt, 'name'), p['name'], m));
    });
  const env = c['env'];
  if (Array.isArray(env))
    env.forEach((e: unknown, i: number) => {
      if (!isPlainObject(e)) return;
      const eAt = index(child(at, 'env'), i);
      const n = e['name'];
      if (n === '') out.push(required(child(eAt, 'name')));
      else if (typeof n === 'string')
        for (const m of envVarName(n)) out.push(invalid(child(eAt, 'name'), n, m));
      if (
        typeof e['value'] === 'string' &&
        e['value'] !== '' &&
        e['valueFrom'] !== undefined &&
        e['valueFrom'] !== null
      )
        out.push(invalid(child(eAt, 'valueFrom'), '', 'may not be specified when `value` is not empty'));
    });
  out.push(...resourceCauses(c['resources'], child(at, 'resources')));
  return out;
}

/** Quantities are non-negative, and each request is at most its limit. */
export function resourceCauses(resources: unknown, at: string): StatusCause[] {
  if (!isPlainObject(resources)) return [];
  const out: StatusCause[] = [];
  const parsed: Record<'requests' | 'limits', Record<string, number>> = { requests: {}, limits: {} };
  for (const kind of ['requests', 'limits'] as const) {
    const map = resources[kind];
    if (!isPlainObject(map)) continue;
    for (const [name, q] of Object.entries(map)) {
      if (typeof q !== 'string' && typeof q !== 'number') continue;
      let v: number;
      try {
        v = parseQuantity(q);
      } catch {
        continue; // the schema walk reports a malformed quantity
      }
      if (v < 0) out.push(invalid(key(child(at, kind), name), q, 'must be greater than or equal to 0'));
      else parsed[kind][name] = v;
    }
  }
  for (const [name, request] of Object.entries(parsed.requests)) {
    const limit = parsed.limits[name];
    if (limit !== undefined && request > limit) {
      const limits = resources['limits'] as Record<string, unknown>;
      const requests = resources['requests'] as Record<string, unknown>;
      out.push(
        invalid(
          key(child(at, 'requests'), name),
          String(requests[name]),
          `must be less than or equal to ${name} limit of ${String(limits[name])}`,
        ),
      );
    }
  }
  return out;
}

const TOLERATION_OPERATORS = ['Equal', 'Exists'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** ValidateTolerations with the default feature gates (the Gt/Lt operators are behind a gate that is off by default). */
export function tolerationCauses(tolerations: unknown, at: string): StatusCause[] {
  if (!Array.isArray(tolerations)) return [];
  const out: StatusCause[] = [];
  tolerations.forEach((t: unknown, i: number) => {
    if (!isPlainObject(t)) return;
    const tAt = index(at, i);
    const k = typeof t['key'] === 'string' ? t['key'] : '';
    const operator = typeof t['operator'] === 'string' ? t['operator'] : '';
    const value = typeof t['value'] === 'string' ? t['value'] : '';
    const effect = typeof t['effect'] === 'string' ? t['effect'] : '';
    if (k !== '') for (const p of qualifiedName(k)) out.push(invalid(child(tAt, 'key'), k, p));
    if (k === '' && operator !== 'Exists')
      out.push(
        invalid(
          child(tAt, 'operator'),
          operator,
          'operator must be Exists when `key` is empty, which means "match all values and all keys"',
        ),
      );
    if (t['tolerationSeconds'] !== undefined && t['tolerationSeconds'] !== null && effect !== 'NoExecute')
      out.push(
        invalid(child(tAt, 'effect'), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"),
      );
    switch (operator) {
      case '':
      case 'Equal':
        for (const p of labelValue(value)) out.push(invalid(child(tAt, 'value'), value, p));
        break;
      case 'Exists':
        if (value !== '')
          out.push(invalid(child(tAt, 'operator'), t, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        out.push(notSupported(child(tAt, 'operator'), operator, TOLERATION_OPERATORS));
    }
    if (effect !== '' && !TAINT_EFFECTS.includes(effect))
      out.push(notSupported(child(tAt, 'effect'), effect, TAINT_EFFECTS));
  });
  return out;
}

export function isPort(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
}
