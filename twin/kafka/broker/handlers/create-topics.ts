/** CreateTopics, forwarded to the active controller (as KRaft brokers forward it). */
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { Handler } from '../broker-context.ts';

export const createTopics: Handler = async (ctx, req) => {
  let results: any[];
  try {
    const r = await ctx.controllerCall(
      { type: 'createTopics', topics: req.topics, validateOnly: req.validateOnly },
      Math.max(1000, req.timeoutMs),
    );
    results = r.results;
  } catch (err) {
    results = req.topics.map((t: any) => ({
      name: t.name,
      errorCode: ErrorCode.REQUEST_TIMED_OUT,
      errorMessage: (err as Error).message,
    }));
  }
  return {
    throttleTimeMs: 0,
    topics: results.map((r) => ({
      name: r.name,
      topicId: r.topicId ?? '0'.repeat(32),
      errorCode: r.errorCode,
      errorMessage: r.errorMessage ?? null,
      numPartitions: r.numPartitions ?? -1,
      replicationFactor: r.replicationFactor ?? -1,
      configs: null,
    })),
  };
};
