import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { TwinError } from '../../core/errors.ts';
import { parseYamlDocuments, toKubeObjects } from './manifest-yaml.ts';
import { displayPath, type RenderedObject } from './rendered-object.ts';

const MANIFEST_FILE = /\.(ya?ml|json)$/;
const KUSTOMIZATION_FILE = /^(kustomization\.ya?ml|Kustomization)$/;

/**
 * Loads plain manifests: files, or directories walked recursively in name order (kustomization files
 * are not objects and are skipped). Every document of every file becomes an object.
 */
export async function loadManifests(
  paths: string[],
  options: { cwd?: string } = {},
): Promise<RenderedObject[]> {
  const cwd = options.cwd ?? process.cwd();
  const out: RenderedObject[] = [];
  for (const p of paths) {
    for (const file of await manifestFiles(path.resolve(cwd, p))) {
      out.push(...(await loadManifestFile(file, cwd)));
    }
  }
  return out;
}

export async function loadManifestFile(file: string, cwd: string): Promise<RenderedObject[]> {
  const shown = displayPath(file, cwd);
  const text = await readFile(file, 'utf8');
  return toKubeObjects(parseYamlDocuments(text, shown), shown).map((object) => ({ object, source: shown }));
}

async function manifestFiles(p: string): Promise<string[]> {
  const info = await stat(p).catch(() => undefined);
  if (!info) throw new TwinError('TWIN_MANIFEST_INVALID', `${p}: no such file or directory`);
  if (info.isFile()) return [p];
  const out: string[] = [];
  const entries = (await readdir(p, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = path.join(p, entry.name);
    if (entry.isDirectory()) out.push(...(await manifestFiles(full)));
    else if (MANIFEST_FILE.test(entry.name) && !KUSTOMIZATION_FILE.test(entry.name)) out.push(full);
  }
  return out;
}
