/**
 * Kafka's message definitions as data, encoded and decoded by one generic codec, as Kafka's own
 * message generator does from clients/src/main/resources/common/message/*.json: each field has the
 * versions it exists in, the versions it may be null in, and (in flexible versions) an optional tag.
 * In a message's flexible versions strings, bytes and arrays use the compact encodings and every
 * structure ends with its tagged fields.
 */
import { KafkaProtocolError, type Reader, type Writer, ZERO_UUID } from './primitives.ts';

export type Versions = readonly [number, number];
export type FieldType =
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'int64'
  | 'float64'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid'
  | '[]int32'
  | '[]int64'
  | '[]string'
  | '[]'
  | 'struct';

export interface FieldSpec {
  /** The property name in decoded values: the JSON name in lowerCamelCase. */
  key: string;
  type: FieldType;
  versions: Versions;
  nullable?: Versions;
  tag?: { tag: number; versions: Versions };
  fields?: FieldSpec[];
  default?: unknown;
}

export interface MessageSpec {
  name: string;
  apiKey: number;
  validVersions: Versions;
  /** The first flexible version (Infinity when none). */
  flexibleFrom: number;
  fields: FieldSpec[];
}

/** "3+" → [3, ∞], "0-4" → [0, 4], "none" → empty. */
export function versions(text: string): Versions {
  if (text === 'none') return [1, 0];
  const plus = /^(\d+)\+$/.exec(text);
  if (plus) return [Number(plus[1]), Number.POSITIVE_INFINITY];
  const range = /^(\d+)-(\d+)$/.exec(text);
  if (range) return [Number(range[1]), Number(range[2])];
  if (/^\d+$/.test(text)) return [Number(text), Number(text)];
  throw new Error(`bad version range ${text}`);
}

const inRange = (r: Versions | undefined, v: number) => r !== undefined && v >= r[0] && v <= r[1];

interface FieldOptions {
  nullable?: string;
  tag?: number;
  tagged?: string;
  default?: unknown;
}

/** One field, written as the JSON definitions write it: `field('Name', 'string', '0+')`. */
export function field(
  name: string,
  type: FieldType,
  vers: string,
  opts: FieldOptions = {},
  fields?: FieldSpec[],
): FieldSpec {
  const spec: FieldSpec = { key: name[0]!.toLowerCase() + name.slice(1), type, versions: versions(vers) };
  if (opts.nullable) spec.nullable = versions(opts.nullable);
  if (opts.tag !== undefined) spec.tag = { tag: opts.tag, versions: versions(opts.tagged ?? vers) };
  if (opts.default !== undefined) spec.default = opts.default;
  if (fields) spec.fields = fields;
  return spec;
}

/** An array of structures. */
export const array = (name: string, vers: string, fields: FieldSpec[], opts: FieldOptions = {}) =>
  field(name, '[]', vers, opts, fields);

export function message(
  name: string,
  apiKey: number,
  valid: string,
  flexible: string,
  fields: FieldSpec[],
): MessageSpec {
  return {
    name,
    apiKey,
    validVersions: versions(valid),
    flexibleFrom: flexible === 'none' ? Number.POSITIVE_INFINITY : versions(flexible)[0],
    fields,
  };
}

function defaultOf(f: FieldSpec, version: number): unknown {
  if (f.default !== undefined) return f.default;
  if (inRange(f.nullable, version) && (f.type === 'string' || f.type === 'records' || f.type === 'bytes'))
    return null;
  switch (f.type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'records':
      return null;
    case 'uuid':
      return ZERO_UUID;
    case '[]':
    case '[]int32':
    case '[]int64':
    case '[]string':
      return [];
    case 'struct':
      return defaults(f.fields!, version);
    default:
      return 0;
  }
}

function defaults(fields: FieldSpec[], version: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) out[f.key] = defaultOf(f, version);
  return out;
}

export function encodeMessage(spec: MessageSpec, version: number, value: object, w: Writer): void {
  writeStruct(spec.fields, version, version >= spec.flexibleFrom, value as Record<string, unknown>, w);
}

export function decodeMessage<T = any>(spec: MessageSpec, version: number, r: Reader): T {
  return readStruct(spec.fields, version, version >= spec.flexibleFrom, r) as T;
}

