/** DeleteTopics (key 20), from DeleteTopicsRequest.json / DeleteTopicsResponse.json, versions 0-6. */
import { array, field, message } from '../message-schema.ts';

export const deleteTopicsRequest = message('DeleteTopicsRequest', 20, '0-6', '4+', [
  array('Topics', '6+', [field('Name', 'string', '6+', { nullable: '6+' }), field('TopicId', 'uuid', '6+')]),
  field('TopicNames', '[]string', '0-5'),
  field('TimeoutMs', 'int32', '0+'),
]);

export const deleteTopicsResponse = message('DeleteTopicsResponse', 20, '0-6', '4+', [
  field('ThrottleTimeMs', 'int32', '1+'),
  array('Responses', '0+', [
    field('Name', 'string', '0+', { nullable: '6+' }),
    field('TopicId', 'uuid', '6+'),
    field('ErrorCode', 'int16', '0+'),
    field('ErrorMessage', 'string', '5+', { nullable: '5+', default: null }),
  ]),
]);
