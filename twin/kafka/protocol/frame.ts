/**
 * Request and response framing (https://kafka.apache.org/protocol#protocol_common): a 4-byte size,
 * then the header, then the body. Request header v1 (api key, version, correlation id, client id) is
 * used for non-flexible versions and v2 (v1 + tagged fields) for flexible ones; the client id stays a
 * classic nullable string in v2. Response header v0 is the correlation id, v1 adds tagged fields;
 * ApiVersions responses always use v0 so a client can read them before it knows the versions.
 */
import { decodeMessage, encodeMessage, type MessageSpec } from './message-schema.ts';
import { Reader, Writer } from './primitives.ts';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export function readRequestHeader(
  r: Reader,
  flexible: (apiKey: number, version: number) => boolean,
): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.string();
  if (flexible(apiKey, apiVersion)) skipTaggedFields(r);
  return { apiKey, apiVersion, correlationId, clientId };
}

export function skipTaggedFields(r: Reader): void {
  const n = r.uvarint();
  for (let i = 0; i < n; i++) {
    r.uvarint();
    r.bytesRaw(r.uvarint());
  }
}

/** A framed response: size, header (v0 or v1), body. */
export function encodeResponse(
  spec: MessageSpec,
  version: number,
  correlationId: number,
  body: object,
): Buffer {
  const w = new Writer(512);
  const sizeAt = w.reserve(4);
  w.int32(correlationId);
  if (version >= spec.flexibleFrom && spec.apiKey !== 18) w.uvarint(0);
  encodeMessage(spec, version, body, w);
  w.patchInt32(sizeAt, w.offset - 4);
  return w.finish();
}

/** A framed request, as a client sends it (the broker's followers and the tests use it). */
export function encodeRequest(
  spec: MessageSpec,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: object,
): Buffer {
  const w = new Writer(512);
  const sizeAt = w.reserve(4);
  w.int16(spec.apiKey).int16(version).int32(correlationId).string(clientId);
  if (version >= spec.flexibleFrom) w.uvarint(0);
  encodeMessage(spec, version, body, w);
  w.patchInt32(sizeAt, w.offset - 4);
  return w.finish();
}

/** Reads a response body (after the size) as a client does. */
export function decodeResponse<T>(
  spec: MessageSpec,
  version: number,
  frame: Buffer,
): { correlationId: number; body: T } {
  const r = new Reader(frame);
  const correlationId = r.int32();
  if (version >= spec.flexibleFrom && spec.apiKey !== 18) skipTaggedFields(r);
  return { correlationId, body: decodeMessage<T>(spec, version, r) };
}

/** Splits a byte stream into 4-byte-size-prefixed frames. */
export class FrameSplitter {
  private chunks: Buffer[] = [];
  private length = 0;
  constructor(
    private readonly onFrame: (frame: Buffer) => void,
    private readonly maxFrame = 100 * 1024 * 1024,
  ) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    while (this.length >= 4) {
      const head = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.chunks = [head];
      const size = head.readInt32BE(0);
      if (size < 0 || size > this.maxFrame) throw new Error(`invalid frame size ${size}`);
      if (head.length < 4 + size) return;
      const frame = head.subarray(4, 4 + size);
      const rest = head.subarray(4 + size);
      this.chunks = rest.length ? [rest] : [];
      this.length = rest.length;
      this.onFrame(frame);
    }
  }
}
