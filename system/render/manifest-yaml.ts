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
    out.push(doc.toJS({ maxAliasCount: 1000 }));
  }
  return out;
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
