/** DescribeGroups: state, protocol and members of the groups this broker coordinates. */
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { Handler } from '../broker-context.ts';

export const describeGroups: Handler = async (ctx, req) => ({
  throttleTimeMs: 0,
  groups: (req.groups as string[]).map((groupId) => {
    const errorCode = ctx.groups.coordinatorError(groupId);
    const g = errorCode === ErrorCode.NONE ? ctx.groups.groups.get(groupId) : undefined;
    return {
      errorCode,
      groupId,
      groupState: g ? g.state : errorCode === ErrorCode.NONE ? 'Dead' : '',
      protocolType: g?.protocolType ?? '',
      protocolData: g?.protocolName ?? '',
      members: g
        ? [...g.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: g.metadataOf(m),
            memberAssignment: m.assignment,
          }))
        : [],
    };
  }),
});
