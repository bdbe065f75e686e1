import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProject, projectRoot } from '../../system/project.ts';
import { REPO_ROOT } from '../../system/repo-root.ts';
import { resolveSystem } from '../../system/system.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'twin-project-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function repo(name: string, twinYaml: string): string {
  const dir = path.join(tmp, name);
  mkdirSync(path.join(dir, 'twin/shop'), { recursive: true });
  mkdirSync(path.join(dir, 'deploy/prod'), { recursive: true });
  writeFileSync(path.join(dir, 'twin.yaml'), twinYaml);
  writeFileSync(path.join(dir, 'twin/shop/topology.yaml'), '');
  writeFileSync(path.join(dir, 'twin/shop/twin-bindings.yaml'), '');
  return dir;
}

describe('twin.yaml: the systems of a user’s repository', () => {
  const good = `apiVersion: twin.dev/v1alpha1
kind: TwinProject
systems:
  - name: shop
    dir: twin/shop
    overlays: { production: deploy/prod }
`;

  it('is found from a folder below it; without one the package’s own root serves the seed systems', () => {
    const dir = repo('found', good);
    expect(projectRoot(path.join(dir, 'deploy/prod'), {})).toBe(dir);
    expect(projectRoot(os.tmpdir(), {})).toBe(REPO_ROOT);
    expect(projectRoot('/', { TWIN_PROJECT_ROOT: dir })).toBe(dir);
  });

  it('resolves a system’s files from its dir and its overlays from where the repository keeps them', async () => {
    const dir = repo('resolve', good);
    const layout = await resolveSystem('shop', dir);
    expect(layout.topologyFile).toBe(path.join(dir, 'twin/shop/topology.yaml'));
    expect(layout.overlayDir('production')).toBe(path.join(dir, 'deploy/prod'));
    expect(layout.hasOverlay('production')).toBe(true);
    expect(layout.hasOverlay('local')).toBe(false);
    expect(layout.overlays()).toEqual(['production']);
  });

  it('names the file, the field and the value when it is wrong', () => {
    const dir = repo('bad', good.replace('name: shop', 'name: Shop_1'));
    expect(() => loadProject(dir)).toThrow(/twin\.yaml: systems\[0\]\.name: must be a DNS label/);
    const dir2 = repo('bad-default', `${good}    defaultOverlay: staging\n`);
    expect(() => loadProject(dir2)).toThrow(
      /systems\[0\]\.defaultOverlay: "staging" is not one of overlays \(production\)/,
    );
  });

  it('an unknown system lists those twin.yaml names', async () => {
    const dir = repo('unknown', good);
    await expect(resolveSystem('payments', dir)).rejects.toThrow(/known systems: shop/);
  });
});
