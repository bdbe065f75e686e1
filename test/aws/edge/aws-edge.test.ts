import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import {
  CreateBucketCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsEdge } from '../../../aws/edge/aws-edge.ts';

/** The edge with the real AWS SDK v3 clients, configured as for LocalStack (test/test, path-style S3). */
describe('AwsEdge', () => {
  let edge: AwsEdge;
  let dir: string;
  let s3: S3Client;
  let ddb: DynamoDBClient;
  let kinesis: KinesisClient;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'aws-edge-test-'));
    edge = await AwsEdge.start({ dataDir: path.join(dir, 'edge'), port: 0 });
    const config = edge.clientConfig('ap-northeast-1');
    s3 = new S3Client({ ...config, forcePathStyle: true });
    ddb = new DynamoDBClient(config);
    kinesis = new KinesisClient(config); // the SDK's default handler here is HTTP/2 (cleartext)
  });

  afterAll(async () => {
    s3?.destroy();
    ddb?.destroy();
    kinesis?.destroy();
    await edge?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers /_localstack/health with every service running', async () => {
    const res = await fetch(`${edge.endpoint}/_localstack/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { services: Record<string, string> };
    expect(body.services).toMatchObject({ s3: 'running', dynamodb: 'running', kinesis: 'running' });
  });

  it('stores and lists S3 objects, buffered and streamed (aws-chunked) bodies alike', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'raw' }));
    await s3.send(new PutObjectCommand({ Bucket: 'raw', Key: 'in/a.jsonl', Body: '{"a":1}\n' }));
    await s3.send(
      new PutObjectCommand({
        Bucket: 'raw',
        Key: 'in/b.jsonl',
        Body: Readable.from([Buffer.from('{"b":'), Buffer.from('2}\n')]),
        ContentLength: 8,
      }),
    );
    const b = await s3.send(new GetObjectCommand({ Bucket: 'raw', Key: 'in/b.jsonl' }));
    expect(await b.Body!.transformToString()).toBe('{"b":2}\n');
    const list = await s3.send(new ListObjectsV2Command({ Bucket: 'raw', Prefix: 'in/' }));
    expect(list.Contents?.map((c) => c.Key)).toEqual(['in/a.jsonl', 'in/b.jsonl']);
  });

  it('answers an unknown bucket with NoSuchBucket', async () => {
    await expect(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'x' }))).rejects.toMatchObject(
      {
        name: 'NoSuchBucket',
        $metadata: { httpStatusCode: 404 },
      },
    );
    await expect(s3.send(new GetBucketVersioningCommand({ Bucket: 'no-such-bucket' }))).rejects.toMatchObject(
      {
        name: 'NoSuchBucket',
      },
    );
  });

  it('keeps bucket settings s3rver lacks, and answers unset ones as S3 does', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'processed' }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'processed' }))).Status).toBeUndefined();
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'processed', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'processed' }))).Status).toBe('Enabled');
    await expect(s3.send(new GetPublicAccessBlockCommand({ Bucket: 'processed' }))).rejects.toMatchObject({
      name: 'NoSuchPublicAccessBlockConfiguration',
    });
  });

  it('serves DynamoDB tables, with TTL and point-in-time recovery settings', async () => {
    await ddb.send(
      new CreateTableCommand({
        TableName: 'features',
        KeySchema: [{ AttributeName: 'device_id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'device_id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitUntilTableExists({ client: ddb, maxWaitTime: 20, minDelay: 1 }, { TableName: 'features' });
    await ddb.send(
      new PutItemCommand({ TableName: 'features', Item: { device_id: { S: 'd1' }, t: { N: '21.5' } } }),
    );
    const got = await ddb.send(
      new GetItemCommand({ TableName: 'features', Key: { device_id: { S: 'd1' } } }),
    );
    expect(got.Item?.['t']).toEqual({ N: '21.5' });
    expect(
      (await ddb.send(new DescribeTimeToLiveCommand({ TableName: 'features' }))).TimeToLiveDescription,
    ).toEqual({
      TimeToLiveStatus: 'DISABLED',
    });
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: 'features',
        TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      }),
    );
    expect(
      (await ddb.send(new DescribeTimeToLiveCommand({ TableName: 'features' }))).TimeToLiveDescription,
    ).toEqual({ AttributeName: 'expires_at', TimeToLiveStatus: 'ENABLED' });
    const backups = await ddb.send(new DescribeContinuousBackupsCommand({ TableName: 'features' }));
    expect(
      backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus,
    ).toBe('DISABLED');
    await expect(
      ddb.send(new GetItemCommand({ TableName: 'missing', Key: { device_id: { S: 'x' } } })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('serves Kinesis over HTTP/2: records put are read back from the shards', async () => {
    await kinesis.send(new CreateStreamCommand({ StreamName: 'iot', ShardCount: 2 }));
    await waitUntilStreamExists({ client: kinesis, maxWaitTime: 20, minDelay: 1 }, { StreamName: 'iot' });
    const records = Array.from({ length: 20 }, (_, i) => ({
      PartitionKey: `device-${i}`,
      Data: Buffer.from(JSON.stringify({ i })),
    }));
    const put = await kinesis.send(new PutRecordsCommand({ StreamName: 'iot', Records: records }));
    expect(put.FailedRecordCount).toBe(0);
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'iot' }));
    expect(summary.StreamDescriptionSummary?.StreamModeDetails?.StreamMode).toBe('PROVISIONED');
    const shards = (await kinesis.send(new ListShardsCommand({ StreamName: 'iot' }))).Shards ?? [];
    let read = 0;
    for (const shard of shards) {
      const it = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: 'iot',
          ShardId: shard.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const got = await kinesis.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator! }));
      read += got.Records?.length ?? 0;
    }
    expect(read).toBe(20);
  });

  it('answers malformed requests with the protocol’s error shape and keeps serving', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const r = http.request(`${edge.endpoint}/`, { method: 'POST', headers }, (res) => {
          let text = '';
          res.on('data', (d) => {
            text += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        r.on('error', reject);
        r.end(body);
      });
    const auth = (service: string) =>
      `AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`;
    const bad = await post(
      {
        'x-amz-target': 'DynamoDB_20120810.PutItem',
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-date': '20260101T000000Z',
        authorization: auth('dynamodb'),
      },
      '{not json',
    );
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).__type).toMatch(/SerializationException/);
    const unknownOp = await post(
      {
        'x-amz-target': 'Kinesis_20131202.Explode',
        'content-type': 'application/x-amz-json-1.1',
        authorization: auth('kinesis'),
        'x-amz-date': '20260101T000000Z',
      },
      '{}',
    );
    expect(unknownOp.status).toBe(400);
    expect(JSON.parse(unknownOp.body).__type).toMatch(/UnknownOperationException/);
    const unserved = await post(
      {
        'content-type': 'application/x-amz-json-1.1',
        authorization: auth('secretsmanager'),
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      '{}',
    );
    expect(unserved.status).toBe(501);
    expect(JSON.parse(unserved.body)).toMatchObject({ __type: 'InternalFailure' });
    const sts = await post(
      { 'content-type': 'application/x-www-form-urlencoded', authorization: auth('sts') },
      'Action=GetCallerIdentity&Version=2011-06-15',
    );
    expect(sts.status).toBe(200);
    expect(sts.body).toContain('<Account>000000000000</Account>');
    const res = await fetch(`${edge.endpoint}/_localstack/health`);
    expect(res.status).toBe(200);
  });

  it('takes another port when the one asked for is taken, and wipes its state on stop', async () => {
    const other = await AwsEdge.start({ dataDir: path.join(dir, 'other'), port: 0 });
    await expect(AwsEdge.start({ dataDir: path.join(dir, 'third'), port: other.port })).rejects.toMatchObject(
      {
        code: 'EADDRINUSE',
      },
    );
    await other.stop();
    await expect(fetch(`${other.endpoint}/_localstack/health`)).rejects.toThrow();
  });
});
