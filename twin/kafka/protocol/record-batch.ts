/**
 * Record batch format v2 (magic 2), https://kafka.apache.org/documentation/#recordbatch:
 *
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
 *   producerId int64 | producerEpoch int16 | baseSequence int32 | records int32 + records
 *
 * The CRC-32C covers attributes to the end, so the broker can set baseOffset and partitionLeaderEpoch
 * without recomputing it. Compression (attributes bits 0-2): none and gzip, and zstd where this Node
 * has zlib's zstd; snappy and lz4 are refused with UNSUPPORTED_COMPRESSION_TYPE.
 */
import zlib from 'node:zlib';
import { crc32c } from './crc32c.ts';
import { ErrorCode, KafkaApiError } from './error-codes.ts';
import { Reader, Writer } from './primitives.ts';

export const BATCH_HEADER_SIZE = 61;
const LOG_OVERHEAD = 12;

export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
const zstd = zlib as unknown as {
  zstdCompressSync?: (b: Buffer) => Buffer;
  zstdDecompressSync?: (b: Buffer) => Buffer;
};

export function supportedCompression(type: number): boolean {
  return type === 0 || type === 1 || (type === 4 && typeof zstd.zstdDecompressSync === 'function');
}

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
  /** The whole batch: LOG_OVERHEAD + batchLength bytes. */
  bytes: Buffer;
}

export interface KafkaRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

export const lastOffset = (b: BatchHeader) => b.baseOffset + b.lastOffsetDelta;
export const compressionOf = (b: BatchHeader) => b.attributes & 0x07;
export const isControl = (b: BatchHeader) => (b.attributes & 0x20) !== 0;
export const isTransactional = (b: BatchHeader) => (b.attributes & 0x10) !== 0;

export function readBatchHeader(buf: Buffer, at = 0): BatchHeader {
  const batchLength = buf.readInt32BE(at + 8);
  return {
    baseOffset: Number(buf.readBigInt64BE(at)),
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(at + 12),
    magic: buf.readInt8(at + 16),
    crc: buf.readUInt32BE(at + 17),
    attributes: buf.readInt16BE(at + 21),
    lastOffsetDelta: buf.readInt32BE(at + 23),
    baseTimestamp: Number(buf.readBigInt64BE(at + 27)),
    maxTimestamp: Number(buf.readBigInt64BE(at + 35)),
    producerId: Number(buf.readBigInt64BE(at + 43)),
    producerEpoch: buf.readInt16BE(at + 51),
    baseSequence: buf.readInt32BE(at + 53),
    recordCount: buf.readInt32BE(at + 57),
    bytes: buf.subarray(at, at + LOG_OVERHEAD + batchLength),
  };
}

/**
 * The complete batches in a record set. A trailing partial batch (a fetch cut at its size limit, a
 * torn write at the end of a segment) is left out; `rest` says how many bytes it had.
 */
export function splitBatches(buf: Buffer): { batches: BatchHeader[]; rest: number } {
  const batches: BatchHeader[] = [];
  let at = 0;
  while (at + LOG_OVERHEAD <= buf.length) {
    const len = buf.readInt32BE(at + 8);
    if (len < BATCH_HEADER_SIZE - LOG_OVERHEAD || at + LOG_OVERHEAD + len > buf.length) break;
    if (buf.readInt8(at + 16) !== 2) {
      // Message formats v0/v1 predate record batches; Kafka 4 no longer accepts them either.
      throw new KafkaApiError(
        ErrorCode.CORRUPT_MESSAGE,
        `record set has magic ${buf.readInt8(at + 16)}, not 2`,
      );
    }
    batches.push(readBatchHeader(buf, at));
    at += LOG_OVERHEAD + len;
  }
  return { batches, rest: buf.length - at };
}

export function checksumOk(b: BatchHeader): boolean {
  return crc32c(b.bytes, 21) === b.crc;
}

