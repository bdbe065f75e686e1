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

  it('have the upstream OpenAPI definition names the generator derives (npm run generate:kube-api)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'twin-kube-api-'));
    try {
      await execa('npx', ['tsx', 'scripts/generate-openapi-names.ts', dir], { cwd: root });
      const file = 'builtin-definition-names.json';
      const generated = readFileSync(path.join(dir, file), 'utf8');
      expect(generated, `kube/api/${file} is stale`).toBe(
        readFileSync(path.join(root, 'kube', 'api', file), 'utf8'),
      );
      const { names, unmatched } = JSON.parse(generated);
      expect(unmatched).toEqual([]);
      expect(names).toMatchObject({
        V1Deployment: 'io.k8s.api.apps.v1.Deployment',
        CoreV1Event: 'io.k8s.api.core.v1.Event',
        EventsV1Event: 'io.k8s.api.events.v1.Event',
        V1ObjectMeta: 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
        V1CustomResourceDefinition:
          'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
      });
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
