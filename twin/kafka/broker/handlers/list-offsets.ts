/**
 * ListOffsets: earliest (-2), latest (-1: the high watermark), max timestamp (-3), or by timestamp.
 *
 * Twin simplification: a lookup by timestamp answers the first offset of the first batch whose max
 * timestamp reaches it (Kafka's time index finds the record itself).
 */
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { Handler } from '../broker-context.ts';

export const listOffsets: Handler = async (ctx, req) => ({
  throttleTimeMs: 0,
  topics: req.topics.map((t: any) => ({
    name: t.name,
    partitions: t.partitions.map((part: any) => {
      const fail = (errorCode: number) => ({
        partitionIndex: part.partitionIndex,
        errorCode,
        timestamp: -1,
        offset: -1,
        leaderEpoch: -1,
      });
      if (!ctx.image.partition(t.name, part.partitionIndex))
        return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const p = ctx.replicas.get(t.name, part.partitionIndex);
      if (p?.role !== 'leader') return fail(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      if (part.currentLeaderEpoch >= 0 && part.currentLeaderEpoch < p.leaderEpoch)
        return fail(ErrorCode.FENCED_LEADER_EPOCH);
      if (part.currentLeaderEpoch > p.leaderEpoch) return fail(ErrorCode.UNKNOWN_LEADER_EPOCH);
      let offset: number;
      let timestamp = -1;
      if (part.timestamp === -1) offset = p.hw;
      else if (part.timestamp === -2) offset = 0;
      else if (part.timestamp === -3) {
        const best = p.log.batches
          .filter((b) => b.lastOffset < p.hw)
          .reduce<(typeof p.log.batches)[number] | undefined>(
            (a, b) => (!a || b.maxTimestamp > a.maxTimestamp ? b : a),
            undefined,
          );
        offset = best ? best.lastOffset : -1;
        timestamp = best?.maxTimestamp ?? -1;
      } else {
        offset = p.log.offsetForTimestamp(part.timestamp);
        if (offset >= p.hw) offset = -1;
        if (offset >= 0) timestamp = part.timestamp;
      }
      return {
        partitionIndex: part.partitionIndex,
        errorCode: 0,
        timestamp,
        offset,
        leaderEpoch: p.leaderEpoch,
      };
    }),
  })),
});
