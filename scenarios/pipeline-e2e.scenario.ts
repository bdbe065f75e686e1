import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { expect, it } from 'vitest';
import type { Environment, KubeObject } from '../env/environment.ts';
import { scenario } from '../harness/index.ts';

const CRONJOB = { apiVersion: 'batch/v1', kind: 'CronJob', namespace: 'data-pipeline', name: 'etl' };
const CONFIG = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'data-pipeline', name: 'pipeline-config' };
const DWH_SECRET = { apiVersion: 'v1', kind: 'Secret', namespace: 'data-pipeline', name: 'etl-db' };
const INGRESS = { namespace: 'production', name: 'ai-platform' };

// The data plane comes from `terraform apply` of infra/ai-platform/terraform/environments/local when
// the machine has Terraform and its plugin mirror (else through the SDK, as every other scenario does).
process.env['TWIN_TERRAFORM'] ??= 'auto';

const DEVICES = 20;
const STREAM_RECORDS = 400;
const FILES = 3;
const LINES_PER_FILE = 100;

/**
 * The data pipeline of the AI platform (seeds 000/001): IoT readings into Kinesis and files into the
 * S3 raw bucket → the ETL job (the CronJob's template, run now as `kubectl create job --from` does)
 * extracts, transforms and quality-checks them → S3 processed, the DynamoDB feature store and the
 * warehouse table in PostgreSQL → the inference service scores a device from its stored features →
 * the api returns the prediction through the Ingress. Every hop's record count is read back from the
 * store itself, and the time from the first record sent to the prediction served is measured.
 */
scenario('pipeline-e2e', { system: 'ai-platform' }, (s) => {
  it('moves every good record through each hop, rejects and counts the bad ones, and serves a prediction from the new features', async () => {
    const env = s.env;
    const aws = env.aws;
    expect(aws, 'the local environment starts the AWS edge for ai-platform').toBeDefined();
    const clientConfig = { endpoint: aws!.endpoint, region: aws!.region, credentials: aws!.credentials };
    const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
    const kinesis = new KinesisClient(clientConfig);
    const ddb = new DynamoDBClient(clientConfig);
    try {
      const config = (await env.kube.get(CONFIG))?.data as Record<string, string>;
      const t0 = performance.now();

      // Devices send readings: most good, some out of range or missing a field, some not JSON at all.
      const data = generateData();
      await s.step(`send ${STREAM_RECORDS} records to Kinesis ${config['IOT_STREAM']}`, async () => {
        for (let i = 0; i < data.stream.length; i += 100) {
          const batch = data.stream.slice(i, i + 100);
          const r = await kinesis.send(
            new PutRecordsCommand({
              StreamName: config['IOT_STREAM'],
              Records: batch.map((line, j) => ({
                PartitionKey: `sensor-${(i + j) % DEVICES}`,
                Data: Buffer.from(line),
              })),
            }),
          );
          expect(r.FailedRecordCount ?? 0).toBe(0);
        }
      });
      await s.step(
        `upload ${FILES} files to s3://${config['RAW_BUCKET']}/${config['RAW_PREFIX']}`,
        async () => {
          for (const [n, lines] of data.files.entries()) {
            await s3.send(
              new PutObjectCommand({
                Bucket: config['RAW_BUCKET'],
                Key: `${config['RAW_PREFIX']}batch-${n}.jsonl`,
                Body: `${lines.join('\n')}\n`,
              }),
            );
          }
        },
      );
      s.measure('records sent to Kinesis', data.stream.length, 'records', { equals: STREAM_RECORDS });
      s.measure('lines uploaded to the raw bucket', data.files.flat().length, 'records', {
        equals: FILES * LINES_PER_FILE,
      });

      const job = await s.step('run the ETL job from the CronJob template', () => runJobFromCronJob(env));
      const summary = await s.step('read the job summary from its pod log', () => jobSummary(env, job));
      const total = STREAM_RECORDS + FILES * LINES_PER_FILE;
      s.measure('records extracted by the ETL', summary.extracted.total, 'records', { equals: total });
      s.measure(
        'records extracted from Kinesis',
        summary.extracted.stream + streamUnparseable(data),
        'records',
        {
          equals: STREAM_RECORDS,
        },
      );
      s.measure('records rejected by the quality check', summary.rejected, 'records', { equals: data.bad });
      s.measure('records accepted', summary.accepted, 'records', { equals: total - data.bad });

      // Each store is read back on its own, not trusted from the job's summary.
      const processed = await s.step('count the lines in the processed bucket', () =>
        countProcessed(s3, config['PROCESSED_BUCKET']!, summary.batchId),
      );
      s.measure('records in S3 processed', processed, 'records', { equals: total - data.bad });
      const features = await s.step('scan the feature table', async () => {
        const r = await ddb.send(new ScanCommand({ TableName: config['FEATURE_TABLE'], Select: 'COUNT' }));
        return r.Count ?? 0;
      });
      s.measure('devices in the DynamoDB feature store', features, 'devices', { equals: DEVICES });
      const rows = await s.step('count the rows of the batch in the warehouse', async () => {
        const secret = (await env.kube.get(DWH_SECRET)) as KubeObject;
        return countWarehouseRows(env, secret, config['DWH_DATABASE']!, summary.batchId);
      });
      s.measure('rows in the PostgreSQL warehouse', rows, 'rows', { equals: total - data.bad });

      const device = 'sensor-007';
      const url = await env.net.ingressUrl(INGRESS);
      const prediction = await s.step(`GET the prediction of ${device} through the Ingress`, async () => {
        const res = await fetch(`${url}/api/v1/devices/${device}/prediction`);
        expect(res.status).toBe(200);
        return (await res.json()) as {
          prediction: { score: number; label: string };
          featuresUpdatedAt?: string;
        };
      });
      const latencyS = (performance.now() - t0) / 1000;
      expect(prediction.featuresUpdatedAt, 'the prediction used the features of this batch').toBe(
        data.latest.get(device),
      );
      expect(prediction.prediction.score).toBeGreaterThanOrEqual(0);
      s.measure('end-to-end latency: first record sent → prediction served', latencyS, 's', {
        below: 60,
        description: 'includes the ETL pod start, extract, load into three stores and the inference read',
      });
      const unknown = await fetch(`${url}/api/v1/devices/no-such-device/prediction`);
      s.measure('status for a device without features', unknown.status, 'HTTP', { equals: 404 });
    } finally {
      s3.destroy();
      kinesis.destroy();
      ddb.destroy();
    }
  });
});

