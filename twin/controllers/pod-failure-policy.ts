import type { KubeObject } from '../../kube/object.ts';

export interface PodFailurePolicyMatch {
  action: 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';
  /** Why the Job fails, for FailJob (the Job's Failed condition message). */
  message: string;
}

interface Rule {
  action: PodFailurePolicyMatch['action'];
  onExitCodes?: { containerName?: string; operator: 'In' | 'NotIn'; values: number[] };
  onPodConditions?: Array<{ type: string; status?: string }>;
}

/**
 * The first rule of a Job's podFailurePolicy that a failed pod matches, as the Job controller
 * evaluates them: onExitCodes looks at the containers that ended with a non-zero exit code (all of
 * them, or the one named), onPodConditions at the pod's conditions (status True by default).
 * Without a match the failure counts against backoffLimit. See
 * https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-failure-policy
 */
export function matchPodFailurePolicy(job: KubeObject, pod: KubeObject): PodFailurePolicyMatch | undefined {
  const rules: Rule[] = job.spec?.podFailurePolicy?.rules ?? [];
  const ref = `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;
  for (const [index, rule] of rules.entries()) {
    if (rule.onExitCodes) {
      const req = rule.onExitCodes;
      for (const cs of (pod.status?.containerStatuses ?? []) as Array<{
        name: string;
        state?: { terminated?: { exitCode: number } };
      }>) {
        const code = cs.state?.terminated?.exitCode;
        if (code === undefined || code === 0) continue;
        if (req.containerName !== undefined && req.containerName !== cs.name) continue;
        if (req.values.includes(code) === (req.operator === 'In'))
          return {
            action: rule.action,
            message: `Container ${cs.name} for pod ${ref} failed with exit code ${code} matching ${rule.action} rule at index ${index}`,
          };
      }
    } else if (rule.onPodConditions) {
      for (const want of rule.onPodConditions) {
        const has = ((pod.status?.conditions ?? []) as Array<{ type: string; status: string }>).some(
          (c) => c.type === want.type && c.status === (want.status ?? 'True'),
        );
        if (has)
          return {
            action: rule.action,
            message: `Pod ${ref} has condition ${want.type} matching ${rule.action} rule at index ${index}`,
          };
      }
    }
  }
  return undefined;
}
