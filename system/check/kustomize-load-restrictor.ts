import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { displayPath } from '../render/index.ts';
import { isRemote, kustomizationFile, referencedPaths } from '../render/kustomization-tree.ts';
import type { CheckContext } from './check-context.ts';
import { located } from './check-context.ts';
import type { Finding } from './finding.ts';

/**
 * Files a kustomization takes from outside its own directory (a patch or a resource file in a sibling
 * overlay). The twin renders without kustomize's load restrictor; `kubectl apply -k` and
 * `kustomize build` keep it on by default (LoadRestrictionsRootOnly) and refuse such a file, so the
 * overlay cannot be deployed as it is. Directories (bases, components) may be anywhere.
 */
export async function loadRestrictorFindings(ctx: CheckContext): Promise<Finding[]> {
  const out: Finding[] = [];
  const seen = new Set<string>();
  const root = ctx.layout.root;
  const walk = async (dir: string): Promise<void> => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const file = await kustomizationFile(dir);
    if (!file) return;
    const text = await readFile(file, 'utf8');
    let doc: unknown;
    try {
      doc = parse(text);
    } catch {
      return; // a YAML error is the load check's
    }
    if (!doc || typeof doc !== 'object') return;
    const lines = text.split('\n');
    for (const { field, ref } of referencedPaths(doc as Record<string, unknown>)) {
      if (isRemote(ref)) continue;
      const target = path.resolve(dir, ref);
      const info = await stat(target).catch(() => undefined);
      if (info?.isDirectory()) {
        await walk(target);
        continue;
      }
      if (!info?.isFile()) continue;
      const rel = path.relative(dir, target);
      if (!rel.startsWith('..') && !path.isAbsolute(rel)) continue;
      const line = lines.findIndex((l) => l.includes(ref));
      out.push({
        severity: 'error',
        check: 'kustomize',
        ...located(displayPath(file, root), line >= 0 ? line + 1 : undefined),
        field,
        message: `takes the file ${JSON.stringify(ref)} from outside its directory (${displayPath(target, root)})`,
        cluster: `kubectl apply -k (and kustomize build) refuse it: "security; file '${target}' is not in or below '${dir}'", so nothing of the overlay is applied`,
      });
    }
  };
  await walk(ctx.layout.overlayDir(ctx.overlay));
  return out;
}
