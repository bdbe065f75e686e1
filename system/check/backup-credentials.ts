import { type CheckContext, objectFinding } from './check-context.ts';
import type { Finding } from './finding.ts';

const ROLE_ARN = 'eks.amazonaws.com/role-arn';

/**
 * CloudNativePG Clusters whose WAL archive and base backups go to S3 with the pods' IAM role
 * (`backup.barmanObjectStore.s3Credentials.inheritFromIAMRole`): the operator runs the instances as
 * a ServiceAccount named after the Cluster, which gets an IAM role only through
 * `spec.serviceAccountTemplate.metadata.annotations[eks.amazonaws.com/role-arn]` (IRSA), and only on a
 * cluster that has IRSA. Without it barman-cloud finds no credentials: archiving fails and
 * WAL piles up in pg_wal. See https://cloudnative-pg.io/documentation/1.30/appendixes/object_stores/#iam-role-for-service-account-irsa
 */
export function backupCredentialFindings(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const r of ctx.rendered) {
    const o = r.object;
    if (o.apiVersion !== 'postgresql.cnpg.io/v1' || o.kind !== 'Cluster') continue;
    const store = o.spec?.backup?.barmanObjectStore;
    if (!store?.s3Credentials?.inheritFromIAMRole) continue;
    const role = o.spec?.serviceAccountTemplate?.metadata?.annotations?.[ROLE_ARN];
    const cluster = `the instances get no AWS credentials: WAL archiving to ${store.destinationPath ?? 'S3'} fails (ContinuousArchiving False), no base backup succeeds, and unarchived WAL fills pg_wal`;
    if (!ctx.profile.irsa)
      out.push(
        objectFinding(ctx, r, {
          severity: 'warning',
          check: 'backups',
          field: 'spec.backup.barmanObjectStore.s3Credentials.inheritFromIAMRole',
          message: `backs up to ${store.destinationPath ?? 'S3'} with the pods' IAM role, and a ${ctx.profile.title} cluster has no IAM roles for service accounts`,
          cluster,
        }),
      );
    else if (!role)
      out.push(
        objectFinding(ctx, r, {
          severity: 'warning',
          check: 'backups',
          field: 'spec.backup.barmanObjectStore.s3Credentials.inheritFromIAMRole',
          message: `backs up to ${store.destinationPath ?? 'S3'} with the pods' IAM role, but spec.serviceAccountTemplate names no role (metadata.annotations[${ROLE_ARN}]) for the ServiceAccount ${o.metadata.name} the instances run as`,
          cluster,
        }),
      );
  }
  return out;
}
