import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCommand } from '../../../harness/cli/check-command.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);

function twin(args: string[]) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'harness/cli/main.ts'), ...args],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, TWIN_QUIET: '1' },
      timeout: 120_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Collects what the command writes. */
function sink() {
  const chunks: string[] = [];
  return {
    out: {
      write: (s: string) => {
        chunks.push(s);
      },
    },
    text: () => chunks.join(''),
  };
}

describe.skipIf(!hasKustomize)('twin check (needs kubectl or kustomize)', () => {
  it('exit 1 on an error, naming file, line and what a cluster does; exit 0 with only notes', async () => {
    const s = sink();
    const code = await checkCommand(
      root,
      { system: 'test/fixtures/defects/storage-class-undefined', format: 'text' },
      s.out,
    );
    expect(code).toBe(1);
    expect(s.text()).toContain(
      'test/fixtures/defects/storage-class-undefined/k8s/overlays/local/app.yaml:24: error [storage] StatefulSet app/db: spec.volumeClaimTemplates[0].spec.storageClassName: volumeClaimTemplate data: StorageClass "fast-ssd" is defined nowhere',
    );
    expect(s.text()).toContain(
      '    cluster: the claim stays Pending (ProvisioningFailed: storageclass.storage.k8s.io "fast-ssd" not found)',
    );
    expect(s.text()).toMatch(/\(overlay local, profile eks\): 1 error, 0 warnings, \d+ notes?\n$/);
    const warningOnly = sink();
    expect(
      await checkCommand(
        root,
        { system: 'test/fixtures/defects/service-selects-no-pod', format: 'json' },
        warningOnly.out,
      ),
    ).toBe(0);
    const [report] = JSON.parse(warningOnly.text());
    expect(report).toMatchObject({ overlay: 'local', profile: 'eks', counts: { error: 0, warning: 1 } });
    expect(report.findings.find((f: any) => f.severity === 'warning')).toMatchObject({
      check: 'services',
      source: 'test/fixtures/defects/service-selects-no-pod/k8s/overlays/local/app.yaml',
      line: 23,
      object: 'Service app/api',
      field: 'spec.selector',
    });
  });

  it('the CLI: exit 1 for errors, 2 for a bad option (unknown profile, overlay or system, --all with --overlay)', () => {
    const broken = twin(['check', '--system', 'test/fixtures/defects/gp3-claims-on-k3s', '--profile', 'k3s']);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('error [storage]');
    expect(twin(['check', '--profile', 'gke']).code).toBe(2);
    const overlay = twin(['check', '--system', 'lambda-microservice', '--overlay', 'nope']);
    expect(overlay.code).toBe(2);
    expect(overlay.stderr).toContain(
      'twin: --overlay: lambda-microservice has no overlay nope (its overlays: k3d, local, production)',
    );
    expect(twin(['check', '--system', 'no-such-system']).code).toBe(2);
    const all = twin(['check', '--all', '--overlay', 'local']);
    expect(all.code).toBe(2);
    expect(all.stderr).toContain('--all checks each profile with the overlays written for it');
  });
});
