import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'twin-cluster-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A kubeconfig whose cluster nobody serves: every check below must fail before the cluster is contacted.
const kubeconfig = path.join(dir, 'staging.yaml');
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
current-context: staging
clusters:
  - { name: staging, cluster: { server: 'https://127.0.0.1:9' } }
users:
  - { name: u, user: { token: t } }
contexts:
  - { name: staging, context: { cluster: staging, user: u } }
  - { name: prod, context: { cluster: staging, user: u } }
`,
);

function twin(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'harness/cli/main.ts'), ...args],
    { cwd: root, encoding: 'utf8', env: { ...process.env, TWIN_QUIET: '1', ...env }, timeout: 120_000 },
  );
  return { code: r.status, stderr: r.stderr };
}

// Each case starts the CLI (and the scenario file's imports): seconds each on a loaded machine.
describe('twin scenario --env cluster: input errors exit 2, before anything starts', {
  timeout: 150_000,
}, () => {
  it('a --kubeconfig that does not exist, named', () => {
    const missing = path.join(dir, 'nope.yaml');
    const r = twin([
      'scenario',
      'canary-rollout',
      '--env',
      'cluster',
      '--kubeconfig',
      missing,
      '--overlay',
      'local',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`twin: --kubeconfig: ${missing} does not exist (${missing})\n`);
  });

  it('an unknown --context, named with the contexts the file has', () => {
    const r = twin([
      'scenario',
      'canary-rollout',
      '--env',
      'cluster',
      '--kubeconfig',
      kubeconfig,
      '--context',
      'qa',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `twin: --context: context "qa" is not in ${kubeconfig} (contexts: staging, prod)\n`,
    );
  });

  it('$KUBECONFIG naming no file', () => {
    const r = twin(['scenario', 'canary-rollout', '--env', 'cluster'], {
      KUBECONFIG: path.join(dir, 'gone'),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`KUBECONFIG=${path.join(dir, 'gone')}: no such file`);
  });

  it('no --overlay, or one the system does not have: the overlays there are', () => {
    const none = twin(['scenario', 'canary-rollout', '--env', 'cluster', '--kubeconfig', kubeconfig]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      'twin: --env cluster needs --overlay <name>: which overlay of ai-platform to deploy on the cluster (overlays: k3d, local, local-slow-api, production)\n',
    );
    const wrong = twin([
      'scenario',
      'canary-rollout',
      '--env',
      'cluster',
      '--kubeconfig',
      kubeconfig,
      '--overlay',
      'staging',
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('twin: --overlay: infra/ai-platform/k8s/overlays/staging does not exist');
  });

  it('a scenario whose faults need node access, on a managed cluster: refused with the reason', () => {
    const r = twin([
      'scenario',
      'node-loss',
      '--env',
      'cluster',
      '--kubeconfig',
      kubeconfig,
      '--overlay',
      'production',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^twin: scenario node-loss cannot run on the cluster environment: faults\.stopNode needs node-access: /,
    );
    expect(r.stderr).toContain('faults.partitionNode needs node-access');
    expect(r.stderr).toContain('a managed cluster such as EKS, GKE or AKS never does');
  });

  it('twin gate and twin chaos take --kubeconfig and --context to the cluster they bring up', () => {
    const missing = path.join(dir, 'nope.yaml');
    const reports = path.join(dir, 'reports');
    for (const args of [
      ['gate', '--profiles', 'smoke', '--overlay', 'local'],
      ['chaos', '--only', 'api-latency', '--overlay', 'local'],
      ['chaos', '--random', '--seed', '7', '--budget', '1m', '--overlay', 'local'],
    ]) {
      const r = twin([...args, '--env', 'cluster', '--kubeconfig', missing, '--report-dir', reports]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(`--kubeconfig: ${missing} does not exist`);
      const c = twin([
        ...args,
        '--env',
        'cluster',
        '--kubeconfig',
        kubeconfig,
        '--context',
        'qa',
        '--report-dir',
        reports,
      ]);
      expect(c.code, `${args.join(' ')}: ${c.stderr}`).toBe(2);
      expect(c.stderr, args.join(' ')).toContain(`--context: context "qa" is not in ${kubeconfig}`);
    }
  });

  it('twin gate and twin chaos on a cluster need --overlay, as twin scenario does', () => {
    for (const args of [
      ['gate', '--profiles', 'smoke'],
      ['chaos', '--only', 'api-latency'],
      ['chaos', '--random', '--seed', '7', '--budget', '1m'],
    ]) {
      const r = twin([...args, '--env', 'cluster', '--kubeconfig', kubeconfig]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^twin: --env cluster needs --overlay <name>: /);
    }
  });
});
