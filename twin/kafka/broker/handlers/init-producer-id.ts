/**
 * InitProducerId for idempotent producers: a producer id from the controller, epoch 0. A transactional
 * id is refused with INVALID_REQUEST: the twin's broker has no transaction coordinator.
 */
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { Handler } from '../broker-context.ts';

export const initProducerId: Handler = async (ctx, req) => {
  if (req.transactionalId !== null) {
    ctx.log(
      `InitProducerId for transactional id ${req.transactionalId} refused: transactions are not supported by the twin's broker`,
    );
    return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, producerId: -1, producerEpoch: -1 };
  }
  try {
    const r = await ctx.controllerCall({ type: 'allocateProducerId', brokerId: ctx.config.nodeId }, 10_000);
    return { throttleTimeMs: 0, errorCode: 0, producerId: r.producerId, producerEpoch: 0 };
  } catch {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      producerId: -1,
      producerEpoch: -1,
    };
  }
};
