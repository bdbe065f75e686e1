import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
  type YAMLMap,
} from 'yaml';
import type { KubeObject } from '../../kube/object.ts';

interface ParsedFile {
  docs: { contents: Node | null; kind?: string; name?: string }[];
  lines: LineCounter;
}

/**
 * Finds the line of a field of a rendered object in the file that defined it (the origin kustomize
 * records, system/render/kustomize.ts): the document of the same kind and name, then the deepest part
 * of the field path that the file writes (a field an overlay added points at its nearest parent).
 * Files are read only when a problem is reported, once each.
 */
export class SourceLines {
  private readonly files = new Map<string, ParsedFile | undefined>();

  constructor(private readonly cwd: string) {}

  lineOf(source: string, obj: KubeObject, field = ''): number | undefined {
    const file = this.parse(source);
    if (!file) return undefined;
    const doc = pickDocument(file, obj);
    if (!doc?.contents) return undefined;
    let node: Node | null | undefined = doc.contents;
    let at: number | undefined = node.range?.[0];
    for (const seg of segments(field)) {
      if (typeof seg === 'number') {
        if (!isSeq(node)) break;
        node = node.items[seg] as Node | undefined;
        if (!node) break;
        at = node.range?.[0] ?? at;
      } else {
        if (!isMap(node)) break;
        const pair = (node as YAMLMap).items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === seg,
        );
        if (!pair) break;
        at = (pair.key as Node).range?.[0] ?? at;
        node = pair.value as Node | null;
        if (!node) break;
      }
    }
    return at === undefined ? undefined : file.lines.linePos(at).line;
  }

  private parse(source: string): ParsedFile | undefined {
    if (this.files.has(source)) return this.files.get(source);
    let parsed: ParsedFile | undefined;
    try {
      const text = readFileSync(path.resolve(this.cwd, source), 'utf8');
      const lines = new LineCounter();
      const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false });
      parsed = {
        lines,
        docs: (Array.isArray(docs) ? docs : [docs]).map((d) => {
          const contents = d.contents as Node | null;
          const get = (p: string[]) => {
            const v = isMap(contents) ? (contents as YAMLMap).getIn(p) : undefined;
            return typeof v === 'string' ? v : undefined;
          };
          const kind = get(['kind']);
          const name = get(['metadata', 'name']);
          return { contents, ...(kind ? { kind } : {}), ...(name ? { name } : {}) };
        }),
      };
    } catch {
      parsed = undefined;
    }
    this.files.set(source, parsed);
    return parsed;
  }
}

/** The document that defined `obj`: same kind and name, else the name with a kustomize prefix or suffix, else the only one of its kind. */
function pickDocument(file: ParsedFile, obj: KubeObject): ParsedFile['docs'][number] | undefined {
  const sameKind = file.docs.filter((d) => d.kind === obj.kind);
  const name = obj.metadata?.name ?? '';
  return (
    sameKind.find((d) => d.name === name) ??
    sameKind.find((d) => d.name !== undefined && d.name !== '' && name.includes(d.name)) ??
    (sameKind.length === 1 ? sameKind[0] : undefined) ??
    (file.docs.length === 1 ? file.docs[0] : undefined)
  );
}

/** "spec.containers[0].env[1].name" → ['spec', 'containers', 0, 'env', 1, 'name']; "metadata.labels[app]" → [..., 'app']. */
export function segments(field: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[([^\]]*)\]/g;
  for (let m = re.exec(field); m; m = re.exec(field)) {
    if (m[1] !== undefined) out.push(m[1]);
    else out.push(/^\d+$/.test(m[2]!) ? Number(m[2]) : m[2]!);
  }
  return out;
}
