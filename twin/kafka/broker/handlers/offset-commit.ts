/** OffsetCommit: written to the group's __consumer_offsets partition with acks=all before the answer. */
import type { Handler } from '../broker-context.ts';

export const offsetCommit: Handler = async (ctx, req) => ({
  throttleTimeMs: 0,
  topics: await ctx.groups.commitOffsets({
    groupId: req.groupId,
    generationId: req.generationIdOrMemberEpoch,
    memberId: req.memberId,
    topics: req.topics,
  }),
});
