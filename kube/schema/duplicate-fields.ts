import { isMap, isSeq, type Node, parseAllDocuments, type YAMLMap } from 'yaml';
import { child, duplicateField, index, type StatusCause } from './field-errors.ts';

/**
 * Keys given twice in one object of a request body: a decoded object has kept only the last, so they
 * can only be found in the text. JSON is scanned as sigs.k8s.io/json decodes it; YAML through the
 * document tree (kubectl turns YAML into JSON with sigs.k8s.io/yaml, which keeps duplicates for the
 * server to see). Returns one cause per repeated key, in text order; the field is the key's path.
 */
export function duplicateFields(text: string, format: 'json' | 'yaml'): StatusCause[] {
  return format === 'json' ? jsonDuplicates(text) : yamlDuplicates(text);
}

function yamlDuplicates(text: string): StatusCause[] {
  const out: StatusCause[] = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: false })) {
    if (!Array.isArray(doc.errors) || doc.errors.length > 0) continue;
    visitYaml(doc.contents as Node | null, '', out);
  }
  return out;
}

function visitYaml(node: Node | null | undefined, path: string, out: StatusCause[]): void {
  if (!node) return;
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of (node as YAMLMap).items) {
      const k = String((pair.key as { value?: unknown } | null)?.value ?? pair.key);
      if (seen.has(k)) out.push(duplicateField(child(path, k), k));
      seen.add(k);
      visitYaml(pair.value as Node | null, child(path, k), out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      visitYaml(item as Node, index(path, i), out);
    });
  }
}

/** A small JSON scanner that only tracks object keys (the body is otherwise parsed by JSON.parse). */
function jsonDuplicates(text: string): StatusCause[] {
  const out: StatusCause[] = [];
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const k = str();
        if (seen.has(k)) out.push(duplicateField(child(path, k), k));
        seen.add(k);
        ws();
        i++; // colon
        value(child(path, k));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        i++; // closing brace
        return;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        value(index(path, n));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        i++;
        return;
      }
    }
    if (c === '"') {
      str();
      return;
    }
    while (i < text.length && !/[\s,\]}]/.test(text[i]!)) i++;
  };
  try {
    JSON.parse(text);
  } catch {
    return out; // not JSON: the decoder's syntax error is the answer
  }
  value('');
  return out;
}
