import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 17 end to end, as a team would do it: pack this package, install the tarball in a fresh
 * repository holding a kustomize application that is not a seed system (test/fixtures/own-system),
 * `twin init` from its production overlay, then the generic scenarios there.
 */
const root = path.resolve(import.meta.dirname, '../../..');
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const hasKustomize = has('kubectl') || has('kustomize');
const enabled = process.env['TWIN_OWN_SYSTEM_E2E'] === '1';
const hasPostgres = spawnSync('sh', ['-c', 'ls /usr/lib/postgresql/*/bin/pg_rewind']).status === 0;

function run(cmd: string, args: string[], cwd: string, timeout = 600_000) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, TWIN_PROJECT_ROOT: '' },
  });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the colour codes of Vitest's summary
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.replace(/\x1b\[[0-9;]*m/g, '');
  return { status: r.status, out };
}

describe.skipIf(!enabled || !hasKustomize)(
  `a team's repository with the packed package (${!enabled ? 'slow: packs and installs the package; set TWIN_OWN_SYSTEM_E2E=1 (the CI step does)' : 'needs kubectl or kustomize'})`,
  () => {
    let tmp: string;
    let repo: string;

    beforeAll(() => {
      tmp = mkdtempSync(path.join(os.tmpdir(), 'twin-own-system-'));
      const packed = run('npm', ['pack', '--pack-destination', tmp], root);
      expect(packed.status, packed.out).toBe(0);
      const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'))!;
      repo = path.join(tmp, 'team-repo');
      cpSync(path.join(root, 'test/fixtures/own-system/k8s'), path.join(repo, 'k8s'), { recursive: true });
      writeFileSync(
        path.join(repo, 'package.json'),
        `${JSON.stringify({ name: 'team-repo', private: true }, null, 2)}\n`,
      );
      const installed = run(
        'npm',
        ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(tmp, tarball)],
        repo,
      );
      expect(installed.status, installed.out).toBe(0);
    }, 900_000);

    afterAll(() => {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it('installs a twin bin that runs from the repository', () => {
      const r = run('npx', ['--no-install', 'twin', '--help'], repo);
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('init');
    });

    it('twin init writes the system from the production overlay and says what it could not infer', () => {
      const r = run(
        'npx',
        ['--no-install', 'twin', 'init', 'k8s/overlays/production', '--name', 'shop'],
        repo,
      );
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('for you to decide');
      expect(r.out).toMatch(/loaded as a scenario loads it: \d+ objects valid/);
      const config = readFileSync(path.join(repo, 'twin.yaml'), 'utf8');
      expect(config).toContain('k8s/overlays/production');
      const topology = readFileSync(path.join(repo, 'twin/shop/topology.yaml'), 'utf8');
      expect(topology).toContain('eu-west-1a');
      const bindings = readFileSync(path.join(repo, 'twin/shop/twin-bindings.yaml'), 'utf8');
      expect(bindings).toContain('infra-twin/twin/cnpg/instance-manager.ts');
      const addons = readFileSync(path.join(repo, 'twin/shop/addons.yaml'), 'utf8');
      expect(addons).toContain('argo-rollouts');
      expect(addons).toContain('cloudnative-pg');
    });

    it('twin check finds no error in the system init wrote (nothing started)', () => {
      const r = run(
        'npx',
        ['--no-install', 'twin', 'check', '--system', 'shop', '--overlay', 'production'],
        repo,
      );
      expect(r.status, r.out).toBe(0);
      expect(r.out).toMatch(/shop \(overlay production, profile eks\): 0 errors/);
    });

    for (const name of ['az-outage', 'canary'])
      it(`twin scenario ${name} passes on the system`, () => {
        const r = run('npx', ['--no-install', 'twin', 'scenario', name], repo);
        expect(r.status, r.out.slice(-6000)).toBe(0);
        expect(r.out).toMatch(/Tests\s+\d+ passed \(\d+\)/);
      }, 900_000);

    it.skipIf(!hasPostgres)(
      'twin scenario postgres-failover passes on the system (needs PostgreSQL with pg_rewind)',
      () => {
        const r = run(
          'npx',
          ['--no-install', 'twin', 'scenario', 'postgres-failover', '--system', 'shop'],
          repo,
        );
        expect(r.status, r.out.slice(-6000)).toBe(0);
        expect(r.out).toMatch(/Tests\s+\d+ passed \(\d+\)/);
      },
      900_000,
    );
  },
);
