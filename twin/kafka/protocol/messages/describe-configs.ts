/** DescribeConfigs (key 32), from DescribeConfigsRequest.json / DescribeConfigsResponse.json, versions 0-4. */
import { array, field, message } from '../message-schema.ts';

export const describeConfigsRequest = message('DescribeConfigsRequest', 32, '0-4', '4+', [
  array('Resources', '0+', [
    field('ResourceType', 'int8', '0+'),
    field('ResourceName', 'string', '0+'),
    field('ConfigurationKeys', '[]string', '0+', { nullable: '0+' }),
  ]),
  field('IncludeSynonyms', 'bool', '1+'),
  field('IncludeDocumentation', 'bool', '3+'),
]);

export const describeConfigsResponse = message('DescribeConfigsResponse', 32, '0-4', '4+', [
  field('ThrottleTimeMs', 'int32', '0+'),
  array('Results', '0+', [
    field('ErrorCode', 'int16', '0+'),
    field('ErrorMessage', 'string', '0+', { nullable: '0+', default: null }),
    field('ResourceType', 'int8', '0+'),
    field('ResourceName', 'string', '0+'),
    array('Configs', '0+', [
      field('Name', 'string', '0+'),
      field('Value', 'string', '0+', { nullable: '0+' }),
      field('ReadOnly', 'bool', '0+'),
      field('IsDefault', 'bool', '0'),
      field('ConfigSource', 'int8', '1+', { default: -1 }),
      field('IsSensitive', 'bool', '0+'),
      array('Synonyms', '1+', [
        field('Name', 'string', '1+'),
        field('Value', 'string', '1+', { nullable: '1+' }),
        field('Source', 'int8', '1+'),
      ]),
      field('ConfigType', 'int8', '3+'),
      field('Documentation', 'string', '3+', { nullable: '3+', default: null }),
    ]),
  ]),
]);
