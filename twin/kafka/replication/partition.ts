/**
 * One partition replica on a broker: leader or follower as the metadata says, with what Kafka's
 * Partition class keeps: the followers' fetch state (log end offset, last caught-up time), the high
 * watermark (the smallest log end offset in the ISR, including an ISR change not yet committed:
 * Kafka's "maximal ISR", KIP-497), ISR shrink after `replica.lag.time.max.ms` and expansion when a
 * follower reaches the high watermark (both proposed to the controller), `acks=all` completion with
 * `min.insync.replicas`, and the idempotent producers' sequence state.
 *
 * No sockets: the replica manager feeds it fetches and metadata, so it is tested on its own.
 *
 * Twin simplification: the high watermark waits only for the maximal ISR (Kafka also waits for a
 * caught-up replica outside it); a leader whose epoch has no batch yet uses its log end as the epoch
 * start offset for ISR expansion.
 */

import type { PartitionState } from '../controller/metadata-image.ts';
import { ErrorCode, KafkaApiError } from '../protocol/error-codes.ts';
import { assignOffsets, type BatchHeader, lastOffset } from '../protocol/record-batch.ts';
import { ProducerStateTable } from './producer-state.ts';

/** What the partition needs of a log (PartitionLog, or a memory log in tests). */
export interface ReplicaLog {
  endOffset(): number;
  lastEpoch(): number;
  append(batches: BatchHeader[]): void;
  truncateTo(offset: number): void;
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number };
  /** Batches from the one holding offset, below upTo, about maxBytes (at least one batch). */
  read(offset: number, maxBytes: number, upTo: number): Buffer;
  /** Bytes available from offset below upTo. */
  bytesFrom(offset: number, upTo: number): number;
  /** The first offset whose batch reaches the timestamp, or -1. */
  offsetForTimestamp(timestamp: number): number;
  readonly batches: readonly {
    baseOffset: number;
    lastOffset: number;
    epoch: number;
    producerId: number;
    producerEpoch: number;
    baseSequence: number;
    maxTimestamp: number;
  }[];
}

export interface FollowerState {
  leo: number;
  lastCaughtUpTimeMs: number;
  lastFetchTimeMs: number;
  lastFetchLeaderLeo: number;
}

export type Role = 'leader' | 'follower' | 'offline';

export class Partition {
  role: Role = 'offline';
  state: PartitionState | undefined;
  hw: number;
  /** An ISR this leader proposed to the controller and has not seen committed yet. */
  pendingIsr: number[] | undefined;
  readonly followers = new Map<number, FollowerState>();
  readonly producers = new ProducerStateTable();

  constructor(
    readonly nodeId: number,
    readonly topic: string,
    readonly index: number,
    readonly log: ReplicaLog,
    hw: number,
  ) {
    this.hw = Math.min(hw, log.endOffset());
    for (const b of log.batches)
      this.producers.record(b.producerId, b.producerEpoch, b.baseSequence, b.baseOffset, b.lastOffset);
  }

  get leaderEpoch(): number {
    return this.state?.leaderEpoch ?? -1;
  }

  /** The ISR used for the high watermark and min.insync.replicas: the committed one plus any pending additions. */
  maximalIsr(): number[] {
    const isr = this.state?.isr ?? [];
    if (!this.pendingIsr) return isr;
    return [...new Set([...isr, ...this.pendingIsr])];
  }

  /** Applies the partition's metadata; says whether this replica became leader or follower anew. */
  applyMetadata(state: PartitionState, now: number): 'became-leader' | 'became-follower' | 'unchanged' {
    const previous = this.state;
    this.state = { ...state, replicas: [...state.replicas], isr: [...state.isr] };
    if (
      this.pendingIsr &&
      (state.isr.join() === this.pendingIsr.join() || state.partitionEpoch !== previous?.partitionEpoch)
    )
      this.pendingIsr = undefined;
    if (state.leader === this.nodeId) {
      if (this.role !== 'leader' || previous?.leaderEpoch !== state.leaderEpoch) {
        this.role = 'leader';
        this.pendingIsr = undefined;
        this.followers.clear();
        for (const r of state.replicas)
          if (r !== this.nodeId)
            this.followers.set(r, {
              leo: -1,
              lastCaughtUpTimeMs: state.isr.includes(r) ? now : 0,
              lastFetchTimeMs: 0,
              lastFetchLeaderLeo: -1,
            });
        this.maybeIncrementHw();
        return 'became-leader';
      }
      this.maybeIncrementHw();
      return 'unchanged';
    }
    const role: Role = state.leader === -1 || !state.replicas.includes(this.nodeId) ? 'offline' : 'follower';
    const changed = role !== this.role || previous?.leaderEpoch !== state.leaderEpoch;
    this.role = role;
    this.pendingIsr = undefined;
    return changed && role === 'follower' ? 'became-follower' : 'unchanged';
  }

  /** The leader's check before an append: leadership, acks, min.insync.replicas for acks=all. */
  private checkAppend(acks: number): void {
    if (this.role !== 'leader')
      throw new KafkaApiError(
        ErrorCode.NOT_LEADER_OR_FOLLOWER,
        `broker ${this.nodeId} is not the leader of ${this.topic}-${this.index}`,
      );
    if (acks !== 0 && acks !== 1 && acks !== -1)
      throw new KafkaApiError(ErrorCode.INVALID_REQUIRED_ACKS, `acks must be 0, 1 or -1, got ${acks}`);
  }

