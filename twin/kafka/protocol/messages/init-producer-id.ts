/** InitProducerId (key 22), from InitProducerIdRequest.json / InitProducerIdResponse.json, versions 0-4. */
import { field, message } from '../message-schema.ts';

export const initProducerIdRequest = message('InitProducerIdRequest', 22, '0-4', '2+', [
  field('TransactionalId', 'string', '0+', { nullable: '0+' }),
  field('TransactionTimeoutMs', 'int32', '0+'),
  field('ProducerId', 'int64', '3+', { default: -1 }),
  field('ProducerEpoch', 'int16', '3+', { default: -1 }),
]);

export const initProducerIdResponse = message('InitProducerIdResponse', 22, '0-4', '2+', [
  field('ThrottleTimeMs', 'int32', '0+'),
  field('ErrorCode', 'int16', '0+'),
  field('ProducerId', 'int64', '0+', { default: -1 }),
  field('ProducerEpoch', 'int16', '0+'),
]);
