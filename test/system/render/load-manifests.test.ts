import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTwinError } from '../../../core/errors.ts';
import { loadManifests } from '../../../system/render/load-manifests.ts';

describe('loadManifests', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'manifests-test-'));
    await mkdir(path.join(root, 'k8s/sub'), { recursive: true });
    await writeFile(
      path.join(root, 'k8s/a.yaml'),
      '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# empty\n---\napiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: Secret, metadata: {name: s}}\n',
    );
    await writeFile(
      path.join(root, 'k8s/sub/b.yml'),
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n',
    );
    await writeFile(path.join(root, 'k8s/kustomization.yaml'), 'resources: [a.yaml]\n');
    await writeFile(path.join(root, 'k8s/README.md'), '# not yaml: [\n');
    await writeFile(
      path.join(root, 'bad.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n',
    );
    await writeFile(path.join(root, 'scalar.yaml'), 'just a string\n');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('loads every document of every YAML file, walking directories, with sources', async () => {
    const objects = await loadManifests(['k8s'], { cwd: root });
    expect(objects.map((o) => [o.source, o.object.kind, o.object.metadata.name])).toEqual([
      ['k8s/a.yaml', 'ConfigMap', 'a'],
      ['k8s/a.yaml', 'Secret', 's'],
      ['k8s/sub/b.yml', 'Namespace', 'b'],
    ]);
  });

  it('reports a syntax error as file:line:col', async () => {
    const error = await loadManifests(['bad.yaml'], { cwd: root }).catch((e) => e);
    expect(isTwinError(error, 'TWIN_MANIFEST_YAML')).toBe(true);
    expect(error.message).toMatch(/^bad\.yaml:5:3: Map keys must be unique$/);
    expect(error.message).not.toContain('\n');
  });

  it('rejects a document that is not an object, and a missing path', async () => {
    const scalar = await loadManifests(['scalar.yaml'], { cwd: root }).catch((e) => e);
    expect(isTwinError(scalar, 'TWIN_MANIFEST_INVALID')).toBe(true);
    expect(scalar.message).toMatch(/^scalar\.yaml: document 1 is not a Kubernetes object/);
    const missing = await loadManifests(['nope'], { cwd: root }).catch((e) => e);
    expect(isTwinError(missing, 'TWIN_MANIFEST_INVALID')).toBe(true);
  });
});
