import type { KubeObject } from '../../kube/object.ts';

export interface NodeSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt' | string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export function matchesNodeSelectorRequirement(
  req: NodeSelectorRequirement,
  labels: Record<string, string>,
): boolean {
  const has = Object.hasOwn(labels, req.key);
  const value = labels[req.key];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(value!);
    case 'NotIn':
      return !has || !values.includes(value!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1) return false;
      const actual = Number.parseInt(value!, 10);
      const bound = Number.parseInt(values[0]!, 10);
      if (Number.isNaN(actual) || Number.isNaN(bound)) return false;
      return req.operator === 'Gt' ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

/** A term is the AND of its expressions and fields (only metadata.name is a field); an empty term matches nothing. */
export function matchesNodeSelectorTerm(term: NodeSelectorTerm, node: KubeObject): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  const fieldValues = { 'metadata.name': node.metadata.name };
  return (
    exprs.every((r) => matchesNodeSelectorRequirement(r, labels)) &&
    fields.every((r) => r.key === 'metadata.name' && matchesNodeSelectorRequirement(r, fieldValues))
  );
}

/** nodeSelectorTerms are ORed. */
export function matchesNodeSelectorTerms(terms: NodeSelectorTerm[], node: KubeObject): boolean {
  return terms.some((t) => matchesNodeSelectorTerm(t, node));
}

/** The pod's spec.nodeSelector and required node affinity both hold for the node. */
export function podMatchesNodeSelectorAndAffinity(pod: KubeObject, node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>)) {
    if (labels[k] !== v) return false;
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return matchesNodeSelectorTerms(required.nodeSelectorTerms ?? [], node);
}
