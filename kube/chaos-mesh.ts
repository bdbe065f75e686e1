import { TwinError } from '../core/errors.ts';
import { parseGoDuration } from './duration.ts';
import type { KubeObject } from './object.ts';

/**
 * Chaos Mesh's vocabulary (chaos-mesh.org/v1alpha1, the add-on in system/addons/chaos-mesh): the chaos
 * kinds the experiments use, and how a chaos object picks its targets — its PodSelector (selector, mode,
 * value) as Chaos Mesh documents it. Pure: the pods and nodes come in as plain objects.
 */
export const CHAOS_MESH_API_VERSION = 'chaos-mesh.org/v1alpha1';
export const CHAOS_KINDS = ['PodChaos', 'NetworkChaos', 'HTTPChaos', 'StressChaos', 'DNSChaos'] as const;
export type ChaosKind = (typeof CHAOS_KINDS)[number];

export interface ChaosSelector {
  namespaces?: string[];
  nodes?: string[];
  /** Namespace → pod names; when given, Chaos Mesh ignores every other selector. */
  pods?: Record<string, string[]>;
  nodeSelectors?: Record<string, string>;
  fieldSelectors?: Record<string, string>;
  labelSelectors?: Record<string, string>;
  annotationSelectors?: Record<string, string>;
  expressionSelectors?: Array<{ key: string; operator: string; values?: string[] }>;
  podPhaseSelectors?: string[];
}

export type ChaosMode = 'one' | 'all' | 'fixed' | 'fixed-percent' | 'random-max-percent';

export interface PodSelectorSpec {
  selector: ChaosSelector;
  mode: ChaosMode;
  value?: string;
}

export function isChaosObject(obj: KubeObject): boolean {
  return obj.apiVersion === CHAOS_MESH_API_VERSION && (CHAOS_KINDS as readonly string[]).includes(obj.kind);
}

