import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { awsClientConfig } from '../lib/aws-config.ts';
import { ConfigError, numberFromEnv } from '../lib/config-error.ts';
import { emptyExtract, extractFiles, extractStream } from './aws-extract.ts';
import { dynamoFeatureSink, postgresSink, s3ProcessedSink } from './aws-load.ts';
import { load } from './load.ts';
import { qualityCheck } from './quality-check.ts';
import { transform } from './transform.ts';

/**
 * The pipeline of seed 000 on AWS: IoT records from the Kinesis stream and JSON Lines files from the
 * raw bucket → transform → quality check (unparseable and out-of-range records rejected and counted)
 * → when the batch passes the gate: the processed bucket, the DynamoDB feature store and the
 * warehouse table in PostgreSQL. Returns the summary line the job prints.
 */
export async function runAwsPipeline(env: NodeJS.ProcessEnv, maxRejectRatio: number) {
  const config = awsClientConfig(env);
  const s3 = new S3Client(config);
  const kinesis = new KinesisClient({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
  });
  const ddb = new DynamoDBClient({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
  });
  const batchId = env['POD_NAME'] || `etl-${Date.now()}`;
  try {
    const extracted = emptyExtract();
    if (env['IOT_STREAM']) await extractStream(kinesis, env['IOT_STREAM'], extracted);
    if (env['RAW_BUCKET']) await extractFiles(s3, env['RAW_BUCKET'], env['RAW_PREFIX'] ?? '', extracted);
    const transformed = transform(extracted.readings);
    const { accepted, rejected } = qualityCheck(transformed);
    const total = extracted.readings.length + extracted.unparseable.length;
    const rejectedCount = rejected.length + extracted.unparseable.length;
    const rejectRatio = total === 0 ? 0 : rejectedCount / total;
    const passed = rejectRatio <= maxRejectRatio;

    const loaded = { s3: 0, dynamodb: 0, devices: 0, dwh: 0 };
    if (passed && accepted.length > 0) {
      if (env['PROCESSED_BUCKET'])
        loaded.s3 = await load(
          accepted,
          s3ProcessedSink(s3, env['PROCESSED_BUCKET'], `processed/${batchId}.jsonl`),
        );
      if (env['FEATURE_TABLE']) {
        const ttlDays = numberFromEnv(env, 'FEATURE_TTL_DAYS', 7, { min: 1 });
        const sink = dynamoFeatureSink(ddb, env['FEATURE_TABLE'], ttlDays * 86_400);
        loaded.dynamodb = await load(accepted, sink);
        loaded.devices = sink.devices;
      }
      if (env['DWH_HOST']) {
        const dwh = {
          host: env['DWH_HOST'],
          port: numberFromEnv(env, 'DWH_PORT', 5432, { min: 1, max: 65535 }),
          user: required(env, 'DWH_USER'),
          password: required(env, 'DWH_PASSWORD'),
          database: env['DWH_DATABASE'] || 'aiplatform',
        };
        loaded.dwh = await load(accepted, postgresSink(dwh, batchId));
      }
    }
    const reasons: Record<string, number> = {};
    for (const u of extracted.unparseable) reasons[u.reason] = (reasons[u.reason] ?? 0) + 1;
    for (const r of rejected)
      for (const reason of r.reasons) {
        const key = reason.split(' ')[0] + (reason.endsWith('missing') ? ' missing' : ' out of range');
        reasons[key] = (reasons[key] ?? 0) + 1;
      }
    return {
      passed,
      summary: {
        batchId,
        extracted: {
          stream: extracted.fromStream,
          files: extracted.fromFiles,
          objects: extracted.files,
          unparseable: extracted.unparseable.length,
          total,
        },
        transformed: transformed.length,
        rejected: rejectedCount,
        accepted: accepted.length,
        loaded,
        rejectRatio: Math.round(rejectRatio * 1e4) / 1e4,
        maxRejectRatio,
        reasons,
      },
    };
  } finally {
    s3.destroy();
    kinesis.destroy();
    ddb.destroy();
  }
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new ConfigError(`${name} is required when DWH_HOST is set`);
  return v;
}
