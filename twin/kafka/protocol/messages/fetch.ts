/**
 * Fetch (key 1), from FetchRequest.json / FetchResponse.json, versions 4-12: version 12 is flexible
 * and carries LastFetchedEpoch / DivergingEpoch, which the brokers' own followers use to find where
 * their log diverges from a new leader's (KIP-595's epoch validation); topic ids (13+) are not served.
 */
import { array, field, message } from '../message-schema.ts';

export const fetchRequest = message('FetchRequest', 1, '4-12', '12+', [
  field('ClusterId', 'string', '12+', { nullable: '12+', default: null, tag: 0 }),
  field('ReplicaId', 'int32', '0-14', { default: -1 }),
  field('MaxWaitMs', 'int32', '0+'),
  field('MinBytes', 'int32', '0+'),
  field('MaxBytes', 'int32', '3+', { default: 0x7fffffff }),
  field('IsolationLevel', 'int8', '4+'),
  field('SessionId', 'int32', '7+'),
  field('SessionEpoch', 'int32', '7+', { default: -1 }),
  array('Topics', '0+', [
    field('Topic', 'string', '0-12'),
    array('Partitions', '0+', [
      field('Partition', 'int32', '0+'),
      field('CurrentLeaderEpoch', 'int32', '9+', { default: -1 }),
      field('FetchOffset', 'int64', '0+'),
      field('LastFetchedEpoch', 'int32', '12+', { default: -1 }),
      field('LogStartOffset', 'int64', '5+', { default: -1 }),
      field('PartitionMaxBytes', 'int32', '0+'),
    ]),
  ]),
  array('ForgottenTopicsData', '7+', [
    field('Topic', 'string', '7-12'),
    field('Partitions', '[]int32', '7+'),
  ]),
  field('RackId', 'string', '11+'),
]);

export const fetchResponse = message('FetchResponse', 1, '4-12', '12+', [
  field('ThrottleTimeMs', 'int32', '1+'),
  field('ErrorCode', 'int16', '7+'),
  field('SessionId', 'int32', '7+'),
  array('Responses', '0+', [
    field('Topic', 'string', '0-12'),
    array('Partitions', '0+', [
      field('PartitionIndex', 'int32', '0+'),
      field('ErrorCode', 'int16', '0+'),
      field('HighWatermark', 'int64', '0+'),
      field('LastStableOffset', 'int64', '4+', { default: -1 }),
      field('LogStartOffset', 'int64', '5+', { default: -1 }),
      field('DivergingEpoch', 'struct', '12+', { tag: 0 }, [
        field('Epoch', 'int32', '12+', { default: -1 }),
        field('EndOffset', 'int64', '12+', { default: -1 }),
      ]),
      field('CurrentLeader', 'struct', '12+', { tag: 1 }, [
        field('LeaderId', 'int32', '12+', { default: -1 }),
        field('LeaderEpoch', 'int32', '12+', { default: -1 }),
      ]),
      array(
        'AbortedTransactions',
        '4+',
        [field('ProducerId', 'int64', '4+'), field('FirstOffset', 'int64', '4+')],
        { nullable: '4+' },
      ),
      field('PreferredReadReplica', 'int32', '11+', { default: -1 }),
      field('Records', 'records', '0+', { nullable: '0+' }),
    ]),
  ]),
]);
