/** JoinGroup, answered when the group's rebalance completes (or at once with an error). */
import type { Handler } from '../broker-context.ts';

export const joinGroup: Handler = async (ctx, req, info) => {
  const r = await ctx.groups.join(
    {
      groupId: req.groupId,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: info.header.apiVersion >= 1 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      protocolType: req.protocolType,
      protocols: req.protocols,
    },
    info.header.clientId ?? '',
    info.clientHost,
    info.header.apiVersion,
  );
  return {
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    generationId: r.generationId,
    protocolType: r.protocolType,
    protocolName: info.header.apiVersion < 7 ? (r.protocolName ?? '') : r.protocolName,
    leader: r.leader,
    skipAssignment: false,
    memberId: r.memberId,
    members: r.members,
  };
};
