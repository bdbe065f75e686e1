import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { TwinError } from '../../core/errors.ts';
import { parseYamlDocuments } from './manifest-yaml.ts';
import { displayPath } from './rendered-object.ts';

export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** The kustomization file of a directory, if it has one. */
export async function kustomizationFile(dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    const file = path.join(dir, name);
    if ((await stat(file).catch(() => undefined))?.isFile()) return file;
  }
  return undefined;
}

/**
 * Parses every YAML file a kustomization tree refers to (resources, bases, components, crds,
 * patches), so that a syntax error is reported as `<file>:<line>:<col>` before kustomize reports
 * it in its own words. References kustomize resolves elsewhere (URLs, missing paths) are left to it.
 */
export async function checkKustomizationTree(
  dir: string,
  cwd: string,
  seen = new Set<string>(),
): Promise<void> {
  const abs = path.resolve(cwd, dir);
  if (seen.has(abs)) return;
  seen.add(abs);
  const file = await kustomizationFile(abs);
  if (!file) return;
  const shown = displayPath(file, cwd);
  const [doc] = parseYamlDocuments(await readFile(file, 'utf8'), shown);
  if (!doc || typeof doc !== 'object') return;
  for (const { field, ref } of referencedPaths(doc as Record<string, unknown>)) {
    if (isRemote(ref)) continue;
    const target = path.resolve(abs, ref);
    const info = await stat(target).catch(() => undefined);
    if (!info) {
      throw new TwinError(
        'TWIN_KUSTOMIZE_FAILED',
        `${shown}: ${field}: ${JSON.stringify(ref)} does not exist (looked for ${displayPath(target, cwd)})`,
      );
    }
    if (info.isDirectory()) await checkKustomizationTree(target, cwd, seen);
    else if (info?.isFile() && !seen.has(target)) {
      seen.add(target);
      parseYamlDocuments(await readFile(target, 'utf8'), displayPath(target, cwd));
    }
  }
}

/** Remote bases (git URLs, `github.com/org/repo/path?ref=…`) are fetched by kustomize itself. */
export function isRemote(ref: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ref) || ref.startsWith('git@') || ref.includes('?')) return true;
  const first = ref.split('/')[0]!;
  return ref.includes('/') && /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(first);
}

export function referencedPaths(k: Record<string, unknown>): Array<{ field: string; ref: string }> {
  const out: Array<{ field: string; ref: string }> = [];
  const strings = (field: string) => {
    const v = k[field];
    for (const ref of Array.isArray(v) ? v : []) {
      // patchesStrategicMerge entries are file paths or inline patches; only single-line ones are paths
      if (typeof ref === 'string' && !ref.includes('\n')) out.push({ field, ref });
    }
  };
  for (const field of ['resources', 'bases', 'components', 'crds', 'patchesStrategicMerge']) strings(field);
  for (const field of ['patches', 'patchesJson6902']) {
    const list = k[field];
    if (!Array.isArray(list)) continue;
    for (const p of list) {
      const ref = p && typeof p === 'object' ? (p as { path?: unknown }).path : undefined;
      if (typeof ref === 'string') out.push({ field, ref });
    }
  }
  return out;
}
