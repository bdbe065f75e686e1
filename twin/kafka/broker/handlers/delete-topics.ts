/** DeleteTopics, forwarded to the active controller; every replica removes the topic's logs. */
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { Handler } from '../broker-context.ts';

const TOPIC_DELETION_DISABLED = 73;

export const deleteTopics: Handler = async (ctx, req, info) => {
  const names: string[] =
    info.header.apiVersion >= 6
      ? req.topics.map(
          (t: any) => t.name ?? ctx.image.topicsById.get(t.topicId)?.name ?? `<unknown id ${t.topicId}>`,
        )
      : req.topicNames;
  let results: any[];
  if (!ctx.config.bool('delete.topic.enable'))
    results = names.map((name) => ({
      name,
      errorCode: TOPIC_DELETION_DISABLED,
      errorMessage: 'Topic deletion is disabled.',
    }));
  else
    try {
      results = (await ctx.controllerCall({ type: 'deleteTopics', names }, Math.max(1000, req.timeoutMs)))
        .results;
    } catch (err) {
      results = names.map((name) => ({
        name,
        errorCode: ErrorCode.REQUEST_TIMED_OUT,
        errorMessage: (err as Error).message,
      }));
    }
  return {
    throttleTimeMs: 0,
    responses: results.map((r) => ({
      name: r.name,
      topicId: r.topicId ?? '0'.repeat(32),
      errorCode: r.errorCode,
      errorMessage: r.errorMessage ?? null,
    })),
  };
};
