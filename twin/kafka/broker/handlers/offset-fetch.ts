/** OffsetFetch: the group's committed offsets (-1 where none), from the coordinator's cache. */
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { Handler } from '../broker-context.ts';

export const offsetFetch: Handler = async (ctx, req, info) => {
  const coord = ctx.groups.coordinatorError(req.groupId);
  if (coord !== ErrorCode.NONE) {
    const topics =
      info.header.apiVersion < 2
        ? (req.topics ?? []).map((t: any) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((p: number) => ({
              partitionIndex: p,
              committedOffset: -1,
              committedLeaderEpoch: -1,
              metadata: '',
              errorCode: coord,
            })),
          }))
        : [];
    return { throttleTimeMs: 0, topics, errorCode: coord };
  }
  return { throttleTimeMs: 0, topics: ctx.groups.fetchOffsets(req.groupId, req.topics), errorCode: 0 };
};
