/** LeaveGroup: one member (versions 0-2) or a batch (3+) leaves; the group rebalances. */
import type { Handler } from '../broker-context.ts';

export const leaveGroup: Handler = async (ctx, req, info) => {
  const ids: string[] =
    info.header.apiVersion >= 3 ? req.members.map((m: any) => m.memberId) : [req.memberId];
  const r = ctx.groups.leave(req.groupId, ids);
  return {
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    members: r.members.map((m) => ({ memberId: m.memberId, groupInstanceId: null, errorCode: m.errorCode })),
  };
};
