import type { KubeObject } from '../../kube/object.ts';

interface TopologySelectorTerm {
  matchLabelExpressions?: Array<{ key: string; values: string[] }>;
}

/**
 * Whether a node satisfies a StorageClass's allowedTopologies (v1helper.MatchTopologySelectorTerms:
 * terms ORed, expressions ANDed, no terms = anywhere).
 */
export function allowedByTopologies(storageClass: KubeObject, node: KubeObject): boolean {
  const terms = (storageClass['allowedTopologies'] ?? []) as TopologySelectorTerm[];
  if (terms.length === 0) return true;
  const labels = node.metadata.labels ?? {};
  return terms.some((t) =>
    (t.matchLabelExpressions ?? []).every(
      (e) => labels[e.key] !== undefined && e.values.includes(labels[e.key]!),
    ),
  );
}
