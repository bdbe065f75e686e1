import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { RawReading } from './records.ts';

/** A line or record that is not a reading at all (not JSON, not an object): counted, never loaded. */
export interface Unparseable {
  source: string;
  reason: string;
}

export interface Extracted {
  readings: RawReading[];
  unparseable: Unparseable[];
  fromStream: number;
  fromFiles: number;
  files: number;
}

function parseReading(text: string, source: string, out: Extracted, bad: Unparseable[]): boolean {
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      bad.push({ source, reason: 'not a JSON object' });
      return false;
    }
    out.readings.push(value as RawReading);
    return true;
  } catch {
    bad.push({ source, reason: 'not JSON' });
    return false;
  }
}

/** Every record of every shard from the trim horizon until the shard is caught up. */
export async function extractStream(kinesis: KinesisClient, stream: string, out: Extracted): Promise<void> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  for (const shard of shards) {
    let iterator = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shard.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    while (iterator) {
      const got = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of got.Records ?? []) {
        if (
          parseReading(
            Buffer.from(r.Data ?? []).toString('utf8'),
            `kinesis:${shard.ShardId}`,
            out,
            out.unparseable,
          )
        )
          out.fromStream++;
      }
      if ((got.Records ?? []).length === 0 || got.MillisBehindLatest === 0) break;
      iterator = got.NextShardIterator;
    }
  }
}

/** Every JSON Lines file under the prefix of the raw bucket. */
export async function extractFiles(
  s3: S3Client,
  bucket: string,
  prefix: string,
  out: Extracted,
): Promise<void> {
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }));
      const text = await body.Body!.transformToString();
      out.files++;
      text.split('\n').forEach((line, i) => {
        if (line.trim() === '') return;
        if (parseReading(line, `s3://${bucket}/${object.Key}:${i + 1}`, out, out.unparseable))
          out.fromFiles++;
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

export function emptyExtract(): Extracted {
  return { readings: [], unparseable: [], fromStream: 0, fromFiles: 0, files: 0 };
}

export type { KinesisClient, S3Client };
