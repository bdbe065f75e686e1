/**
 * Fetch, for consumers (up to the high watermark) and for followers (up to the log end: their fetch
 * offset moves their replica state, the high watermark and the ISR). Waits up to MaxWaitMs for
 * MinBytes. For version 12 a follower whose last fetched epoch does not match this leader's log gets
 * the diverging epoch to truncate at.
 *
 * Twin simplification: fetch sessions (KIP-227) are declined (session id 0, every request full), as a
 * broker out of session slots does; consumers never read from followers (no KIP-392 rack awareness).
 */
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { Partition } from '../../replication/partition.ts';
import type { Handler } from '../broker-context.ts';

interface Plan {
  topic: string;
  index: number;
  p?: Partition;
  errorCode: number;
  fetchOffset: number;
  maxBytes: number;
  diverging?: { epoch: number; endOffset: number };
}

export const fetch: Handler = async (ctx, req, info) => {
  const follower = req.replicaId >= 0;
  const now = Date.now();
  const plans: Plan[] = [];
  for (const t of req.topics)
    for (const part of t.partitions) {
      const plan: Plan = {
        topic: t.topic,
        index: part.partition,
        errorCode: 0,
        fetchOffset: part.fetchOffset,
        maxBytes: part.partitionMaxBytes,
      };
      plans.push(plan);
      const p = ctx.replicas.get(t.topic, part.partition);
      if (!ctx.image.partition(t.topic, part.partition)) {
        plan.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        continue;
      }
      if (p?.role !== 'leader') {
        plan.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
        continue;
      }
      if (part.currentLeaderEpoch >= 0 && part.currentLeaderEpoch < p.leaderEpoch) {
        plan.errorCode = ErrorCode.FENCED_LEADER_EPOCH;
        continue;
      }
      if (part.currentLeaderEpoch > p.leaderEpoch) {
        plan.errorCode = ErrorCode.UNKNOWN_LEADER_EPOCH;
        continue;
      }
      plan.p = p;
      if (follower && info.header.apiVersion >= 12 && part.lastFetchedEpoch >= 0) {
        const e = p.log.endOffsetForEpoch(part.lastFetchedEpoch);
        if (e.epoch === -1) plan.diverging = { epoch: -1, endOffset: 0 };
        else if (e.epoch !== part.lastFetchedEpoch || e.endOffset < part.fetchOffset) plan.diverging = e;
        if (plan.diverging) continue;
      }
      if (part.fetchOffset < 0 || part.fetchOffset > p.log.endOffset()) {
        plan.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
        continue;
      }
      if (follower) {
        const r = p.onFollowerFetch(req.replicaId, part.fetchOffset, now);
        if (r.expandIsr) {
          ctx.log(
            `${p.topic}-${p.index}: follower ${req.replicaId} caught up at ${part.fetchOffset}; expanding ISR to [${r.expandIsr.join(',')}]`,
          );
          ctx.replicas.proposeIsr(p, r.expandIsr);
        }
        if (r.hwChanged) ctx.replicas.notify();
      }
    }
  const upTo = (p: Partition) => (follower ? p.log.endOffset() : p.hw);
  const available = () => {
    let bytes = 0;
    for (const plan of plans) {
      if (plan.errorCode || plan.diverging) return Number.MAX_SAFE_INTEGER;
      if (plan.p) bytes += plan.p.log.bytesFrom(plan.fetchOffset, upTo(plan.p));
    }
    return bytes;
  };
  if (req.maxWaitMs > 0 && available() < Math.max(1, req.minBytes))
    await ctx.replicas.waitFor(() => available() >= Math.max(1, req.minBytes), req.maxWaitMs);
  let budget: number = req.maxBytes;
  const byTopic = new Map<string, any[]>();
  for (const plan of plans) {
    const p = plan.p;
    let records: Buffer | null = null;
    if (p && !plan.errorCode && !plan.diverging && p.role === 'leader') {
      records = p.log.read(plan.fetchOffset, Math.min(plan.maxBytes, Math.max(budget, 1)), upTo(p));
      budget -= records.length;
    }
    const hw = p?.hw ?? -1;
    const out: any = {
      partitionIndex: plan.index,
      errorCode: plan.errorCode,
      highWatermark: hw,
      lastStableOffset: hw,
      logStartOffset: p ? 0 : -1,
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: records ?? Buffer.alloc(0),
    };
    if (plan.diverging) out.divergingEpoch = plan.diverging;
    if (p) out.currentLeader = { leaderId: p.state?.leader ?? -1, leaderEpoch: p.leaderEpoch };
    byTopic.set(plan.topic, [...(byTopic.get(plan.topic) ?? []), out]);
  }
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
  };
};
