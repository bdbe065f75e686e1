/** Metadata (key 3), from MetadataRequest.json / MetadataResponse.json. */
import { array, field, message } from '../message-schema.ts';

export const metadataRequest = message('MetadataRequest', 3, '0-12', '9+', [
  array(
    'Topics',
    '0+',
    [field('TopicId', 'uuid', '10+'), field('Name', 'string', '0+', { nullable: '10+' })],
    { nullable: '1+' },
  ),
  field('AllowAutoTopicCreation', 'bool', '4+', { default: true }),
  field('IncludeClusterAuthorizedOperations', 'bool', '8-10'),
  field('IncludeTopicAuthorizedOperations', 'bool', '8+'),
]);

export const metadataResponse = message('MetadataResponse', 3, '0-12', '9+', [
  field('ThrottleTimeMs', 'int32', '3+'),
  array('Brokers', '0+', [
    field('NodeId', 'int32', '0+'),
    field('Host', 'string', '0+'),
    field('Port', 'int32', '0+'),
    field('Rack', 'string', '1+', { nullable: '1+', default: null }),
  ]),
  field('ClusterId', 'string', '2+', { nullable: '2+', default: null }),
  field('ControllerId', 'int32', '1+', { default: -1 }),
  array('Topics', '0+', [
    field('ErrorCode', 'int16', '0+'),
    field('Name', 'string', '0+', { nullable: '12+' }),
    field('TopicId', 'uuid', '10+'),
    field('IsInternal', 'bool', '1+'),
    array('Partitions', '0+', [
      field('ErrorCode', 'int16', '0+'),
      field('PartitionIndex', 'int32', '0+'),
      field('LeaderId', 'int32', '0+'),
      field('LeaderEpoch', 'int32', '7+', { default: -1 }),
      field('ReplicaNodes', '[]int32', '0+'),
      field('IsrNodes', '[]int32', '0+'),
      field('OfflineReplicas', '[]int32', '5+'),
    ]),
    field('TopicAuthorizedOperations', 'int32', '8+', { default: -2147483648 }),
  ]),
  field('ClusterAuthorizedOperations', 'int32', '8-10', { default: -2147483648 }),
]);
