/** FindCoordinator (key 10), from FindCoordinatorRequest.json / FindCoordinatorResponse.json, versions 0-4. */
import { array, field, message } from '../message-schema.ts';

export const findCoordinatorRequest = message('FindCoordinatorRequest', 10, '0-4', '3+', [
  field('Key', 'string', '0-3'),
  field('KeyType', 'int8', '1+'),
  field('CoordinatorKeys', '[]string', '4+'),
]);

export const findCoordinatorResponse = message('FindCoordinatorResponse', 10, '0-4', '3+', [
  field('ThrottleTimeMs', 'int32', '1+'),
  field('ErrorCode', 'int16', '0-3'),
  field('ErrorMessage', 'string', '1-3', { nullable: '1-3', default: null }),
  field('NodeId', 'int32', '0-3'),
  field('Host', 'string', '0-3'),
  field('Port', 'int32', '0-3'),
  array('Coordinators', '4+', [
    field('Key', 'string', '4+'),
    field('NodeId', 'int32', '4+'),
    field('Host', 'string', '4+'),
    field('Port', 'int32', '4+'),
    field('ErrorCode', 'int16', '4+'),
    field('ErrorMessage', 'string', '4+', { nullable: '4+', default: null }),
  ]),
]);
