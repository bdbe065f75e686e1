/**
 * One partition's log on disk: `<log.dir>/<topic>-<partition>/00000000000000000000.log` holding record
 * batches as produced (offsets and leader epoch assigned), with an in-memory index of the batches
 * (rebuilt by scanning on open: a torn or corrupt tail is cut off, as Kafka's log recovery does) and
 * the leader-epoch cache (epoch → start offset) derived from the batches' partitionLeaderEpoch.
 *
 * Twin simplification: one segment per partition and no retention (log.retention.*, segment.bytes,
 * cleanup.policy=compact are stored as configuration, not acted on); the log start offset stays 0.
 */
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { type BatchHeader, checksumOk, lastOffset, readBatchHeader } from '../protocol/record-batch.ts';

export interface BatchEntry {
  baseOffset: number;
  lastOffset: number;
  position: number;
  size: number;
  epoch: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  maxTimestamp: number;
}

export class PartitionLog {
  readonly dir: string;
  private fd: number;
  private size = 0;
  readonly batches: BatchEntry[] = [];

  constructor(
    logDir: string,
    readonly topic: string,
    readonly partition: number,
  ) {
    this.dir = path.join(logDir, `${topic}-${partition}`);
    mkdirSync(this.dir, { recursive: true });
    this.fd = openSync(path.join(this.dir, '00000000000000000000.log'), 'a+');
    this.recover();
  }

  /** Scans the file; keeps every valid batch up to the first torn or corrupt one. */
  private recover(): void {
    const total = fstatSync(this.fd).size;
    const head = Buffer.alloc(61);
    let pos = 0;
    while (pos + 61 <= total) {
      readSync(this.fd, head, 0, 61, pos);
      const len = head.readInt32BE(8);
      const size = 12 + len;
      if (len < 49 || pos + size > total || head.readInt8(16) !== 2) break;
      const buf = Buffer.alloc(size);
      readSync(this.fd, buf, 0, size, pos);
      const h = readBatchHeader(buf);
      if (!checksumOk(h)) break;
      if (this.batches.length && h.baseOffset !== this.endOffset()) break;
      this.index(h, pos);
      pos += size;
    }
    if (pos < total) ftruncateSync(this.fd, pos);
    this.size = pos;
  }

  private index(h: BatchHeader, position: number): void {
    this.batches.push({
      baseOffset: h.baseOffset,
      lastOffset: lastOffset(h),
      position,
      size: h.bytes.length,
      epoch: h.partitionLeaderEpoch,
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: h.baseSequence,
      maxTimestamp: h.maxTimestamp,
    });
  }

  /** The log end offset: the offset the next record gets. */
  endOffset(): number {
    const last = this.batches[this.batches.length - 1];
    return last ? last.lastOffset + 1 : 0;
  }

  startOffset(): number {
    return 0;
  }

  /** The epoch of the last batch, -1 when empty. */
  lastEpoch(): number {
    return this.batches[this.batches.length - 1]?.epoch ?? -1;
  }

  /** Appends batches whose offsets are already assigned (a leader assigned them, or a follower copies them). */
  append(batches: BatchHeader[]): void {
    for (const b of batches) {
      if (b.baseOffset !== this.endOffset())
        throw new Error(
          `${this.topic}-${this.partition}: batch at ${b.baseOffset} does not follow ${this.endOffset()}`,
        );
      writeSync(this.fd, b.bytes, 0, b.bytes.length, this.size);
      this.index(b, this.size);
      this.size += b.bytes.length;
    }
  }

  /** The index of the first batch whose last offset is ≥ offset. */
  private find(offset: number): number {
    let lo = 0;
    let hi = this.batches.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.batches[mid]!.lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Batches from the one holding `offset`, below `upTo`, up to maxBytes (at least one whole batch,
   * as KIP-74 has it, so a large batch is never stuck).
   */
  read(offset: number, maxBytes: number, upTo: number): Buffer {
    let i = this.find(offset);
    const first = i;
    let bytes = 0;
    while (i < this.batches.length && this.batches[i]!.lastOffset < upTo) {
      const b = this.batches[i]!;
      if (i > first && bytes + b.size > maxBytes) break;
      bytes += b.size;
      i++;
    }
    if (bytes === 0) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(bytes);
    readSync(this.fd, out, 0, bytes, this.batches[first]!.position);
    return out;
  }

  /** Bytes available from offset below upTo (for a fetch's min bytes). */
  bytesFrom(offset: number, upTo: number): number {
    let n = 0;
    for (let i = this.find(offset); i < this.batches.length && this.batches[i]!.lastOffset < upTo; i++)
      n += this.batches[i]!.size;
    return n;
  }

  /** Removes every batch at or after offset (a follower's log diverged from its new leader's). */
  truncateTo(offset: number): void {
    let i = this.find(offset);
    if (i < this.batches.length && this.batches[i]!.baseOffset < offset) i++;
    if (i >= this.batches.length) return;
    this.size = this.batches[i]!.position;
    this.batches.length = i;
    ftruncateSync(this.fd, this.size);
  }

  /**
   * The end offset of `epoch` as Kafka's leader-epoch cache answers OffsetsForLeaderEpoch: the largest
   * epoch ≤ the one asked and the start offset of the epoch after it (the log end for the latest).
   */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    let found = -1;
    for (let i = this.batches.length - 1; i >= 0; i--) {
      if (this.batches[i]!.epoch <= epoch) {
        found = i;
        break;
      }
    }
    if (found < 0) return { epoch: -1, endOffset: -1 };
    const e = this.batches[found]!.epoch;
    for (let j = found + 1; j < this.batches.length; j++)
      if (this.batches[j]!.epoch !== e) return { epoch: e, endOffset: this.batches[j]!.baseOffset };
    return { epoch: e, endOffset: this.endOffset() };
  }

  /** The first offset whose batch has a timestamp ≥ ts (ListOffsets by time), or -1. */
  offsetForTimestamp(ts: number): number {
    for (const b of this.batches) if (b.maxTimestamp >= ts) return b.baseOffset;
    return -1;
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {}
  }

  delete(): void {
    this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
