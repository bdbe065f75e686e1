import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BUILTIN_RESOURCES, KUBERNETES_VERSION } from '../../kube/api/api-resources.ts';

const root = path.resolve(import.meta.dirname, '../..');

describe('built-in API resources (generated from @kubernetes/client-node)', () => {
  it('are what the generator makes from the installed client-node (npm run generate:kube-api)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'twin-kube-api-'));
    try {
      await execa('npx', ['tsx', 'scripts/generate-kube-api.ts', dir], { cwd: root });
      for (const f of ['builtin-resources.json', 'builtin-models.json'])
        expect(readFileSync(path.join(dir, f), 'utf8'), `kube/api/${f} is stale`).toBe(
          readFileSync(path.join(root, 'kube', 'api', f), 'utf8'),
        );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('describe the kinds as kube-apiserver serves them', () => {
    expect(KUBERNETES_VERSION).toMatch(/^v1\.\d+\.\d+$/);
    const find = (group: string, name: string) =>
      BUILTIN_RESOURCES.find((r) => r.group === group && r.name === name);
    expect(find('apps', 'deployments')).toMatchObject({
      version: 'v1',
      kind: 'Deployment',
      namespaced: true,
      shortNames: ['deploy'],
      categories: ['all'],
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    });
    expect(find('apps', 'deployments')?.subresources.map((s) => s.name)).toEqual(['scale', 'status']);
    expect(find('', 'nodes')).toMatchObject({ kind: 'Node', namespaced: false, shortNames: ['no'] });
    expect(find('', 'pods')?.subresources.find((s) => s.name === 'eviction')).toMatchObject({
      kind: 'Eviction',
      verbs: ['create'],
    });
    expect(find('', 'namespaces')?.verbs).not.toContain('deletecollection');
    // Only GA versions are served by default: no beta HPA, no v1beta1 anything.
    expect(BUILTIN_RESOURCES.every((r) => /^v\d+$/.test(r.version))).toBe(true);
  });
});
