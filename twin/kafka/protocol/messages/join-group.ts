/** JoinGroup (key 11), from JoinGroupRequest.json / JoinGroupResponse.json, versions 0-9. */
import { array, field, message } from '../message-schema.ts';

export const joinGroupRequest = message('JoinGroupRequest', 11, '0-9', '6+', [
  field('GroupId', 'string', '0+'),
  field('SessionTimeoutMs', 'int32', '0+'),
  field('RebalanceTimeoutMs', 'int32', '1+', { default: -1 }),
  field('MemberId', 'string', '0+'),
  field('GroupInstanceId', 'string', '5+', { nullable: '5+', default: null }),
  field('ProtocolType', 'string', '0+'),
  array('Protocols', '0+', [field('Name', 'string', '0+'), field('Metadata', 'bytes', '0+')]),
  field('Reason', 'string', '8+', { nullable: '8+', default: null }),
]);

export const joinGroupResponse = message('JoinGroupResponse', 11, '0-9', '6+', [
  field('ThrottleTimeMs', 'int32', '2+'),
  field('ErrorCode', 'int16', '0+'),
  field('GenerationId', 'int32', '0+', { default: -1 }),
  field('ProtocolType', 'string', '7+', { nullable: '7+', default: null }),
  field('ProtocolName', 'string', '0+', { nullable: '7+' }),
  field('Leader', 'string', '0+'),
  field('SkipAssignment', 'bool', '9+'),
  field('MemberId', 'string', '0+'),
  array('Members', '0+', [
    field('MemberId', 'string', '0+'),
    field('GroupInstanceId', 'string', '5+', { nullable: '5+', default: null }),
    field('Metadata', 'bytes', '0+'),
  ]),
]);
