/** Heartbeat (key 12), from HeartbeatRequest.json / HeartbeatResponse.json, versions 0-4. */
import { field, message } from '../message-schema.ts';

export const heartbeatRequest = message('HeartbeatRequest', 12, '0-4', '4+', [
  field('GroupId', 'string', '0+'),
  field('GenerationId', 'int32', '0+'),
  field('MemberId', 'string', '0+'),
  field('GroupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
]);

export const heartbeatResponse = message('HeartbeatResponse', 12, '0-4', '4+', [
  field('ThrottleTimeMs', 'int32', '1+'),
  field('ErrorCode', 'int16', '0+'),
]);
