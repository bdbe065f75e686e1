/** DescribeGroups (key 15), from DescribeGroupsRequest.json / DescribeGroupsResponse.json, versions 0-5. */
import { array, field, message } from '../message-schema.ts';

export const describeGroupsRequest = message('DescribeGroupsRequest', 15, '0-5', '5+', [
  field('Groups', '[]string', '0+'),
  field('IncludeAuthorizedOperations', 'bool', '3+'),
]);

export const describeGroupsResponse = message('DescribeGroupsResponse', 15, '0-5', '5+', [
  field('ThrottleTimeMs', 'int32', '1+'),
  array('Groups', '0+', [
    field('ErrorCode', 'int16', '0+'),
    field('GroupId', 'string', '0+'),
    field('GroupState', 'string', '0+'),
    field('ProtocolType', 'string', '0+'),
    field('ProtocolData', 'string', '0+'),
    array('Members', '0+', [
      field('MemberId', 'string', '0+'),
      field('GroupInstanceId', 'string', '4+', { nullable: '4+', default: null }),
      field('ClientId', 'string', '0+'),
      field('ClientHost', 'string', '0+'),
      field('MemberMetadata', 'bytes', '0+'),
      field('MemberAssignment', 'bytes', '0+'),
    ]),
    field('AuthorizedOperations', 'int32', '3+', { default: -2147483648 }),
  ]),
]);