function writeStruct(
  fields: FieldSpec[],
  version: number,
  flexible: boolean,
  value: Record<string, unknown>,
  w: Writer,
): void {
  const tagged: FieldSpec[] = [];
  for (const f of fields) {
    if (!inRange(f.versions, version)) continue;
    if (flexible && f.tag && inRange(f.tag.versions, version)) {
      const v = value[f.key];
      if (v !== undefined && !isDefault(f, v, version)) tagged.push(f);
      continue;
    }
    const v = value[f.key];
    writeValue(f, version, flexible, v === undefined ? defaultOf(f, version) : v, w);
  }
  if (!flexible) return;
  tagged.sort((a, b) => a.tag!.tag - b.tag!.tag);
  w.uvarint(tagged.length);
  for (const f of tagged) {
    const sub = new (w.constructor as new () => Writer)();
    writeValue(f, version, flexible, value[f.key], sub);
    const data = sub.finish();
    w.uvarint(f.tag!.tag).uvarint(data.length).raw(data);
  }
}

function isDefault(f: FieldSpec, v: unknown, version: number): boolean {
  const d = defaultOf(f, version);
  if (f.type === 'struct') return JSON.stringify(v) === JSON.stringify(d);
  if (Array.isArray(v)) return v.length === 0 && Array.isArray(d);
  return v === d;
}

function writeValue(f: FieldSpec, version: number, flexible: boolean, v: unknown, w: Writer): void {
  const nullable = inRange(f.nullable, version);
  if (v === null && !nullable)
    throw new KafkaProtocolError(`field ${f.key} is not nullable in version ${version}`);
  switch (f.type) {
    case 'int8':
      w.int8(v as number);
      return;
    case 'int16':
      w.int16(v as number);
      return;
    case 'uint16':
      w.uint16(v as number);
      return;
    case 'int32':
      w.int32(v as number);
      return;
    case 'int64':
      w.int64(v as number);
      return;
    case 'float64':
      w.float64(v as number);
      return;
    case 'bool':
      w.bool(v as boolean);
      return;
    case 'uuid':
      w.uuid(v as string);
      return;
    case 'string':
      if (flexible) w.compactString(v as string | null);
      else w.string(v as string | null);
      return;
    case 'bytes':
    case 'records':
      if (flexible) w.compactBytes(v as Buffer | null);
      else w.bytes(v as Buffer | null);
      return;
    case 'struct':
      writeStruct(f.fields!, version, flexible, v as Record<string, unknown>, w);
      return;
    default: {
      const items = v as unknown[] | null;
      if (items === null) {
        if (flexible) w.uvarint(0);
        else w.int32(-1);
        return;
      }
      if (flexible) w.uvarint(items.length + 1);
      else w.int32(items.length);
      for (const item of items) {
        if (f.type === '[]int32') w.int32(item as number);
        else if (f.type === '[]int64') w.int64(item as number);
        else if (f.type === '[]string') {
          if (flexible) w.compactString(item as string);
          else w.string(item as string);
        } else writeStruct(f.fields!, version, flexible, item as Record<string, unknown>, w);
      }
    }
  }
}

function readStruct(
  fields: FieldSpec[],
  version: number,
  flexible: boolean,
  r: Reader,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!inRange(f.versions, version) || (flexible && f.tag && inRange(f.tag.versions, version))) {
      out[f.key] = defaultOf(f, version);
      continue;
    }
    out[f.key] = readValue(f, version, flexible, r);
  }
  if (flexible) {
    const n = r.uvarint();
    for (let i = 0; i < n; i++) {
      const tag = r.uvarint();
      const size = r.uvarint();
      const f = fields.find((x) => x.tag?.tag === tag && inRange(x.tag.versions, version));
      if (!f) {
        r.bytesRaw(size);
        continue;
      }
      const end = r.offset + size;
      out[f.key] = readValue(f, version, flexible, r);
      r.offset = end;
    }
  }
  return out;
}

function readValue(f: FieldSpec, version: number, flexible: boolean, r: Reader): unknown {
  switch (f.type) {
    case 'int8':
      return r.int8();
    case 'int16':
      return r.int16();
    case 'uint16':
      return r.uint16();
    case 'int32':
      return r.int32();
    case 'int64':
      return r.int64();
    case 'float64':
      return r.float64();
    case 'bool':
      return r.bool();
    case 'uuid':
      return r.uuid();
    case 'string':
      return flexible ? r.compactString() : r.string();
    case 'bytes':
    case 'records':
      return flexible ? r.compactBytes() : r.bytes();
    case 'struct':
      return readStruct(f.fields!, version, flexible, r);
    default: {
      const n = flexible ? r.uvarint() - 1 : r.int32();
      if (n < 0) return null;
      if (n > r.remaining()) throw new KafkaProtocolError(`array ${f.key} of ${n} items exceeds the message`);
      const items: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) {
        if (f.type === '[]int32') items[i] = r.int32();
        else if (f.type === '[]int64') items[i] = r.int64();
        else if (f.type === '[]string') items[i] = flexible ? r.compactString() : r.string();
        else items[i] = readStruct(f.fields!, version, flexible, r);
      }
      return items;
    }
  }
}
