import { podTemplateHash as computeHash } from '../controllers/pod-template.ts';

/** The label Argo Rollouts puts on ReplicaSets, pods and Service selectors. */
export const POD_TEMPLATE_HASH_LABEL = 'rollouts-pod-template-hash';

/** controller.ComputeHash of a Rollout's pod template, leaving out the hash label itself. */
export function podTemplateHash(template: unknown, collisionCount = 0): string {
  const t = structuredClone(template ?? {}) as { metadata?: { labels?: Record<string, string> } };
  if (t.metadata?.labels) delete t.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  return computeHash(t, collisionCount);
}
