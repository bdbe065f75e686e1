/** ApiVersions (key 18), from ApiVersionsRequest.json / ApiVersionsResponse.json. */
import { array, field, message } from '../message-schema.ts';

export const apiVersionsRequest = message('ApiVersionsRequest', 18, '0-3', '3+', [
  field('ClientSoftwareName', 'string', '3+'),
  field('ClientSoftwareVersion', 'string', '3+'),
]);

export const apiVersionsResponse = message('ApiVersionsResponse', 18, '0-3', '3+', [
  field('ErrorCode', 'int16', '0+'),
  array('ApiKeys', '0+', [
    field('ApiKey', 'int16', '0+'),
    field('MinVersion', 'int16', '0+'),
    field('MaxVersion', 'int16', '0+'),
  ]),
  field('ThrottleTimeMs', 'int32', '1+'),
]);
