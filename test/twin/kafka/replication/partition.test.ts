/**
 * The replication state machine of one partition, without sockets: leader and follower roles from
 * the metadata, the high watermark over the (maximal) ISR, acks=all completion with
 * min.insync.replicas, ISR shrink after replica.lag.time.max.ms and expansion at the high watermark,
 * truncation of a diverged follower, idempotent producers' retries.
 */
import { describe, expect, it } from 'vitest';
import type { PartitionState } from '../../../../twin/kafka/controller/metadata-image.ts';
import { ErrorCode, KafkaApiError } from '../../../../twin/kafka/protocol/error-codes.ts';
import {
  type BatchHeader,
  encodeBatch,
  lastOffset,
  splitBatches,
} from '../../../../twin/kafka/protocol/record-batch.ts';
import { Partition, type ReplicaLog } from '../../../../twin/kafka/replication/partition.ts';

class MemoryLog implements ReplicaLog {
  batches: {
    baseOffset: number;
    lastOffset: number;
    epoch: number;
    producerId: number;
    producerEpoch: number;
    baseSequence: number;
    maxTimestamp: number;
    header: BatchHeader;
  }[] = [];
  endOffset() {
    return this.batches.length ? this.batches[this.batches.length - 1]!.lastOffset + 1 : 0;
  }
  lastEpoch() {
    return this.batches[this.batches.length - 1]?.epoch ?? -1;
  }
  append(bs: BatchHeader[]) {
    for (const b of bs) {
      expect(b.baseOffset).toBe(this.endOffset());
      this.batches.push({
        baseOffset: b.baseOffset,
        lastOffset: lastOffset(b),
        epoch: b.partitionLeaderEpoch,
        producerId: b.producerId,
        producerEpoch: b.producerEpoch,
        baseSequence: b.baseSequence,
        maxTimestamp: b.maxTimestamp,
        header: b,
      });
    }
  }
  truncateTo(offset: number) {
    this.batches = this.batches.filter((b) => b.baseOffset < offset);
  }
  read(offset: number, _maxBytes: number, upTo: number) {
    return Buffer.concat(
      this.batches.filter((b) => b.lastOffset >= offset && b.lastOffset < upTo).map((b) => b.header.bytes),
    );
  }
  bytesFrom(offset: number, upTo: number) {
    return this.read(offset, 0, upTo).length;
  }
  offsetForTimestamp(ts: number) {
    return this.batches.find((b) => b.maxTimestamp >= ts)?.baseOffset ?? -1;
  }
  endOffsetForEpoch(epoch: number) {
    const older = this.batches.filter((b) => b.epoch <= epoch);
    if (!older.length) return { epoch: -1, endOffset: -1 };
    const e = older[older.length - 1]!.epoch;
    const next = this.batches.find((b) => b.epoch > e);
    return { epoch: e, endOffset: next ? next.baseOffset : this.endOffset() };
  }
}

const batch = (
  n: number,
  opts: { producerId?: number; baseSequence?: number; producerEpoch?: number } = {},
) =>
  splitBatches(
    encodeBatch(
      Array.from({ length: n }, (_, i) => ({ value: `v${i}` })),
      opts,
    ),
  ).batches;

const state = (over: Partial<PartitionState> = {}): PartitionState => ({
  topicId: 't'.repeat(32),
  topic: 't',
  partition: 0,
  replicas: [1, 2, 3],
  isr: [1, 2, 3],
  leader: 1,
  leaderEpoch: 0,
  partitionEpoch: 0,
  ...over,
});

const codeOf = (f: () => unknown) => {
  try {
    f();
    return ErrorCode.NONE;
  } catch (e) {
    if (e instanceof KafkaApiError) return e.code;
    throw e;
  }
};

