import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { TwinError } from '../../core/errors.ts';
import type { KubeObject } from '../../kube/object.ts';
import { builtinStructuralSchema } from '../../kube/schema/builtin-schema.ts';
import { REPO_ROOT } from '../repo-root.ts';

/**
 * Reads the CustomResourceDefinitions of one add-on release from its catalogue folder
 * (system/addons/<add-on>/<version>/*.yaml). The files are CRDs as the API server takes them, with two
 * conveniences expanded here so that what comes out is a plain structural schema:
 * - `x-twin-builtin: <client-node model>`: the built-in type's schema as controller-gen embeds it
 *   (a pod template, a LabelSelector, resource requirements, affinity, tolerations);
 * - `$ref: <name>` to a schema under a file's `x-twin-definitions` (a document of its own, or a key
 *   beside a CRD), merged with the keys written next to the $ref.
 */
export function readAddonCrds(
  dir: string,
  cacheDir = path.join(REPO_ROOT, '.twin', 'cache', 'addon-crds'),
): KubeObject[] {
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => ({ full: path.join(dir, f), text: readFileSync(path.join(dir, f), 'utf8') }));
  // YAML parsing is the slow part of a boot: the expanded CRDs are cached by the files' content
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${path.basename(f.full)}\0${f.text}\0`);
  const cached = path.join(cacheDir, `${hash.digest('hex').slice(0, 32)}.json`);
  try {
    return JSON.parse(readFileSync(cached, 'utf8')) as KubeObject[];
  } catch {
    // not cached yet
  }
  const out = parseCrdFiles(files);
  try {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(out));
    renameSync(tmp, cached);
  } catch {
    // a read-only checkout still works, only slower
  }
  return out;
}

function parseCrdFiles(files: { full: string; text: string }[]): KubeObject[] {
  const out: KubeObject[] = [];
  for (const { full, text } of files) {
    const docs = parseAllDocuments(text);
    const objects: Record<string, unknown>[] = [];
    let definitions: Record<string, unknown> = {};
    for (const doc of docs) {
      if (doc.errors.length > 0)
        throw new TwinError('TWIN_MANIFEST_YAML', `${full}: ${doc.errors[0]!.message.split('\n')[0]}`);
      const value = doc.toJS() as Record<string, unknown> | null;
      if (!value) continue;
      const defs = value['x-twin-definitions'];
      if (defs && typeof defs === 'object')
        definitions = { ...definitions, ...(defs as Record<string, unknown>) };
      delete value['x-twin-definitions'];
      if (value['kind'] === 'CustomResourceDefinition') objects.push(value);
    }
    for (const crd of objects) out.push(expand(crd, definitions, `${full}`) as KubeObject);
  }
  return out;
}

function expand(node: unknown, definitions: Record<string, unknown>, where: string, depth = 0): unknown {
  if (depth > 64) throw new TwinError('TWIN_MANIFEST_INVALID', `${where}: $ref nesting too deep (a cycle?)`);
  if (Array.isArray(node)) return node.map((n) => expand(n, definitions, where, depth));
  if (!node || typeof node !== 'object') return node;
  const obj = { ...(node as Record<string, unknown>) };
  const builtin = obj['x-twin-builtin'];
  if (typeof builtin === 'string') {
    delete obj['x-twin-builtin'];
    return merge(
      builtinStructuralSchema(builtin),
      expand(obj, definitions, where, depth + 1) as Record<string, unknown>,
    );
  }
  const ref = obj['$ref'];
  if (typeof ref === 'string') {
    delete obj['$ref'];
    const target = definitions[ref];
    if (target === undefined)
      throw new TwinError('TWIN_MANIFEST_INVALID', `${where}: $ref ${ref} is not defined`);
    const base = expand(target, definitions, where, depth + 1) as Record<string, unknown>;
    return merge(base, expand(obj, definitions, where, depth + 1) as Record<string, unknown>);
  }
  for (const [k, v] of Object.entries(obj)) obj[k] = expand(v, definitions, where, depth);
  return obj;
}

/** Keys written beside a $ref win; `properties` are merged key by key. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base, ...over };
  if (base['properties'] && over['properties'])
    out['properties'] = {
      ...(base['properties'] as Record<string, unknown>),
      ...(over['properties'] as Record<string, unknown>),
    };
  return out;
}
