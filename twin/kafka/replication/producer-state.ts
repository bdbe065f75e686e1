/**
 * Idempotent producers' state per partition (KIP-98): the epoch and the sequence numbers of each
 * producer id's last five batches, so a retried batch is answered with its first offset instead of
 * being written twice, and a gap in the sequence is refused with OUT_OF_ORDER_SEQUENCE_NUMBER.
 * Rebuilt from the batches in the log when a partition is loaded.
 */
import { ErrorCode, KafkaApiError } from '../protocol/error-codes.ts';

interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  lastOffset: number;
}

interface ProducerEntry {
  epoch: number;
  batches: BatchMetadata[];
}

const INT32_MAX = 2 ** 31 - 1;
const nextSeq = (s: number) => (s === INT32_MAX ? 0 : s + 1);

export class ProducerStateTable {
  private readonly producers = new Map<number, ProducerEntry>();

  /**
   * Checks a batch before a leader appends it: the first offset of an identical batch already
   * written (a retry), or undefined when it is to be appended. Throws on a fenced epoch or a gap.
   */
  check(producerId: number, epoch: number, baseSequence: number, count: number): number | undefined {
    if (producerId < 0) return undefined;
    const entry = this.producers.get(producerId);
    if (!entry) return undefined;
    if (epoch < entry.epoch)
      throw new KafkaApiError(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `producer ${producerId} epoch ${epoch} is older than ${entry.epoch}`,
      );
    if (epoch > entry.epoch) {
      if (baseSequence !== 0)
        throw new KafkaApiError(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `new epoch ${epoch} of producer ${producerId} must start at sequence 0, got ${baseSequence}`,
        );
      return undefined;
    }
    const lastSeq = (baseSequence + count - 1) % (INT32_MAX + 1);
    const dup = entry.batches.find((b) => b.firstSeq === baseSequence && b.lastSeq === lastSeq);
    if (dup) return dup.baseOffset;
    const last = entry.batches[entry.batches.length - 1];
    if (last && baseSequence !== nextSeq(last.lastSeq))
      throw new KafkaApiError(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `producer ${producerId}: sequence ${baseSequence} does not follow ${last.lastSeq}`,
      );
    return undefined;
  }

  /** Records a batch written to the log (by a leader or a follower). */
  record(
    producerId: number,
    epoch: number,
    baseSequence: number,
    baseOffset: number,
    lastOffset: number,
  ): void {
    if (producerId < 0 || baseSequence < 0) return;
    let entry = this.producers.get(producerId);
    if (!entry || epoch > entry.epoch) {
      entry = { epoch, batches: [] };
      this.producers.set(producerId, entry);
    }
    entry.batches.push({
      firstSeq: baseSequence,
      lastSeq: (baseSequence + (lastOffset - baseOffset)) % (INT32_MAX + 1),
      baseOffset,
      lastOffset,
    });
    if (entry.batches.length > 5) entry.batches.shift();
  }

  /** Forgets everything recorded at or after offset (the log was truncated). */
  truncate(offset: number): void {
    for (const [id, e] of this.producers) {
      e.batches = e.batches.filter((b) => b.lastOffset < offset);
      if (!e.batches.length) this.producers.delete(id);
    }
  }
}