export function describeChaos(obj: KubeObject): string {
  return `${obj.kind} ${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
}

/**
 * The pods a selector matches. Documented semantics: `pods` names the pods and overrides every other
 * selector; otherwise all selectors must match, and without `namespaces` the chaos object's own
 * namespace is used. Pods being deleted are never selected.
 */
export function matchChaosSelector(
  selector: ChaosSelector,
  pods: KubeObject[],
  nodes: KubeObject[],
  chaosNamespace: string,
): KubeObject[] {
  const live = pods.filter((p) => !p.metadata.deletionTimestamp);
  if (selector.pods && Object.keys(selector.pods).length > 0) {
    const wanted = new Set(
      Object.entries(selector.pods).flatMap(([ns, names]) => names.map((n) => `${ns}/${n}`)),
    );
    return live.filter((p) => wanted.has(`${p.metadata.namespace}/${p.metadata.name}`)).sort(byName);
  }
  const namespaces = new Set(selector.namespaces?.length ? selector.namespaces : [chaosNamespace]);
  const nodeLabels = new Map(nodes.map((n) => [n.metadata.name, n.metadata.labels ?? {}]));
  return live
    .filter((p) => namespaces.has(p.metadata.namespace ?? 'default'))
    .filter((p) => matchesMap(p.metadata.labels, selector.labelSelectors))
    .filter((p) => matchesMap(p.metadata.annotations, selector.annotationSelectors))
    .filter((p) => matchesExpressions(p.metadata.labels ?? {}, selector.expressionSelectors))
    .filter((p) => !selector.nodes?.length || selector.nodes.includes(p.spec?.nodeName))
    .filter(
      (p) =>
        !selector.nodeSelectors ||
        (p.spec?.nodeName !== undefined &&
          matchesMap(nodeLabels.get(p.spec.nodeName), selector.nodeSelectors)),
    )
    .filter(
      (p) => !selector.podPhaseSelectors?.length || selector.podPhaseSelectors.includes(p.status?.phase),
    )
    .filter((p) => matchesFields(p, selector.fieldSelectors))
    .sort(byName);
}

/**
 * Chaos Mesh's modes over the matched pods: `one` a random pod, `all`, `fixed` N random pods,
 * `fixed-percent` ⌊P % of them⌋, `random-max-percent` ⌊r % of them⌋ with r drawn from 0…P. Throws when
 * nothing is selected, as Chaos Mesh fails the experiment ("no pod is selected").
 */
export function pickByMode(
  matched: KubeObject[],
  spec: { mode: ChaosMode; value?: string },
  random: () => number,
  what: string,
): KubeObject[] {
  const value = spec.value === undefined ? undefined : Number(spec.value);
  const need = (v: number | undefined): number => {
    if (v === undefined || !Number.isFinite(v) || v < 0)
      throw new TwinError(
        'TWIN_MANIFEST_INVALID',
        `${what}: mode ${spec.mode} needs a non-negative number in value, got ${JSON.stringify(spec.value)}`,
      );
    return v;
  };
  let count: number;
  switch (spec.mode) {
    case 'all':
      count = matched.length;
      break;
    case 'one':
      count = Math.min(1, matched.length);
      break;
    case 'fixed':
      count = Math.min(Math.floor(need(value)), matched.length);
      break;
    case 'fixed-percent':
      count = Math.floor((matched.length * Math.min(100, need(value))) / 100);
      break;
    case 'random-max-percent': {
      const max = Math.floor(Math.min(100, need(value)));
      const percent = Math.floor(random() * (max + 1));
      count = Math.floor((matched.length * percent) / 100);
      break;
    }
    default:
      throw new TwinError(
        'TWIN_MANIFEST_INVALID',
        `${what}: mode ${JSON.stringify(spec.mode)} is not a mode`,
      );
  }
  if (count === 0)
    throw new TwinError(
      'TWIN_NOT_FOUND',
      `${what}: no pod is selected (${matched.length} matched the selector, mode ${spec.mode}${spec.value !== undefined ? ` ${spec.value}` : ''})`,
    );
  const pool = [...matched];
  const out: KubeObject[] = [];
  while (out.length < count) out.push(pool.splice(Math.floor(random() * pool.length), 1)[0]!);
  return out.sort(byName);
}

/** The same object with its targets named (`pods`, mode all): what was chosen is what runs, anywhere. */
export function pinTargets(obj: KubeObject, pods: KubeObject[]): KubeObject {
  const byNs: Record<string, string[]> = {};
  for (const p of pods) {
    const ns = p.metadata.namespace ?? 'default';
    byNs[ns] = [...(byNs[ns] ?? []), p.metadata.name];
  }
  const out = structuredClone(obj);
  out['spec'] = { ...out['spec'], selector: { pods: byNs }, mode: 'all' };
  delete out['spec'].value;
  return out;
}

/** A Chaos Mesh duration ("30s", "1m30s"): milliseconds, or undefined when unset. */
export function chaosDurationMs(obj: KubeObject): number | undefined {
  const text = obj['spec']?.duration as string | undefined;
  if (text === undefined) return undefined;
  const ms = parseGoDuration(text);
  if (ms === undefined)
    throw new TwinError(
      'TWIN_MANIFEST_INVALID',
      `${describeChaos(obj)}: spec.duration: ${JSON.stringify(text)} is not a duration (e.g. 30s, 5m)`,
    );
  return ms;
}

function byName(a: KubeObject, b: KubeObject): number {
  const ka = `${a.metadata.namespace}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function matchesMap(
  have: Record<string, string> | undefined,
  want: Record<string, string> | undefined,
): boolean {
  if (!want) return true;
  return Object.entries(want).every(([k, v]) => have?.[k] === v);
}

function matchesExpressions(
  labels: Record<string, string>,
  expressions: ChaosSelector['expressionSelectors'],
): boolean {
  for (const e of expressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const v = labels[e.key];
    const values = e.values ?? [];
    const ok =
      e.operator === 'In'
        ? has && values.includes(v!)
        : e.operator === 'NotIn'
          ? !has || !values.includes(v!)
          : e.operator === 'Exists'
            ? has
            : e.operator === 'DoesNotExist'
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

function matchesFields(pod: KubeObject, fields: Record<string, string> | undefined): boolean {
  for (const [path, want] of Object.entries(fields ?? {})) {
    let v: unknown = pod;
    for (const part of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
    if (String(v) !== want) return false;
  }
  return true;
}
