import { describeObject, type KubeObject } from '../../kube/object.ts';
import type { DeclaredRole } from './iam-role-names.ts';

export interface RoleFinding {
  object: string;
  message: string;
}

const ROLE_ARN = 'eks.amazonaws.com/role-arn';

/**
 * ServiceAccounts whose IRSA role (annotation eks.amazonaws.com/role-arn) the Terraform does not
 * create. On EKS the pod gets the role's ARN and the token, and every AWS call then fails with
 * AccessDenied ("Not authorized to perform sts:AssumeRoleWithWebIdentity"), so the controller or app
 * that needs AWS crash-loops or degrades. A role whose name Terraform computes from something known
 * only at apply time is not reported.
 */
export function serviceAccountRoleFindings(objects: KubeObject[], roles: DeclaredRole[]): RoleFinding[] {
  const known = new Set(roles.flatMap((r) => (r.name ? [r.name] : [])));
  if (roles.some((r) => r.name === undefined)) return [];
  const findings: RoleFinding[] = [];
  for (const sa of objects.filter((o) => o.kind === 'ServiceAccount')) {
    const arn = sa.metadata.annotations?.[ROLE_ARN];
    if (!arn) continue;
    const m = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/.exec(arn);
    if (!m) {
      findings.push({
        object: describeObject(sa),
        message: `metadata.annotations["${ROLE_ARN}"]: "${arn}" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`,
      });
      continue;
    }
    if (!known.has(m[2]!))
      findings.push({
        object: describeObject(sa),
        message: `metadata.annotations["${ROLE_ARN}"]: role "${m[2]}" is not created by the Terraform (it creates ${[...known].sort().join(', ') || 'no IAM role'}); on EKS its pods' AWS calls fail with AccessDenied on sts:AssumeRoleWithWebIdentity`,
      });
  }
  return findings;
}
