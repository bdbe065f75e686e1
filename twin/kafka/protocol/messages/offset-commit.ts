/** OffsetCommit (key 8), from OffsetCommitRequest.json / OffsetCommitResponse.json, versions 2-8. */
import { array, field, message } from '../message-schema.ts';

export const offsetCommitRequest = message('OffsetCommitRequest', 8, '2-8', '8+', [
  field('GroupId', 'string', '0+'),
  field('GenerationIdOrMemberEpoch', 'int32', '1+', { default: -1 }),
  field('MemberId', 'string', '1+'),
  field('GroupInstanceId', 'string', '7+', { nullable: '7+', default: null }),
  field('RetentionTimeMs', 'int64', '2-4', { default: -1 }),
  array('Topics', '0+', [
    field('Name', 'string', '0+'),
    array('Partitions', '0+', [
      field('PartitionIndex', 'int32', '0+'),
      field('CommittedOffset', 'int64', '0+'),
      field('CommittedLeaderEpoch', 'int32', '6+', { default: -1 }),
      field('CommittedMetadata', 'string', '0+', { nullable: '0+' }),
    ]),
  ]),
]);

export const offsetCommitResponse = message('OffsetCommitResponse', 8, '2-8', '8+', [
  field('ThrottleTimeMs', 'int32', '3+'),
  array('Topics', '0+', [
    field('Name', 'string', '0+'),
    array('Partitions', '0+', [field('PartitionIndex', 'int32', '0+'), field('ErrorCode', 'int16', '0+')]),
  ]),
]);
