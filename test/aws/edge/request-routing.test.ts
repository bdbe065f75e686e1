import { describe, expect, it } from 'vitest';
import { decodeAwsChunked } from '../../../aws/edge/aws-chunked.ts';
import { accessKeyOf, serviceOf } from '../../../aws/edge/request-routing.ts';

const url = (s: string) => new URL(s, 'http://edge.invalid');

describe('serviceOf', () => {
  it('routes as LocalStack does: JSON target, then the credential scope, else S3', () => {
    expect(serviceOf({ 'x-amz-target': 'DynamoDB_20120810.GetItem' }, url('/'))).toBe('dynamodb');
    expect(serviceOf({ 'x-amz-target': 'Kinesis_20131202.PutRecord' }, url('/'))).toBe('kinesis');
    expect(
      serviceOf(
        { authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/eu-west-1/sts/aws4_request, X' },
        url('/'),
      ),
    ).toBe('sts');
    expect(serviceOf({}, url('/b/k?X-Amz-Credential=test%2F20260101%2Fus-east-1%2Fs3%2Faws4_request'))).toBe(
      's3',
    );
    expect(serviceOf({}, url('/bucket/key'))).toBe('s3');
  });

  it('finds the access key of SigV4, presigned and SigV2 requests', () => {
    expect(
      accessKeyOf({ authorization: 'AWS4-HMAC-SHA256 Credential=AKID/2026/r/s3/aws4_request' }, url('/')),
    ).toBe('AKID');
    expect(accessKeyOf({ authorization: 'AWS key2:sig' }, url('/'))).toBe('key2');
    expect(accessKeyOf({}, url('/'))).toBeUndefined();
  });
});

describe('decodeAwsChunked', () => {
  it('joins the chunks and reads the trailers', () => {
    const body = Buffer.from(
      '5;chunk-signature=abc\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n',
    );
    expect(decodeAwsChunked(body)).toEqual({
      payload: Buffer.from('hello world'),
      trailers: { 'x-amz-checksum-crc32': 'AAAA' },
    });
  });

  it('names broken framing instead of storing garbage', () => {
    expect(decodeAwsChunked(Buffer.from('zz\r\nhello'))).toEqual({
      error: 'aws-chunked body: bad chunk size "zz"',
    });
    expect(decodeAwsChunked(Buffer.from('10\r\nhi\r\n'))).toEqual({
      error: 'aws-chunked body: chunk longer than the body',
    });
  });
});
