/** ListOffsets (key 2), from ListOffsetsRequest.json / ListOffsetsResponse.json, versions 1-7. */
import { array, field, message } from '../message-schema.ts';

export const listOffsetsRequest = message('ListOffsetsRequest', 2, '1-7', '6+', [
  field('ReplicaId', 'int32', '0+'),
  field('IsolationLevel', 'int8', '2+'),
  array('Topics', '0+', [
    field('Name', 'string', '0+'),
    array('Partitions', '0+', [
      field('PartitionIndex', 'int32', '0+'),
      field('CurrentLeaderEpoch', 'int32', '4+', { default: -1 }),
      field('Timestamp', 'int64', '0+'),
    ]),
  ]),
]);

export const listOffsetsResponse = message('ListOffsetsResponse', 2, '1-7', '6+', [
  field('ThrottleTimeMs', 'int32', '2+'),
  array('Topics', '0+', [
    field('Name', 'string', '0+'),
    array('Partitions', '0+', [
      field('PartitionIndex', 'int32', '0+'),
      field('ErrorCode', 'int16', '0+'),
      field('Timestamp', 'int64', '1+', { default: -1 }),
      field('Offset', 'int64', '1+', { default: -1 }),
      field('LeaderEpoch', 'int32', '4+', { default: -1 }),
    ]),
  ]),
]);
