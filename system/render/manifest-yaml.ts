import { parseAllDocuments } from 'yaml';
import { TwinError } from '../../core/errors.ts';
import type { KubeObject } from '../../kube/object.ts';

/**
 * Parses a multi-document YAML text. A syntax error becomes TWIN_MANIFEST_YAML naming
 * `<file>:<line>:<col>: <problem>`, so the user sees where, not a stack of parser internals.
 */
export function parseYamlDocuments(text: string, file: string): unknown[] {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const out: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const error = doc.errors[0];
    if (error) {
      const pos = error.linePos?.[0];
      const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
      const problem = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw new TwinError('TWIN_MANIFEST_YAML', `${where}: ${problem}`, { cause: error });
    }
    try {
      out.push(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
    } catch (err) {
      throw new TwinError('TWIN_MANIFEST_YAML', `${file}: document ${out.length + 1}: ${aliasProblem(err)}`, {
        cause: err,
      });
    }
  }
  return out;
}

/**
 * How many alias expansions one document may make: a YAML alias bomb ("billion laughs") expands a
 * few lines into gigabytes; the yaml library refuses past this count instead.
 */
export const MAX_ALIAS_COUNT = 1000;

/** The message of a document that expands past MAX_ALIAS_COUNT (or fails to convert otherwise). */
export function aliasProblem(err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  return /alias/i.test(message)
    ? `its aliases expand more than ${MAX_ALIAS_COUNT} times (a YAML alias bomb?); write the values out or use fewer aliases`
    : message;
}

/**
 * Turns parsed documents into Kubernetes objects: empty documents are skipped, `kind: List` (and
 * `…List` with items, as kubectl prints) is flattened, anything that is not a mapping is an error.
 */
export function toKubeObjects(docs: unknown[], file: string): KubeObject[] {
  const out: KubeObject[] = [];
  docs.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      throw new TwinError(
        'TWIN_MANIFEST_INVALID',
        `${file}: document ${i + 1} is not a Kubernetes object (expected a mapping with apiVersion, kind and metadata)`,
      );
    }
    const obj = doc as KubeObject;
    if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj['items'])) {
      out.push(...toKubeObjects(obj['items'] as unknown[], file));
      return;
    }
    out.push(obj);
  });
  return out;
}
