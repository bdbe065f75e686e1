import { existsSync } from 'node:fs';
import path from 'node:path';
import { describeObject } from '../../kube/object.ts';
import { displayPath } from '../render/rendered-object.ts';
import { declaredIamRoles } from '../terraform/iam-role-names.ts';
import { serviceAccountRoleFindings } from '../terraform/service-account-roles.ts';
import { type CheckContext, objectFinding } from './check-context.ts';
import type { Finding } from './finding.ts';

const ROLE_ARN = 'eks.amazonaws.com/role-arn';
const FIELD = `metadata.annotations[${ROLE_ARN}]`;

/** The Terraform root that creates the production cluster's IAM roles: terraform/environments/production. */
export function productionTerraformRoot(systemDir: string): string | undefined {
  const dir = path.join(systemDir, 'terraform', 'environments', 'production');
  return existsSync(path.join(dir, 'main.tf')) ? dir : undefined;
}

/**
 * IAM roles for service accounts. On a profile with IRSA (EKS): every role a ServiceAccount's
 * eks.amazonaws.com/role-arn names must be one the system's production Terraform creates
 * (system/terraform: the names evaluated from the HCL). On a profile without it (k3s) the annotation
 * does nothing: a note, since what the pods do with AWS then fails.
 */
export async function serviceAccountRoleCheck(ctx: CheckContext): Promise<Finding[]> {
  const annotated = ctx.rendered.filter(
    (r) =>
      r.object.apiVersion === 'v1' &&
      r.object.kind === 'ServiceAccount' &&
      r.object.metadata.annotations?.[ROLE_ARN],
  );
  if (annotated.length === 0) return [];
  if (!ctx.profile.irsa)
    return annotated.map((r) =>
      objectFinding(ctx, r, {
        severity: 'note',
        check: 'irsa',
        field: FIELD,
        message: `names the IAM role ${r.object.metadata.annotations![ROLE_ARN]}, but a ${ctx.profile.title} cluster has no IAM roles for service accounts`,
        cluster:
          'ignores the annotation: the pods get no AWS credentials, and their AWS calls fail (NoCredentialProviders)',
      }),
    );
  const tfRoot = productionTerraformRoot(ctx.layout.dir);
  if (!tfRoot)
    return [
      objectFinding(ctx, annotated[0]!, {
        severity: 'note',
        check: 'irsa',
        field: FIELD,
        message: `${annotated.length} ServiceAccount(s) name IAM roles, and the system has no Terraform root (terraform/environments/production) to check them against`,
        cluster: 'gives the pods the role; whether it exists is not known here',
      }),
    ];
  const roles = await declaredIamRoles(tfRoot);
  const shownRoot = displayPath(tfRoot, ctx.layout.root);
  const out: Finding[] = [];
  for (const f of serviceAccountRoleFindings(
    annotated.map((r) => r.object),
    roles,
  )) {
    const r = annotated.find((a) => describeObject(a.object) === f.object)!;
    out.push(
      objectFinding(ctx, r, {
        severity: 'error',
        check: 'irsa',
        field: FIELD,
        message: `${f.message.replace(`${FIELD.replace('[', '["').replace(']', '"]')}: `, '').replace('the Terraform', shownRoot)}`,
        cluster:
          'the pods get the role ARN and a web identity token, and every AWS call fails with AccessDenied (not authorized to perform sts:AssumeRoleWithWebIdentity)',
      }),
    );
  }
  return out;
}
