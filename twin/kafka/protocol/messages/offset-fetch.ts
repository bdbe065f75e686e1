/** OffsetFetch (key 9), from OffsetFetchRequest.json / OffsetFetchResponse.json, versions 1-7 (one group per request). */
import { array, field, message } from '../message-schema.ts';

export const offsetFetchRequest = message('OffsetFetchRequest', 9, '1-7', '6+', [
  field('GroupId', 'string', '0-7'),
  array('Topics', '0-7', [field('Name', 'string', '0-7'), field('PartitionIndexes', '[]int32', '0-7')], {
    nullable: '2-7',
  }),
  field('RequireStable', 'bool', '7+'),
]);

export const offsetFetchResponse = message('OffsetFetchResponse', 9, '1-7', '6+', [
  field('ThrottleTimeMs', 'int32', '3+'),
  array('Topics', '0-7', [
    field('Name', 'string', '0-7'),
    array('Partitions', '0-7', [
      field('PartitionIndex', 'int32', '0-7'),
      field('CommittedOffset', 'int64', '0-7'),
      field('CommittedLeaderEpoch', 'int32', '5-7', { default: -1 }),
      field('Metadata', 'string', '0-7', { nullable: '0-7' }),
      field('ErrorCode', 'int16', '0-7'),
    ]),
  ]),
  field('ErrorCode', 'int16', '2-7'),
]);