interface Summary {
  batchId: string;
  extracted: { stream: number; files: number; unparseable: number; total: number };
  rejected: number;
  accepted: number;
  loaded: { s3: number; dynamodb: number; devices: number; dwh: number };
}

/**
 * Readings for DEVICES devices; every 40th record is out of range or missing a field, every 97th of
 * the stream is not JSON. The latest timestamp per device of the good ones is what the feature store
 * must show afterwards.
 */
function generateData() {
  const now = Date.now();
  let bad = 0;
  let unparseableInStream = 0;
  const latest = new Map<string, string>();
  const reading = (i: number, device: string) => {
    const ts = now - 600_000 + i * 1000;
    const r: Record<string, unknown> = {
      device_id: device,
      ts,
      temp_f: 60 + (i % 30),
      humidity: 40 + (i % 20),
      vibration: (i % 50) / 10,
    };
    if (i % 40 === 13) {
      bad++;
      if (i % 3 === 0) r['temp_f'] = null;
      else if (i % 3 === 1) r['humidity'] = 140;
      else r['vibration'] = -1;
    } else {
      const iso = new Date(ts).toISOString();
      if ((latest.get(device) ?? '') < iso) latest.set(device, iso);
    }
    return JSON.stringify(r);
  };
  const stream: string[] = [];
  for (let i = 0; i < STREAM_RECORDS; i++) {
    if (i % 97 === 50) {
      bad++;
      unparseableInStream++;
      stream.push('{"device_id": "sensor-0');
    } else stream.push(reading(i, `sensor-${String(i % DEVICES).padStart(3, '0')}`));
  }
  const files: string[][] = [];
  for (let f = 0; f < FILES; f++) {
    const lines: string[] = [];
    for (let j = 0; j < LINES_PER_FILE; j++) {
      const i = STREAM_RECORDS + f * LINES_PER_FILE + j;
      lines.push(reading(i, `sensor-${String(i % DEVICES).padStart(3, '0')}`));
    }
    files.push(lines);
  }
  return { stream, files, bad, unparseableInStream, latest };
}

