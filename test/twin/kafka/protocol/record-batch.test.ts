/**
 * Record batch v2: batches built by kafkajs (an independent encoder) read here with their CRC-32C
 * checked, batches built here read by kafkajs, compression, and the validation a leader does.
 */
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ErrorCode, KafkaApiError } from '../../../../twin/kafka/protocol/error-codes.ts';
import {
  assignOffsets,
  checksumOk,
  decodeRecords,
  encodeBatch,
  splitBatches,
  validateProducedBatch,
} from '../../../../twin/kafka/protocol/record-batch.ts';

const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js');
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js');
const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder.js');
const Decoder = require('kafkajs/src/protocol/decoder.js');
const { Types } = require('kafkajs/src/protocol/message/compression/index.js');

async function kafkajsBatch(compression: number): Promise<Buffer> {
  const records = [
    Record({
      offsetDelta: 0,
      key: Buffer.from('k0'),
      value: Buffer.from('first'),
      headers: { trace: 'abc' },
    }),
    Record({ offsetDelta: 1, key: null, value: Buffer.from('second') }),
    Record({ offsetDelta: 2, key: Buffer.from('k2'), value: null }),
  ];
  const enc = await RecordBatch({
    compression,
    records,
    lastOffsetDelta: 2,
    firstTimestamp: 1_700_000_000_000,
    maxTimestamp: 1_700_000_000_000,
  });
  return enc.buffer as Buffer;
}

const codeOf = (f: () => void) => {
  try {
    f();
    return ErrorCode.NONE;
  } catch (e) {
    if (e instanceof KafkaApiError) return e.code;
    throw e;
  }
};

describe('record batch v2', () => {
  it('reads a batch kafkajs encodes, CRC-32C included, uncompressed and gzip', async () => {
    for (const compression of [Types.None, Types.GZIP]) {
      const { batches, rest } = splitBatches(await kafkajsBatch(compression));
      expect(rest).toBe(0);
      const b = batches[0]!;
      expect(b).toMatchObject({ magic: 2, recordCount: 3, lastOffsetDelta: 2, producerId: -1 });
      expect(checksumOk(b)).toBe(true);
      expect(codeOf(() => validateProducedBatch(b))).toBe(ErrorCode.NONE);
      const recs = decodeRecords(b);
      expect(recs.map((r) => [r.offset, r.key?.toString() ?? null, r.value?.toString() ?? null])).toEqual([
        [0, 'k0', 'first'],
        [1, null, 'second'],
        [2, 'k2', null],
      ]);
      expect(recs[0]!.headers).toEqual([{ key: 'trace', value: Buffer.from('abc') }]);
    }
  });

  it('writes batches kafkajs reads back, with offsets and leader epoch set by the log', async () => {
    for (const compression of [0, 1]) {
      const buf = encodeBatch(
        [
          { key: 'a', value: 'one' },
          { value: 'two', headers: [{ key: 'h', value: 'x' }] },
        ],
        { compression },
      );
      const b = splitBatches(buf).batches[0]!;
      assignOffsets(b, 41, 7);
      expect(checksumOk(b)).toBe(true);
      const decoded = await RecordBatchDecoder(new Decoder(buf));
      expect(decoded.firstOffset).toBe('41');
      expect(decoded.partitionLeaderEpoch).toBe(7);
      expect(decoded.records.map((r: any) => [r.offset, r.value.toString()])).toEqual([
        ['41', 'one'],
        ['42', 'two'],
      ]);
      expect(decoded.records[1].headers.h.toString()).toBe('x');
    }
  });

  it("refuses a corrupt batch, unsupported compression and a wrong record count with Kafka's error codes", () => {
    const good = () => splitBatches(encodeBatch([{ value: 'a' }, { value: 'b' }])).batches[0]!;
    const flipped = good();
    flipped.bytes[flipped.bytes.length - 1]! ^= 0xff;
    expect(codeOf(() => validateProducedBatch(flipped))).toBe(ErrorCode.CORRUPT_MESSAGE);

    const snappy = good();
    snappy.bytes.writeInt16BE(2, 21); // attributes: snappy
    snappy.attributes = 2;
    const { crc32c } = require('../../../../twin/kafka/protocol/crc32c.ts');
    snappy.bytes.writeUInt32BE(crc32c(snappy.bytes, 21), 17);
    snappy.crc = snappy.bytes.readUInt32BE(17);
    expect(codeOf(() => validateProducedBatch(snappy))).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);

    const miscounted = good();
    miscounted.bytes.writeInt32BE(5, 23); // lastOffsetDelta 5 for 2 records
    miscounted.lastOffsetDelta = 5;
    miscounted.bytes.writeUInt32BE(crc32c(miscounted.bytes, 21), 17);
    miscounted.crc = miscounted.bytes.readUInt32BE(17);
    expect(codeOf(() => validateProducedBatch(miscounted))).toBe(ErrorCode.INVALID_RECORD);
  });

  it.skipIf(!('zstdCompressSync' in zlib))(
    'reads and writes zstd batches (needs zlib zstd: Node ≥ 22.15)',
    () => {
      const b = splitBatches(encodeBatch([{ value: 'z1' }, { value: 'z2' }], { compression: 4 })).batches[0]!;
      expect(b.attributes & 7).toBe(4);
      expect(codeOf(() => validateProducedBatch(b))).toBe(ErrorCode.NONE);
      expect(decodeRecords(b).map((r) => r.value!.toString())).toEqual(['z1', 'z2']);
    },
  );

  it('leaves a trailing partial batch out of a record set (a fetch cut at its size limit)', () => {
    const a = encodeBatch([{ value: 'a' }]);
    const b = encodeBatch([{ value: 'b' }], { baseOffset: 1 });
    const { batches, rest } = splitBatches(Buffer.concat([a, b.subarray(0, 30)]));
    expect(batches.length).toBe(1);
    expect(rest).toBe(30);
  });
});
