import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type Scalar } from 'yaml';

/**
 * Decoding YAML into typed fields the way Prometheus does (gopkg.in/yaml.v2 UnmarshalStrict): YAML
 * 1.1 scalars (`yes` is a bool), a field the Go struct does not have is an error naming the line and
 * the Go type ("line 5: field foo not found in type config.ScrapeConfig"), and a value of the wrong
 * kind is an error too ("line 3: cannot unmarshal !!str `maybe` into bool"). All such errors of a
 * document are collected, as yaml.v2 does, into one "yaml: unmarshal errors:" message.
 */
export type FieldType =
  | { kind: 'string' }
  | { kind: 'bool' }
  | { kind: 'int'; unsigned?: boolean }
  | { kind: 'float' }
  | { kind: 'list'; of: FieldType }
  | { kind: 'map'; of: FieldType }
  | { kind: 'struct'; goType: string; fields: Record<string, FieldType> }
  /** Taken as it is (sections the twin does not decode field by field). */
  | { kind: 'any' };

export const str: FieldType = { kind: 'string' };
export const bool: FieldType = { kind: 'bool' };
export const int: FieldType = { kind: 'int' };
export const uint: FieldType = { kind: 'int', unsigned: true };
export const float: FieldType = { kind: 'float' };
export const list = (of: FieldType): FieldType => ({ kind: 'list', of });
export const map = (of: FieldType): FieldType => ({ kind: 'map', of });
export const any: FieldType = { kind: 'any' };
export const struct = (goType: string, fields: Record<string, FieldType>): FieldType => ({
  kind: 'struct',
  goType,
  fields,
});

export class YamlDecodeError extends Error {
  override name = 'YamlDecodeError';
}

/** Decodes `text` against `type`; the result holds only fields present in the document. */
export function decodeStrict(text: string, type: FieldType): any {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, schema: 'yaml-1.1', uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0].line ?? 1;
    throw new YamlDecodeError(`yaml: line ${line}: ${e.message.split('\n')[0]}`);
  }
  const errors: string[] = [];
  const lineOf = (node: Node | null | undefined) =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 1;
  const value = decodeNode(doc.contents as Node | null, type, text, errors, lineOf);
  if (errors.length > 0) throw new YamlDecodeError(`yaml: unmarshal errors:\n  ${errors.join('\n  ')}`);
  return value ?? {};
}

function yamlTag(node: Node): string {
  if (isMap(node)) return '!!map';
  if (isSeq(node)) return '!!seq';
  const v = (node as Scalar).value;
  if (v === null || v === undefined) return '!!null';
  if (typeof v === 'boolean') return '!!bool';
  if (typeof v === 'number') return Number.isInteger(v) && !String(v).includes('.') ? '!!int' : '!!float';
  return '!!str';
}

function goTypeName(type: FieldType): string {
  switch (type.kind) {
    case 'string':
      return 'string';
    case 'bool':
      return 'bool';
    case 'int':
      return type.unsigned ? 'uint' : 'int';
    case 'float':
      return 'float64';
    case 'list':
      return `[]${goTypeName(type.of)}`;
    case 'map':
      return `map[string]${goTypeName(type.of)}`;
    case 'struct':
      return type.goType;
    case 'any':
      return 'interface {}';
  }
}

/** The scalar as written (plain scalars keep their source text: `010` stays "010" in a string field). */
function scalarText(node: Scalar, text: string): string {
  if (node.type === 'PLAIN' && node.range) return text.slice(node.range[0], node.range[1]);
  return String(node.value ?? '');
}

function decodeNode(
  node: Node | null | undefined,
  type: FieldType,
  text: string,
  errors: string[],
  lineOf: (n: Node | null | undefined) => number,
): unknown {
  if (!node || (isScalar(node) && (node.value === null || node.value === undefined))) return undefined;
  const mismatch = () => {
    const tag = yamlTag(node);
    const shown = isScalar(node) ? ` \`${scalarText(node, text)}\`` : '';
    errors.push(`line ${lineOf(node)}: cannot unmarshal ${tag}${shown} into ${goTypeName(type)}`);
    return undefined;
  };
  switch (type.kind) {
    case 'any':
      return node.toJSON();
    case 'string':
      if (!isScalar(node)) return mismatch();
      return scalarText(node, text);
    case 'bool':
      if (!isScalar(node) || typeof node.value !== 'boolean') return mismatch();
      return node.value;
    case 'int': {
      if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value))
        return mismatch();
      if (type.unsigned && node.value < 0) return mismatch();
      return node.value;
    }
    case 'float':
      if (!isScalar(node) || typeof node.value !== 'number') return mismatch();
      return node.value;
    case 'list': {
      if (!isSeq(node)) return mismatch();
      return node.items.map((item) => decodeNode(item as Node, type.of, text, errors, lineOf));
    }
    case 'map': {
      if (!isMap(node)) return mismatch();
      const out: Record<string, unknown> = {};
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? scalarText(pair.key as Scalar, text) : String(pair.key);
        out[key] = decodeNode(pair.value as Node, type.of, text, errors, lineOf) ?? zeroOf(type.of);
      }
      return out;
    }
    case 'struct': {
      if (!isMap(node)) return mismatch();
      const out: Record<string, unknown> = {};
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? scalarText(pair.key as Scalar, text) : String(pair.key);
        const field = type.fields[key];
        if (!field) {
          errors.push(`line ${lineOf(pair.key as Node)}: field ${key} not found in type ${type.goType}`);
          continue;
        }
        const v = decodeNode(pair.value as Node, field, text, errors, lineOf);
        if (v !== undefined) out[key] = v;
      }
      return out;
    }
  }
}

function zeroOf(type: FieldType): unknown {
  switch (type.kind) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'int':
    case 'float':
      return 0;
    case 'list':
      return [];
    default:
      return {};
  }
}