function streamUnparseable(data: ReturnType<typeof generateData>): number {
  return data.unparseableInStream;
}

/** A Job from the CronJob's jobTemplate, as `kubectl create job --from=cronjob/etl` makes it; waits for it to finish. */
async function runJobFromCronJob(env: Environment): Promise<KubeObject> {
  const cron = await env.kube.get(CRONJOB);
  if (!cron) throw new Error('CronJob data-pipeline/etl not found');
  const name = `etl-manual-${Date.now().toString(36)}`;
  const template = structuredClone(cron.spec.jobTemplate);
  await env.kube.apply({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: 'data-pipeline',
      labels: template.metadata?.labels ?? {},
      annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
    },
    spec: template.spec,
  });
  const ref = { apiVersion: 'batch/v1', kind: 'Job', namespace: 'data-pipeline', name };
  const done = await env.kube.waitFor(
    ref,
    (j) =>
      (j?.status?.succeeded ?? 0) > 0 ||
      (j?.status?.conditions ?? []).some((c: any) => c.type === 'Failed' && c.status === 'True'),
    { timeout: 120_000, what: `Job data-pipeline/${name} to finish` },
  );
  if (!((done?.status?.succeeded ?? 0) > 0)) {
    const logs = await jobLogs(env, name).catch(() => '');
    throw new Error(`Job ${name} failed: ${JSON.stringify(done?.status)}\n${logs}`);
  }
  return done!;
}

async function jobLogs(env: Environment, jobName: string): Promise<string> {
  const pods = await env.kube.list(
    { kind: 'Pod' },
    { namespace: 'data-pipeline', labelSelector: { matchLabels: { 'job-name': jobName } } },
  );
  const pod =
    pods.find((p) => p.metadata.labels?.['job-name'] === jobName && p.status?.phase === 'Succeeded') ??
    pods.find((p) => p.metadata.labels?.['job-name'] === jobName);
  if (!pod) throw new Error(`no pod of Job ${jobName}`);
  return env.kube.logs({ namespace: 'data-pipeline', name: pod.metadata.name }, { tailLines: 50 });
}

async function jobSummary(env: Environment, job: KubeObject): Promise<Summary> {
  const logs = await jobLogs(env, job.metadata.name);
  const line = logs
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{') && l.includes('"extracted"'));
  if (!line) throw new Error(`no summary line in the ETL log:\n${logs}`);
  return JSON.parse(line) as Summary;
}

async function countProcessed(s3: S3Client, bucket: string, batchId: string): Promise<number> {
  const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `processed/${batchId}` }));
  let lines = 0;
  for (const o of list.Contents ?? []) {
    const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
    lines += (await body.Body!.transformToString()).split('\n').filter((l) => l.trim() !== '').length;
  }
  return lines;
}

async function countWarehouseRows(env: Environment, secret: KubeObject, database: string, batchId: string) {
  const url = new URL(await env.net.serviceUrl({ namespace: 'data-pipeline', name: 'dwh', port: 5432 }));
  const data = secret as KubeObject & { data?: Record<string, string>; stringData?: Record<string, string> };
  const value = (k: string) =>
    data.stringData?.[k] ?? Buffer.from(data.data?.[k] ?? '', 'base64').toString('utf8');
  const client = new pg.Client({
    host: url.hostname,
    port: Number(url.port),
    user: value('DWH_USER'),
    password: value('DWH_PASSWORD'),
    database,
  });
  await client.connect();
  try {
    const r = await client.query('SELECT count(*)::int AS n FROM sensor_readings WHERE batch_id = $1', [
      batchId,
    ]);
    return r.rows[0].n as number;
  } finally {
    await client.end();
  }
}