  /**
   * Appends produced batches as the leader: offsets and the leader epoch assigned. Returns the first
   * and last offsets; a retried idempotent batch returns its earlier offsets and writes nothing.
   */
  appendAsLeader(
    batches: BatchHeader[],
    acks: number,
    minIsr: number,
  ): { baseOffset: number; lastOffset: number; duplicate: boolean } {
    this.checkAppend(acks);
    if (acks === -1 && this.state!.isr.length < minIsr)
      throw new KafkaApiError(
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `The size of the current ISR [${this.state!.isr.join(',')}] is insufficient to satisfy the min.isr requirement of ${minIsr} for partition ${this.topic}-${this.index}`,
      );
    if (batches.length === 1) {
      const b = batches[0]!;
      const dup = this.producers.check(b.producerId, b.producerEpoch, b.baseSequence, b.recordCount);
      if (dup !== undefined) return { baseOffset: dup, lastOffset: dup + b.lastOffsetDelta, duplicate: true };
    }
    const base = this.log.endOffset();
    let next = base;
    for (const b of batches) {
      assignOffsets(b, next, this.leaderEpoch);
      next = lastOffset(b) + 1;
    }
    this.log.append(batches);
    for (const b of batches)
      this.producers.record(b.producerId, b.producerEpoch, b.baseSequence, b.baseOffset, lastOffset(b));
    this.maybeIncrementHw();
    return { baseOffset: base, lastOffset: next - 1, duplicate: false };
  }

  /**
   * Whether an acks=all produce that wrote up to `requiredOffset` (exclusive) is done: NONE once the
   * high watermark reached it, NOT_ENOUGH_REPLICAS_AFTER_APPEND if by then the ISR is below
   * min.insync.replicas, NOT_LEADER_OR_FOLLOWER if leadership moved; undefined while waiting.
   */
  produceCompletion(requiredOffset: number, leaderEpoch: number, minIsr: number): number | undefined {
    if (this.role !== 'leader' || this.leaderEpoch !== leaderEpoch) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    if (this.hw < requiredOffset) return undefined;
    return this.maximalIsr().length < minIsr ? ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND : ErrorCode.NONE;
  }

  /**
   * A follower fetched at `fetchOffset` (its log end offset). Updates its state and the high watermark;
   * returns an ISR to propose when it caught up and is not in the ISR.
   */
  onFollowerFetch(
    replicaId: number,
    fetchOffset: number,
    now: number,
  ): { hwChanged: boolean; expandIsr?: number[] } {
    const f = this.followers.get(replicaId);
    if (!f || this.role !== 'leader') return { hwChanged: false };
    const leaderLeo = this.log.endOffset();
    if (fetchOffset >= leaderLeo) f.lastCaughtUpTimeMs = now;
    else if (fetchOffset >= f.lastFetchLeaderLeo && f.lastFetchLeaderLeo >= 0)
      f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, f.lastFetchTimeMs);
    f.leo = fetchOffset;
    f.lastFetchTimeMs = now;
    f.lastFetchLeaderLeo = leaderLeo;
    const hwChanged = this.maybeIncrementHw();
    const isr = this.maximalIsr();
    if (
      !isr.includes(replicaId) &&
      !this.pendingIsr &&
      fetchOffset >= this.hw &&
      fetchOffset >= this.epochStartOffset()
    )
      return { hwChanged, expandIsr: [...this.state!.isr, replicaId] };
    return { hwChanged };
  }

  private epochStartOffset(): number {
    const mine = this.log.batches.find((b) => b.epoch === this.leaderEpoch);
    return mine ? mine.baseOffset : this.log.endOffset();
  }

  /** Followers in the ISR that have not caught up for `lagMaxMs`: the ISR to propose without them. */
  shrinkIsr(now: number, lagMaxMs: number): number[] | undefined {
    if (this.role !== 'leader' || this.pendingIsr) return undefined;
    const isr = this.state!.isr;
    const out = isr.filter((r) => {
      if (r === this.nodeId) return true;
      const f = this.followers.get(r);
      return f !== undefined && now - f.lastCaughtUpTimeMs <= lagMaxMs;
    });
    return out.length < isr.length ? out : undefined;
  }

  /** Raises the high watermark to the smallest log end offset in the maximal ISR. */
  maybeIncrementHw(): boolean {
    if (this.role !== 'leader') return false;
    let hw = this.log.endOffset();
    for (const r of this.maximalIsr()) {
      if (r === this.nodeId) continue;
      const f = this.followers.get(r);
      hw = Math.min(hw, f ? Math.max(f.leo, 0) : 0);
    }
    if (hw > this.hw) {
      this.hw = hw;
      return true;
    }
    return false;
  }

  /** A follower appends what it fetched from the leader and follows the leader's high watermark. */
  appendAsFollower(batches: BatchHeader[], leaderHw: number): void {
    if (batches.length) {
      this.log.append(batches);
      for (const b of batches)
        this.producers.record(b.producerId, b.producerEpoch, b.baseSequence, b.baseOffset, lastOffset(b));
    }
    this.hw = Math.max(this.hw, Math.min(leaderHw, this.log.endOffset()));
  }

  /** A follower whose log diverged from its leader's cuts it at the end of the last common epoch. */
  truncateForDivergence(epoch: number, endOffset: number): number {
    const mine = this.log.endOffsetForEpoch(epoch);
    const to = Math.max(0, Math.min(endOffset, mine.epoch === epoch ? mine.endOffset : endOffset));
    this.log.truncateTo(to);
    this.producers.truncate(to);
    this.hw = Math.min(this.hw, this.log.endOffset());
    return this.log.endOffset();
  }
}
