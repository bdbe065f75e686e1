/** ListGroups (key 16), from ListGroupsRequest.json / ListGroupsResponse.json, versions 0-4. */
import { array, field, message } from '../message-schema.ts';

export const listGroupsRequest = message('ListGroupsRequest', 16, '0-4', '3+', [
  field('StatesFilter', '[]string', '4+'),
]);

export const listGroupsResponse = message('ListGroupsResponse', 16, '0-4', '3+', [
  field('ThrottleTimeMs', 'int32', '1+'),
  field('ErrorCode', 'int16', '0+'),
  array('Groups', '0+', [
    field('GroupId', 'string', '0+'),
    field('ProtocolType', 'string', '0+'),
    field('GroupState', 'string', '4+'),
  ]),
]);
