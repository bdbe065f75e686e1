import type { KubeObject } from '../../kube/object.ts';

interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

interface Taint {
  key: string;
  value?: string;
  effect: string;
}

function matchesRequirement(req: NodeSelectorRequirement, fields: Record<string, string>): boolean {
  const has = Object.hasOwn(fields, req.key);
  const v = fields[req.key];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(v!);
    case 'NotIn':
      return !has || !values.includes(v!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
      return has && Number(v) > Number(values[0]);
    case 'Lt':
      return has && Number(v) < Number(values[0]);
    default:
      return false;
  }
}

/** The pod's nodeSelector and required node affinity (terms ORed, expressions ANDed) hold for the node. */
export function nodeMatchesPod(podSpec: KubeObject['spec'], node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries((podSpec?.nodeSelector ?? {}) as Record<string, string>))
    if (labels[k] !== v) return false;
  const terms = podSpec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
    ?.nodeSelectorTerms as
    | Array<{ matchExpressions?: NodeSelectorRequirement[]; matchFields?: NodeSelectorRequirement[] }>
    | undefined;
  if (!terms || terms.length === 0) return true;
  const fields = { 'metadata.name': node.metadata.name };
  return terms.some(
    (t) =>
      ((t.matchExpressions?.length ?? 0) > 0 || (t.matchFields?.length ?? 0) > 0) &&
      (t.matchExpressions ?? []).every((r) => matchesRequirement(r, labels)) &&
      (t.matchFields ?? []).every((r) => matchesRequirement(r, fields)),
  );
}

export function toleratesTaint(tolerations: Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.key === undefined || t.key === '') return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}

/** The node's taints with the given effects that the tolerations do not tolerate. */
export function untoleratedTaints(node: KubeObject, tolerations: Toleration[], effects: string[]): Taint[] {
  const taints: Taint[] = [...((node.spec?.taints ?? []) as Taint[])];
  if (node.spec?.unschedulable && !taints.some((t) => t.key === 'node.kubernetes.io/unschedulable')) {
    taints.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });
  }
  return taints.filter((t) => effects.includes(t.effect) && !toleratesTaint(tolerations, t));
}
