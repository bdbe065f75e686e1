import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderKustomization } from '../../system/render/index.ts';
import { declaredIamRoles } from '../../system/terraform/iam-role-names.ts';
import { serviceAccountRoleFindings } from '../../system/terraform/service-account-roles.ts';

const root = path.resolve(import.meta.dirname, '../..');
const terraform = path.join(root, 'infra/ai-platform/terraform');
const scratch = mkdtempSync(path.join(tmpdir(), 'twin-tf-roles-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('IAM roles of the Terraform and the ServiceAccounts that name them', () => {
  it('evaluates the role names the production root creates, through its local modules', async () => {
    const roles = await declaredIamRoles(path.join(terraform, 'environments/production'));
    expect(roles.map((r) => r.name).sort()).toEqual([
      'ai-platform-prod-aws-load-balancer-controller',
      'ai-platform-prod-cluster',
      'ai-platform-prod-external-secrets',
      'ai-platform-prod-fluent-bit',
      'ai-platform-prod-node',
    ]);
    expect(roles.find((r) => r.name === 'ai-platform-prod-fluent-bit')?.address).toBe(
      'module.irsa.aws_iam_role.service_account["fluent-bit"]',
    );
  });

  it('finds every role the AI platform’s production ServiceAccounts name', async () => {
    const rendered = await renderKustomization(path.join(root, 'infra/ai-platform/k8s/overlays/production'), {
      cwd: root,
    });
    const roles = await declaredIamRoles(path.join(terraform, 'environments/production'));
    const objects = rendered.map((r) => r.object);
    expect(
      objects.filter((o) => o.metadata.annotations?.['eks.amazonaws.com/role-arn']).length,
    ).toBeGreaterThan(0);
    expect(serviceAccountRoleFindings(objects, roles)).toEqual([]);
  });

  it('reports a role the Terraform does not create (the cluster named otherwise, as before the fix)', async () => {
    const copy = path.join(scratch, 'terraform');
    cpSync(terraform, copy, { recursive: true });
    const main = path.join(copy, 'environments/production/main.tf');
    writeFileSync(
      main,
      readFileSync(main, 'utf8').replace(
        'cluster_name = "ai-platform-prod"',
        'cluster_name = "ai-platform-production"',
      ),
    );
    const roles = await declaredIamRoles(path.join(copy, 'environments/production'));
    const sa = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: 'fluent-bit',
        namespace: 'system',
        annotations: {
          'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ai-platform-prod-fluent-bit',
        },
      },
    };
    const findings = serviceAccountRoleFindings([sa], roles);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.object).toBe('ServiceAccount system/fluent-bit');
    expect(findings[0]!.message).toContain(
      'role "ai-platform-prod-fluent-bit" is not created by the Terraform',
    );
    expect(findings[0]!.message).toContain('ai-platform-production-fluent-bit');
  });

  it('leaves a name it cannot know at plan time undecided instead of guessing', async () => {
    const dir = path.join(scratch, 'opaque');
    cpSync(path.join(terraform, 'modules/irsa'), dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'extra.tf'),
      'resource "aws_iam_role" "from_data" {\n  name               = data.aws_caller_identity.me.account_id\n  assume_role_policy = "{}"\n}\n',
    );
    const roles = await declaredIamRoles(dir);
    expect(roles.find((r) => r.address === 'aws_iam_role.from_data')?.name).toBeUndefined();
  });
});
