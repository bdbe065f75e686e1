/** Produce: each partition appended by its leader, answered as acks asks (no answer at all for acks=0). */
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { Handler } from '../broker-context.ts';

export const produce: Handler = async (ctx, req) => {
  const acks: number = req.acks;
  const responses = await Promise.all(
    req.topicData.map(async (t: any) => ({
      name: t.name,
      partitionResponses: await Promise.all(
        t.partitionData.map(async (p: any) => {
          const r =
            acks === 0 || acks === 1 || acks === -1
              ? await ctx.replicas.produce(t.name, p.index, p.records, acks, req.timeoutMs)
              : { errorCode: ErrorCode.INVALID_REQUIRED_ACKS, baseOffset: -1 };
          if (r.errorCode !== 0 && r.errorMessage)
            ctx.log(`produce to ${t.name}-${p.index} refused: ${r.errorMessage}`);
          return {
            index: p.index,
            errorCode: r.errorCode,
            baseOffset: r.baseOffset,
            logAppendTimeMs: -1,
            logStartOffset: 0,
            recordErrors: [],
            errorMessage: r.errorMessage ?? null,
          };
        }),
      ),
    })),
  );
  if (acks === 0) return undefined;
  return { responses, throttleTimeMs: 0 };
};