describe('partition replication state machine', () => {
  it('advances the high watermark to the smallest log end offset in the ISR and completes acks=all then', () => {
    const p = new Partition(1, 't', 0, new MemoryLog(), 0);
    expect(p.applyMetadata(state(), 0)).toBe('became-leader');
    const a = p.appendAsLeader(batch(5), -1, 2);
    expect(a).toMatchObject({ baseOffset: 0, lastOffset: 4 });
    expect(p.hw).toBe(0);
    expect(p.produceCompletion(5, 0, 2)).toBeUndefined();
    p.onFollowerFetch(2, 5, 10);
    expect(p.hw).toBe(0); // replica 3 has nothing yet
    p.onFollowerFetch(3, 3, 10);
    expect(p.hw).toBe(3);
    expect(p.produceCompletion(5, 0, 2)).toBeUndefined();
    p.onFollowerFetch(3, 5, 11);
    expect(p.hw).toBe(5);
    expect(p.produceCompletion(5, 0, 2)).toBe(ErrorCode.NONE);
  });

  it('refuses acks=all with NOT_ENOUGH_REPLICAS when the ISR is smaller than min.insync.replicas, accepts acks=1', () => {
    const p = new Partition(1, 't', 0, new MemoryLog(), 0);
    p.applyMetadata(state({ isr: [1] }), 0);
    expect(codeOf(() => p.appendAsLeader(batch(1), -1, 2))).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    expect(codeOf(() => p.appendAsLeader(batch(1), 1, 2))).toBe(ErrorCode.NONE);
    expect(codeOf(() => p.appendAsLeader(batch(1), 2, 2))).toBe(ErrorCode.INVALID_REQUIRED_ACKS);
    expect(p.hw).toBe(1); // the ISR is the leader alone
  });

  it('answers NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrinks below min.insync.replicas while the record waits', () => {
    const p = new Partition(1, 't', 0, new MemoryLog(), 0);
    p.applyMetadata(state({ replicas: [1, 2], isr: [1, 2] }), 0);
    p.appendAsLeader(batch(2), -1, 2);
    expect(p.produceCompletion(2, 0, 2)).toBeUndefined();
    p.applyMetadata(state({ replicas: [1, 2], isr: [1], partitionEpoch: 1 }), 100);
    expect(p.hw).toBe(2);
    expect(p.produceCompletion(2, 0, 2)).toBe(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
  });

  it('a produce waiting for acks=all fails with NOT_LEADER_OR_FOLLOWER when leadership moves', () => {
    const p = new Partition(1, 't', 0, new MemoryLog(), 0);
    p.applyMetadata(state(), 0);
    p.appendAsLeader(batch(1), -1, 1);
    p.applyMetadata(state({ leader: 2, leaderEpoch: 1, isr: [2, 3], partitionEpoch: 1 }), 10);
    expect(p.role).toBe('follower');
    expect(p.produceCompletion(1, 0, 1)).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(codeOf(() => p.appendAsLeader(batch(1), 1, 1))).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });

  it('proposes dropping a follower that has not caught up for replica.lag.time.max.ms, keeping the HW until that is committed', () => {
    const p = new Partition(1, 't', 0, new MemoryLog(), 0);
    p.applyMetadata(state(), 1000);
    p.appendAsLeader(batch(4), -1, 1);
    p.onFollowerFetch(2, 4, 1500);
    p.onFollowerFetch(3, 0, 1500);
    expect(p.shrinkIsr(20_000, 30_000)).toBeUndefined();
    p.onFollowerFetch(2, 4, 31_000);
    const proposal = p.shrinkIsr(32_000, 30_000);
    expect(proposal).toEqual([1, 2]);
    p.pendingIsr = proposal;
    expect(p.maximalIsr()).toEqual([1, 2, 3]);
    expect(p.hw).toBe(0);
    p.applyMetadata(state({ isr: [1, 2], partitionEpoch: 1 }), 32_100);
    expect(p.pendingIsr).toBeUndefined();
    expect(p.hw).toBe(4);
  });

  it('proposes adding a follower back once it reaches the high watermark', () => {
    const p = new Partition(1, 't', 0, new MemoryLog(), 0);
    p.applyMetadata(state({ isr: [1, 2] }), 0);
    p.appendAsLeader(batch(3), -1, 1);
    p.onFollowerFetch(2, 3, 5);
    expect(p.hw).toBe(3);
    expect(p.onFollowerFetch(3, 1, 5).expandIsr).toBeUndefined();
    expect(p.onFollowerFetch(3, 3, 6).expandIsr).toEqual([1, 2, 3]);
  });

  it('a follower whose log diverged truncates to the end of the last epoch it shares with the leader', () => {
    // The old leader (1) wrote offsets 0-2 in epoch 0 and 3-4 that no follower got before it died.
    const old = new Partition(1, 't', 0, new MemoryLog(), 0);
    old.applyMetadata(state(), 0);
    old.appendAsLeader(batch(3), 1, 1);
    old.appendAsLeader(batch(2), 1, 1);
    // Replica 2 had 0-2 and leads epoch 1, writing 3-5.
    const leader = new Partition(2, 't', 0, new MemoryLog(), 0);
    leader.applyMetadata(state({ leader: 1 }), 0);
    leader.appendAsFollower(
      splitBatches(Buffer.concat((old.log as MemoryLog).batches.slice(0, 1).map((b) => b.header.bytes)))
        .batches,
      3,
    );
    leader.applyMetadata(state({ leader: 2, leaderEpoch: 1, isr: [2, 3], partitionEpoch: 1 }), 1);
    leader.appendAsLeader(batch(3), 1, 1);
    // The old leader comes back as a follower: fetch offset 5, last fetched epoch 0.
    old.applyMetadata(state({ leader: 2, leaderEpoch: 1, isr: [2, 3], partitionEpoch: 1 }), 2);
    const div = leader.log.endOffsetForEpoch(old.log.lastEpoch());
    expect(div).toEqual({ epoch: 0, endOffset: 3 });
    expect(old.truncateForDivergence(div.epoch, div.endOffset)).toBe(3);
    expect(old.log.endOffset()).toBe(3);
  });

  it("answers an idempotent producer's retried batch with its first offset instead of writing it twice", () => {
    const p = new Partition(1, 't', 0, new MemoryLog(), 0);
    p.applyMetadata(state({ isr: [1] }), 0);
    expect(
      p.appendAsLeader(batch(2, { producerId: 7, producerEpoch: 0, baseSequence: 0 }), 1, 1),
    ).toMatchObject({ baseOffset: 0, duplicate: false });
    expect(
      p.appendAsLeader(batch(3, { producerId: 7, producerEpoch: 0, baseSequence: 2 }), 1, 1),
    ).toMatchObject({ baseOffset: 2, duplicate: false });
    expect(
      p.appendAsLeader(batch(3, { producerId: 7, producerEpoch: 0, baseSequence: 2 }), 1, 1),
    ).toMatchObject({ baseOffset: 2, duplicate: true });
    expect(p.log.endOffset()).toBe(5);
    expect(
      codeOf(() => p.appendAsLeader(batch(1, { producerId: 7, producerEpoch: 0, baseSequence: 9 }), 1, 1)),
    ).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    // A new leader rebuilds the producers' state from its log.
    const again = new Partition(1, 't', 0, p.log, 5);
    again.applyMetadata(state({ isr: [1], leaderEpoch: 1 }), 0);
    expect(
      again.appendAsLeader(batch(3, { producerId: 7, producerEpoch: 0, baseSequence: 2 }), 1, 1),
    ).toMatchObject({ duplicate: true });
  });
});
