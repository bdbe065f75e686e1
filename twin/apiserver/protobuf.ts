import { unsupportedMediaType } from './status-error.ts';

/**
 * Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`: the
 * "k8s\0" magic, then a runtime.Unknown holding the object's message), for the kinds kubectl's typed
 * clients send that way: the access and token reviews, Eviction, TokenRequest, Binding and
 * DeleteOptions. Field numbers are those of k8s.io/api's generated.proto. Other kinds are 415, as
 * a server without their protobuf codec would answer; responses are always JSON (clients decode by
 * the response's Content-Type).
 * See https://kubernetes.io/docs/reference/using-api/api-concepts/#protobuf-encoding
 */

type FieldKind = 'string' | 'int' | 'bool' | 'bytes' | Descriptor | { map: 'string' | Descriptor };
interface FieldDef {
  name: string;
  kind: FieldKind;
  repeated?: boolean;
}
type Descriptor = Record<number, FieldDef>;

const s = (name: string, repeated = false): FieldDef => ({
  name,
  kind: 'string',
  ...(repeated ? { repeated } : {}),
});
const i = (name: string): FieldDef => ({ name, kind: 'int' });
const b = (name: string): FieldDef => ({ name, kind: 'bool' });
const m = (name: string, kind: Descriptor, repeated = false): FieldDef => ({
  name,
  kind,
  ...(repeated ? { repeated } : {}),
});

const OBJECT_META: Descriptor = {
  1: s('name'),
  2: s('generateName'),
  3: s('namespace'),
  5: s('uid'),
  6: s('resourceVersion'),
  7: i('generation'),
  11: { name: 'labels', kind: { map: 'string' } },
  12: { name: 'annotations', kind: { map: 'string' } },
  14: s('finalizers', true),
};
const PRECONDITIONS: Descriptor = { 1: s('uid'), 2: s('resourceVersion') };
const DELETE_OPTIONS: Descriptor = {
  1: i('gracePeriodSeconds'),
  2: m('preconditions', PRECONDITIONS),
  3: b('orphanDependents'),
  4: s('propagationPolicy'),
  5: s('dryRun', true),
};
const RESOURCE_ATTRIBUTES: Descriptor = {
  1: s('namespace'),
  2: s('verb'),
  3: s('group'),
  4: s('version'),
  5: s('resource'),
  6: s('subresource'),
  7: s('name'),
};
const NON_RESOURCE_ATTRIBUTES: Descriptor = { 1: s('path'), 2: s('verb') };
const EXTRA_VALUE: Descriptor = { 1: s('items', true) };
const SAR_SPEC: Descriptor = {
  1: m('resourceAttributes', RESOURCE_ATTRIBUTES),
  2: m('nonResourceAttributes', NON_RESOURCE_ATTRIBUTES),
  3: s('user'),
  4: s('groups', true),
  5: { name: 'extra', kind: { map: EXTRA_VALUE } },
  6: s('uid'),
};
const OBJECT_REFERENCE: Descriptor = {
  1: s('kind'),
  2: s('namespace'),
  3: s('name'),
  4: s('uid'),
  5: s('apiVersion'),
  6: s('resourceVersion'),
  7: s('fieldPath'),
};
const BOUND_OBJECT_REF: Descriptor = { 1: s('kind'), 2: s('apiVersion'), 3: s('name'), 4: s('uid') };

const MESSAGES: Record<string, Descriptor> = {
  SelfSubjectAccessReview: {
    1: m('metadata', OBJECT_META),
    2: m('spec', {
      1: m('resourceAttributes', RESOURCE_ATTRIBUTES),
      2: m('nonResourceAttributes', NON_RESOURCE_ATTRIBUTES),
    }),
  },
  SubjectAccessReview: { 1: m('metadata', OBJECT_META), 2: m('spec', SAR_SPEC) },
  LocalSubjectAccessReview: { 1: m('metadata', OBJECT_META), 2: m('spec', SAR_SPEC) },
  SelfSubjectRulesReview: { 1: m('metadata', OBJECT_META), 2: m('spec', { 1: s('namespace') }) },
  SelfSubjectReview: { 1: m('metadata', OBJECT_META) },
  TokenReview: { 1: m('metadata', OBJECT_META), 2: m('spec', { 1: s('token'), 2: s('audiences', true) }) },
  TokenRequest: {
    1: m('metadata', OBJECT_META),
    2: m('spec', {
      1: s('audiences', true),
      3: m('boundObjectRef', BOUND_OBJECT_REF),
      4: i('expirationSeconds'),
    }),
  },
  Eviction: { 1: m('metadata', OBJECT_META), 2: m('deleteOptions', DELETE_OPTIONS) },
  Binding: { 1: m('metadata', OBJECT_META), 2: m('target', OBJECT_REFERENCE) },
  DeleteOptions: DELETE_OPTIONS,
};

const UNKNOWN: Descriptor = {
  1: m('typeMeta', { 1: s('apiVersion'), 2: s('kind') }),
  2: { name: 'raw', kind: 'bytes' },
};

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  bytes(): Buffer {
    const len = Number(this.varint());
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

function decodeMessage(buf: Buffer, desc: Descriptor): Record<string, unknown> {
  const r = new Reader(buf);
  const out: Record<string, unknown> = {};
  while (!r.done()) {
    const tag = Number(r.varint());
    const field = tag >> 3;
    const wire = tag & 7;
    const def = desc[field];
    if (!def) {
      r.skip(wire);
      continue;
    }
    let value: unknown;
    const kind = def.kind;
    if (kind === 'string') value = r.bytes().toString('utf8');
    else if (kind === 'bytes') value = r.bytes();
    else if (kind === 'int') value = Number(BigInt.asIntN(64, r.varint()));
    else if (kind === 'bool') value = r.varint() !== 0n;
    else if ('map' in kind) {
      const entry = decodeMessage(r.bytes(), {
        1: s('key'),
        2: kind.map === 'string' ? s('value') : m('value', kind.map),
      });
      const map = (out[def.name] as Record<string, unknown>) ?? {};
      const v = entry['value'];
      map[String(entry['key'] ?? '')] =
        kind.map === 'string' ? (v ?? '') : ((v as Record<string, unknown>)?.['items'] ?? []);
      out[def.name] = map;
      continue;
    } else value = decodeMessage(r.bytes(), kind);
    if (def.repeated) {
      const list = (out[def.name] as unknown[]) ?? [];
      list.push(value);
      out[def.name] = list;
    } else out[def.name] = value;
  }
  return out;
}

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** The JSON form of a protobuf request body; 415 for a kind the twin cannot decode. */
export function decodeProtobuf(body: Buffer): Record<string, unknown> {
  const accepted = ['application/json', 'application/yaml'];
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw unsupportedMediaType(PROTOBUF, accepted);
  let unknown: Record<string, unknown>;
  try {
    unknown = decodeMessage(body.subarray(4), UNKNOWN);
  } catch {
    throw unsupportedMediaType(PROTOBUF, accepted);
  }
  const typeMeta = (unknown['typeMeta'] as { apiVersion?: string; kind?: string }) ?? {};
  const desc = typeMeta.kind ? MESSAGES[typeMeta.kind] : undefined;
  if (!desc) throw unsupportedMediaType(`${PROTOBUF} (${typeMeta.kind ?? 'unknown kind'})`, accepted);
  try {
    return {
      apiVersion: typeMeta.apiVersion,
      kind: typeMeta.kind,
      ...decodeMessage((unknown['raw'] as Buffer) ?? Buffer.alloc(0), desc),
    };
  } catch {
    throw unsupportedMediaType(PROTOBUF, accepted);
  }
}
