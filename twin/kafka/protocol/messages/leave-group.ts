/** LeaveGroup (key 13), from LeaveGroupRequest.json / LeaveGroupResponse.json, versions 0-5. */
import { array, field, message } from '../message-schema.ts';

export const leaveGroupRequest = message('LeaveGroupRequest', 13, '0-5', '4+', [
  field('GroupId', 'string', '0+'),
  field('MemberId', 'string', '0-2'),
  array('Members', '3+', [
    field('MemberId', 'string', '3+'),
    field('GroupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
    field('Reason', 'string', '5+', { nullable: '5+', default: null }),
  ]),
]);

export const leaveGroupResponse = message('LeaveGroupResponse', 13, '0-5', '4+', [
  field('ThrottleTimeMs', 'int32', '1+'),
  field('ErrorCode', 'int16', '0+'),
  array('Members', '3+', [
    field('MemberId', 'string', '3+'),
    field('GroupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
    field('ErrorCode', 'int16', '3+'),
  ]),
]);
