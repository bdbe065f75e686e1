/** Produce (key 0), from ProduceRequest.json / ProduceResponse.json (versions 3-9: record batch v2). */
import { array, field, message } from '../message-schema.ts';

export const produceRequest = message('ProduceRequest', 0, '3-9', '9+', [
  field('TransactionalId', 'string', '3+', { nullable: '3+', default: null }),
  field('Acks', 'int16', '0+'),
  field('TimeoutMs', 'int32', '0+'),
  array('TopicData', '0+', [
    field('Name', 'string', '0+'),
    array('PartitionData', '0+', [
      field('Index', 'int32', '0+'),
      field('Records', 'records', '0+', { nullable: '0+' }),
    ]),
  ]),
]);

export const produceResponse = message('ProduceResponse', 0, '3-9', '9+', [
  array('Responses', '0+', [
    field('Name', 'string', '0+'),
    array('PartitionResponses', '0+', [
      field('Index', 'int32', '0+'),
      field('ErrorCode', 'int16', '0+'),
      field('BaseOffset', 'int64', '0+'),
      field('LogAppendTimeMs', 'int64', '2+', { default: -1 }),
      field('LogStartOffset', 'int64', '5+', { default: -1 }),
      array('RecordErrors', '8+', [
        field('BatchIndex', 'int32', '8+'),
        field('BatchIndexErrorMessage', 'string', '8+', { nullable: '8+', default: null }),
      ]),
      field('ErrorMessage', 'string', '8+', { nullable: '8+', default: null }),
    ]),
  ]),
  field('ThrottleTimeMs', 'int32', '1+'),
]);
