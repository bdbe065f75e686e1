import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTwinError } from '../../../core/errors.ts';
import { renderKustomization } from '../../../system/render/kustomize.ts';
import { findKustomizeTool } from '../../../system/render/kustomize-tool.ts';

const tool = await findKustomizeTool();

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
}

const TREE = {
  'infra/app/k8s/base/kustomization.yaml': 'resources: [api.yaml, config.yaml]\n',
  'infra/app/k8s/base/api.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations: {team: platform}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api:1.0.0}]}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {selector: {app: api}, ports: [{port: 80}]}
`,
  'infra/app/k8s/base/config.yaml':
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\ndata: {a: b}\n',
  'infra/app/k8s/overlays/production/kustomization.yaml': `namespace: production
resources: [../../base]
patches:
  - path: replicas.yaml
configMapGenerator:
  - name: extra
    literals: [x=y]
`,
  'infra/app/k8s/overlays/production/replicas.yaml':
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec: {replicas: 3}\n',
};

describe('renderKustomization', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'render-test-'));
    await writeTree(root, TREE);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  describe.skipIf(!tool)('with kubectl or kustomize (skipped: neither is on the PATH)', () => {
    it('gives each object the file that defined it and removes the origin annotation', async () => {
      // This process's wrapper directories only: other processes render at the same time (parallel test
      // files, a twin up), and a render removes the wrappers that dead processes left.
      const wrappers = async () =>
        (await readdir(tmpdir())).filter((n) => n.startsWith(`twin-kustomize-${process.pid}-`));
      expect(await wrappers()).toEqual([]);
      const rendered = await renderKustomization('infra/app/k8s/overlays/production', { cwd: root });
      const byName = Object.fromEntries(
        rendered.map((r) => [`${r.object.kind}/${r.object.metadata.name}`, r]),
      );
      expect(byName['Deployment/api']!.source).toBe('infra/app/k8s/base/api.yaml');
      expect(byName['Service/api']!.source).toBe('infra/app/k8s/base/api.yaml');
      expect(byName['ConfigMap/config']!.source).toBe('infra/app/k8s/base/config.yaml');
      const generated = rendered.find((r) => r.object.metadata.name.startsWith('extra-'))!;
      expect(generated.source).toBe('infra/app/k8s/overlays/production/kustomization.yaml');
      const api = byName['Deployment/api']!.object;
      expect(api.spec.replicas).toBe(3);
      expect(api.metadata.namespace).toBe('production');
      expect(api.metadata.annotations).toEqual({ team: 'platform' });
      expect(byName['Service/api']!.object.metadata.annotations).toBeUndefined();
      for (const r of rendered) expect(JSON.stringify(r.object)).not.toContain('config.kubernetes.io/origin');
      expect(await wrappers()).toEqual([]);
    });

    it('reports a kustomize failure with its message', async () => {
      await writeTree(root, {
        'bad/kustomization.yaml': 'resources: [cm.yaml]\npatches:\n  - path: p.yaml\n',
        'bad/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n',
        'bad/p.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: missing}\ndata: {a: b}\n',
      });
      const error = await renderKustomization('bad', { cwd: root }).catch((e) => e);
      expect(isTwinError(error, 'TWIN_KUSTOMIZE_FAILED')).toBe(true);
      expect(error.message).toMatch(/^bad: .*kustomize.* failed: .*missing/);
      expect(error.message).not.toContain('twin-kustomize-');
    });
  });

  it('names the file, line and column of a YAML syntax error in any file of the tree', async () => {
    await writeTree(root, {
      'broken/kustomization.yaml': 'resources: [../infra/app/k8s/base, extra.yaml]\n',
      'broken/extra.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {a: b\n',
    });
    const error = await renderKustomization('broken', { cwd: root }).catch((e) => e);
    expect(isTwinError(error, 'TWIN_MANIFEST_YAML')).toBe(true);
    expect(error.message).toMatch(/^broken\/extra\.yaml:\d+:\d+: \S/);
  });

  it('names a missing resource path', async () => {
    await writeTree(root, { 'missing/kustomization.yaml': 'resources: [nope.yaml]\n' });
    const error = await renderKustomization('missing', { cwd: root }).catch((e) => e);
    expect(isTwinError(error, 'TWIN_KUSTOMIZE_FAILED')).toBe(true);
    expect(error.message).toBe(
      'missing/kustomization.yaml: resources: "nope.yaml" does not exist (looked for missing/nope.yaml)',
    );
  });

  it('says to install kubectl or kustomize when neither is found', async () => {
    const error = await renderKustomization('infra/app/k8s/base', { cwd: root, searchPath: '' }).catch(
      (e) => e,
    );
    expect(isTwinError(error, 'TWIN_KUSTOMIZE_NOT_FOUND')).toBe(true);
    expect(error.message).toMatch(/install kubectl.*kustomize/);
    expect(error.isInputError).toBe(true);
  });

  it('rejects a directory without a kustomization', async () => {
    const error = await renderKustomization('infra', { cwd: root }).catch((e) => e);
    expect(isTwinError(error, 'TWIN_KUSTOMIZE_FAILED')).toBe(true);
    expect(error.message).toMatch(/^infra: no kustomization\.yaml/);
  });
});
