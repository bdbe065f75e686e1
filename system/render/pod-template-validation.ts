import { parseQuantity } from '../../kube/quantity.ts';
import { dns1123LabelProblem } from './name-validation.ts';

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];

/** Problems of a pod spec at `at` (e.g. "spec.template.spec"), as "field: problem" lines. */
export function podSpecProblems(
  spec: any,
  at: string,
  options: { restartPolicies?: string[] } = {},
): string[] {
  if (!isObject(spec)) return [`${at} is required`];
  const out: string[] = [];
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0)
    out.push(`${at}.containers: at least one container is required`);
  const names = new Set<string>();
  for (const field of ['initContainers', 'containers']) {
    const list = spec[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      out.push(`${at}.${field} must be a list`);
      continue;
    }
    list.forEach((c: any, i: number) => {
      const cAt = `${at}.${field}[${i}]`;
      if (!isObject(c)) {
        out.push(`${cAt} must be a mapping`);
        return;
      }
      if (typeof c.name !== 'string' || c.name === '') out.push(`${cAt}.name is required`);
      else {
        const bad = dns1123LabelProblem(c.name);
        if (bad) out.push(`${cAt}.name: ${bad}`);
        if (names.has(c.name))
          out.push(`${cAt}.name: ${JSON.stringify(c.name)} is used by another container`);
        names.add(c.name);
      }
      if (typeof c.image !== 'string' || c.image.trim() === '') out.push(`${cAt}.image is required`);
      out.push(...portProblems(c.ports, `${cAt}.ports`));
      out.push(...resourceProblems(c.resources, `${cAt}.resources`));
    });
  }
  const allowed = options.restartPolicies ?? RESTART_POLICIES;
  const policy = spec.restartPolicy ?? 'Always';
  if (!allowed.includes(policy)) {
    out.push(
      `${at}.restartPolicy: ${JSON.stringify(policy)}${spec.restartPolicy === undefined ? ' (the default)' : ''} is not allowed here; use ${allowed.map((p) => JSON.stringify(p)).join(' or ')}`,
    );
  }
  return out;
}

function portProblems(ports: any, at: string): string[] {
  if (ports === undefined || ports === null) return [];
  if (!Array.isArray(ports)) return [`${at} must be a list`];
  const out: string[] = [];
  ports.forEach((p: any, i: number) => {
    if (!isPort(p?.containerPort)) out.push(`${at}[${i}].containerPort must be an integer from 1 to 65535`);
  });
  return out;
}

/** Quantities parse, and each request is at most its limit (a missing request defaults to the limit). */
export function resourceProblems(resources: any, at: string): string[] {
  if (resources === undefined || resources === null) return [];
  if (!isObject(resources)) return [`${at} must be a mapping`];
  const out: string[] = [];
  const parsed: Record<'requests' | 'limits', Record<string, number>> = { requests: {}, limits: {} };
  for (const kind of ['requests', 'limits'] as const) {
    const map = resources[kind];
    if (map === undefined || map === null) continue;
    if (!isObject(map)) {
      out.push(`${at}.${kind} must be a mapping`);
      continue;
    }
    for (const [name, q] of Object.entries(map)) {
      if (typeof q !== 'string' && typeof q !== 'number') {
        out.push(`${at}.${kind}.${name}: ${JSON.stringify(q)} is not a quantity`);
        continue;
      }
      try {
        const v = parseQuantity(q);
        if (v < 0) out.push(`${at}.${kind}.${name}: ${JSON.stringify(q)} must be greater than or equal to 0`);
        else parsed[kind][name] = v;
      } catch {
        out.push(
          `${at}.${kind}.${name}: ${JSON.stringify(q)} is not a valid quantity (e.g. "500m", "2", "512Mi", "1Gi")`,
        );
      }
    }
  }
  for (const [name, request] of Object.entries(parsed.requests)) {
    const limit = parsed.limits[name];
    if (limit !== undefined && request > limit) {
      out.push(
        `${at}.requests.${name}: ${JSON.stringify(resources.requests[name])} must be less than or equal to the ${name} limit of ${JSON.stringify(resources.limits[name])}`,
      );
    }
  }
  return out;
}

export function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isPort(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
}