function decompress(type: number, data: Buffer): Buffer {
  if (type === 0) return data;
  if (type === 1) return zlib.gunzipSync(data);
  if (type === 4 && zstd.zstdDecompressSync) return zstd.zstdDecompressSync(data);
  throw new KafkaApiError(
    ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
    `compression type ${type} (${Object.keys(Compression)[type] ?? 'unknown'}) is not supported by the twin's broker`,
  );
}

/** The records of a batch, decompressed. */
export function decodeRecords(b: BatchHeader): KafkaRecord[] {
  const data = decompress(compressionOf(b), b.bytes.subarray(BATCH_HEADER_SIZE));
  const r = new Reader(data);
  const out: KafkaRecord[] = [];
  for (let i = 0; i < b.recordCount; i++) {
    const len = r.varint();
    const end = r.offset + len;
    r.int8();
    const timestampDelta = r.varint();
    const offsetDelta = r.varint();
    const keyLen = r.varint();
    const key = keyLen < 0 ? null : Buffer.from(r.bytesRaw(keyLen));
    const valueLen = r.varint();
    const value = valueLen < 0 ? null : Buffer.from(r.bytesRaw(valueLen));
    const headers: KafkaRecord['headers'] = [];
    const n = r.varint();
    for (let h = 0; h < n; h++) {
      const hk = r.bytesRaw(r.varint()).toString('utf8');
      const hl = r.varint();
      headers.push({ key: hk, value: hl < 0 ? null : Buffer.from(r.bytesRaw(hl)) });
    }
    if (r.offset !== end)
      throw new KafkaApiError(ErrorCode.CORRUPT_MESSAGE, 'record length does not match its fields');
    out.push({
      offset: b.baseOffset + offsetDelta,
      timestamp: b.baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    });
  }
  if (r.remaining() !== 0) throw new KafkaApiError(ErrorCode.CORRUPT_MESSAGE, 'bytes after the last record');
  return out;
}

/**
 * Validates a produced batch as the broker's LogValidator does for magic 2: checksum, compression,
 * record count and offset deltas. Throws a KafkaApiError with the code the partition answers.
 */
export function validateProducedBatch(b: BatchHeader): void {
  if (!checksumOk(b)) throw new KafkaApiError(ErrorCode.CORRUPT_MESSAGE, 'record batch CRC-32C mismatch');
  if (!supportedCompression(compressionOf(b))) decompress(compressionOf(b), Buffer.alloc(0));
  if (isTransactional(b) || isControl(b))
    throw new KafkaApiError(
      ErrorCode.INVALID_RECORD,
      "transactional batches are not supported by the twin's broker",
    );
  if (b.recordCount <= 0 || b.lastOffsetDelta !== b.recordCount - 1)
    throw new KafkaApiError(
      ErrorCode.INVALID_RECORD,
      `batch has ${b.recordCount} records but lastOffsetDelta ${b.lastOffsetDelta}`,
    );
  try {
    walkRecords(b);
  } catch (err) {
    if (err instanceof KafkaApiError) throw err;
    throw new KafkaApiError(ErrorCode.CORRUPT_MESSAGE, `records cannot be read: ${(err as Error).message}`);
  }
}

/** Checks every record's framing and offset delta without copying keys and values. */
function walkRecords(b: BatchHeader): void {
  const r = new Reader(decompress(compressionOf(b), b.bytes.subarray(BATCH_HEADER_SIZE)));
  for (let i = 0; i < b.recordCount; i++) {
    const len = r.varint();
    const end = r.offset + len;
    if (len < 0 || end > r.buf.length)
      throw new KafkaApiError(ErrorCode.CORRUPT_MESSAGE, `record ${i} overruns the batch`);
    r.int8();
    r.varint();
    const delta = r.varint();
    if (delta !== i)
      throw new KafkaApiError(ErrorCode.INVALID_RECORD, `record ${i} has offset delta ${delta}`);
    const keyLen = r.varint();
    if (keyLen > 0) r.offset += keyLen;
    const valueLen = r.varint();
    if (valueLen > 0) r.offset += valueLen;
    const headers = r.varint();
    for (let h = 0; h < headers; h++) {
      const hk = r.varint();
      r.offset += hk;
      const hl = r.varint();
      if (hl > 0) r.offset += hl;
    }
    if (r.offset !== end)
      throw new KafkaApiError(ErrorCode.CORRUPT_MESSAGE, `record ${i} length does not match its fields`);
  }
  if (r.remaining() !== 0) throw new KafkaApiError(ErrorCode.CORRUPT_MESSAGE, 'bytes after the last record');
}

