/** ListGroups: the groups this broker coordinates (with the state filter of version 4). */
import type { Handler } from '../broker-context.ts';

export const listGroups: Handler = async (ctx, req) => {
  const states = new Set<string>((req.statesFilter as string[]).map((s) => s.toLowerCase()));
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    groups: [...ctx.groups.groups.values()]
      .filter(
        (g) =>
          ctx.groups.coordinatorError(g.groupId) === 0 &&
          (states.size === 0 || states.has(g.state.toLowerCase())),
      )
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state })),
  };
};
