/** CreateTopics (key 19), from CreateTopicsRequest.json / CreateTopicsResponse.json, versions 0-7. */
import { array, field, message } from '../message-schema.ts';

export const createTopicsRequest = message('CreateTopicsRequest', 19, '0-7', '5+', [
  array('Topics', '0+', [
    field('Name', 'string', '0+'),
    field('NumPartitions', 'int32', '0+'),
    field('ReplicationFactor', 'int16', '0+'),
    array('Assignments', '0+', [field('PartitionIndex', 'int32', '0+'), field('BrokerIds', '[]int32', '0+')]),
    array('Configs', '0+', [
      field('Name', 'string', '0+'),
      field('Value', 'string', '0+', { nullable: '0+' }),
    ]),
  ]),
  field('TimeoutMs', 'int32', '0+', { default: 60000 }),
  field('ValidateOnly', 'bool', '1+'),
]);

export const createTopicsResponse = message('CreateTopicsResponse', 19, '0-7', '5+', [
  field('ThrottleTimeMs', 'int32', '2+'),
  array('Topics', '0+', [
    field('Name', 'string', '0+'),
    field('TopicId', 'uuid', '7+'),
    field('ErrorCode', 'int16', '0+'),
    field('ErrorMessage', 'string', '1+', { nullable: '0+', default: null }),
    field('TopicConfigErrorCode', 'int16', '5+', { tag: 0 }),
    field('NumPartitions', 'int32', '5+', { default: -1 }),
    field('ReplicationFactor', 'int16', '5+', { default: -1 }),
    array(
      'Configs',
      '5+',
      [
        field('Name', 'string', '5+'),
        field('Value', 'string', '5+', { nullable: '5+' }),
        field('ReadOnly', 'bool', '5+'),
        field('ConfigSource', 'int8', '5+', { default: -1 }),
        field('IsSensitive', 'bool', '5+'),
      ],
      { nullable: '5+', default: null },
    ),
  ]),
]);
