/** SyncGroup: the leader's assignment stored (in __consumer_offsets) and handed to every member. */
import type { Handler } from '../broker-context.ts';

export const syncGroup: Handler = async (ctx, req) => {
  const r = await ctx.groups.sync(req);
  return {
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    protocolType: null,
    protocolName: null,
    assignment: r.assignment,
  };
};
