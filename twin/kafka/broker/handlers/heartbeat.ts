/** Heartbeat: keeps a member's session; REBALANCE_IN_PROGRESS tells it to rejoin. */
import type { Handler } from '../broker-context.ts';

export const heartbeat: Handler = async (ctx, req) => ({
  throttleTimeMs: 0,
  errorCode: ctx.groups.heartbeat(req.groupId, req.generationId, req.memberId),
});
