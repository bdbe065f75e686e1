/** SyncGroup (key 14), from SyncGroupRequest.json / SyncGroupResponse.json, versions 0-5. */
import { array, field, message } from '../message-schema.ts';

export const syncGroupRequest = message('SyncGroupRequest', 14, '0-5', '4+', [
  field('GroupId', 'string', '0+'),
  field('GenerationId', 'int32', '0+'),
  field('MemberId', 'string', '0+'),
  field('GroupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
  field('ProtocolType', 'string', '5+', { nullable: '5+', default: null }),
  field('ProtocolName', 'string', '5+', { nullable: '5+', default: null }),
  array('Assignments', '0+', [field('MemberId', 'string', '0+'), field('Assignment', 'bytes', '0+')]),
]);

export const syncGroupResponse = message('SyncGroupResponse', 14, '0-5', '4+', [
  field('ThrottleTimeMs', 'int32', '1+'),
  field('ErrorCode', 'int16', '0+'),
  field('ProtocolType', 'string', '5+', { nullable: '5+', default: null }),
  field('ProtocolName', 'string', '5+', { nullable: '5+', default: null }),
  field('Assignment', 'bytes', '0+'),
]);