/** Sets the offsets and the leader epoch the log assigns (fields outside the CRC). */
export function assignOffsets(b: BatchHeader, baseOffset: number, leaderEpoch: number): void {
  b.bytes.writeBigInt64BE(BigInt(baseOffset), 0);
  b.bytes.writeInt32BE(leaderEpoch, 12);
  b.baseOffset = baseOffset;
  b.partitionLeaderEpoch = leaderEpoch;
}

export interface NewRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: { key: string; value: Buffer | string | null }[];
  timestamp?: number;
}

const asBuf = (v: Buffer | string | null | undefined) =>
  v === null || v === undefined ? null : typeof v === 'string' ? Buffer.from(v) : v;

/** Builds a batch (offsets from 0 unless given), as a producer does. */
export function encodeBatch(
  records: NewRecord[],
  opts: {
    baseOffset?: number;
    compression?: number;
    producerId?: number;
    producerEpoch?: number;
    baseSequence?: number;
    leaderEpoch?: number;
  } = {},
): Buffer {
  const now = Date.now();
  const baseTimestamp = records[0]?.timestamp ?? now;
  let maxTimestamp = baseTimestamp;
  const body = new Writer(256);
  records.forEach((rec, i) => {
    const ts = rec.timestamp ?? now;
    maxTimestamp = Math.max(maxTimestamp, ts);
    const w = new Writer(64);
    w.int8(0)
      .varint(ts - baseTimestamp)
      .varint(i);
    const key = asBuf(rec.key);
    if (key === null) w.varint(-1);
    else w.varint(key.length).raw(key);
    const value = asBuf(rec.value);
    if (value === null) w.varint(-1);
    else w.varint(value.length).raw(value);
    w.varint(rec.headers?.length ?? 0);
    for (const h of rec.headers ?? []) {
      const hk = Buffer.from(h.key);
      w.varint(hk.length).raw(hk);
      const hv = asBuf(h.value);
      if (hv === null) w.varint(-1);
      else w.varint(hv.length).raw(hv);
    }
    const data = w.finish();
    body.varint(data.length).raw(data);
  });
  const compression = opts.compression ?? 0;
  let payload = body.finish();
  if (compression === 1) payload = zlib.gzipSync(payload);
  else if (compression === 4 && zstd.zstdCompressSync) payload = zstd.zstdCompressSync(payload);
  else if (compression !== 0) decompress(compression, payload);
  const w = new Writer(BATCH_HEADER_SIZE + payload.length);
  w.int64(opts.baseOffset ?? 0);
  const lenAt = w.reserve(4);
  w.int32(opts.leaderEpoch ?? -1).int8(2);
  const crcAt = w.reserve(4);
  w.int16(compression)
    .int32(records.length - 1)
    .int64(baseTimestamp)
    .int64(maxTimestamp)
    .int64(opts.producerId ?? -1)
    .int16(opts.producerEpoch ?? -1)
    .int32(opts.baseSequence ?? -1)
    .int32(records.length)
    .raw(payload);
  const out = w.finish();
  w.patchInt32(lenAt, out.length - LOG_OVERHEAD);
  w.patchUint32(crcAt, crc32c(out, 21));
  return Buffer.from(out);
}
