/**
 * The ImageFlowCanvas backend API (seed 003 §8.0.1: "Backend API — Kafka Producer"): accepts an image,
 * stores it in MinIO's raw bucket, produces the job to Kafka with acks=all, and serves job status read
 * from the status topic the pipeline worker writes.
 *
 *   POST /v1/jobs            body: a binary PPM image → 202 { jobId, status: "queued" }
 *   GET  /v1/jobs/:jobId     → { jobId, status: queued|completed|failed, … } or 404
 *   GET  /v1/stats           → counters, the topics' end offsets and partition leaders (read from Kafka)
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import { decodePixmap } from '../imageflow-processing/pixmap.ts';
import { ConfigError } from '../lib/config-error.ts';
import { BadRequestError, sendJson } from '../lib/http-json.ts';
import { startService } from '../lib/http-service.ts';
import { log } from '../lib/log.ts';
import { type JobMessage, type JobStatus, pipelineConfig } from './pipeline-config.ts';

const MAX_IMAGE_BYTES = 8 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_IMAGE_BYTES) throw new BadRequestError(`image exceeds ${MAX_IMAGE_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Runs `connect` until it succeeds, waiting up to 5 s between tries. */
export async function untilConnected(what: string, connect: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (e) {
      log('warn', `cannot reach ${what} yet; retrying`, { attempt, error: String(e) });
      await new Promise((r) => setTimeout(r, Math.min(5000, 500 * attempt)));
    }
  }
}

async function main(): Promise<void> {
  const config = pipelineConfig(process.env);
  process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';
  const kafka = new Kafka({
    clientId: `backend-${process.env['HOSTNAME'] ?? 'local'}`,
    brokers: config.kafkaBrokers,
    logLevel: logLevel.WARN,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const admin = kafka.admin();
  // Every replica of the backend reads every status: a group of its own, from the beginning.
  const consumer = kafka.consumer({ groupId: `backend-status-${process.env['HOSTNAME'] ?? randomUUID()}` });
  const s3 = new S3Client({
    endpoint: config.minioEndpoint,
    region: config.minioRegion,
    forcePathStyle: true,
    credentials: { accessKeyId: config.minioAccessKey, secretAccessKey: config.minioSecretKey },
  });
  const jobs = new Map<string, JobStatus | { jobId: string; status: 'queued'; submittedAt: string }>();
  const counters = { accepted: 0, rejected: 0, produced: 0, produceFailed: 0, statusesRead: 0 };

  await startService({
    name: 'imageflow-backend',
    routes: ['/v1/jobs', '/v1/jobs/:jobId', '/v1/stats'],
    // Kafka may come up after the backend: keep trying, as the pod stays unready meanwhile.
    warmUp: () =>
      untilConnected('Kafka', async () => {
        await admin.connect();
        const existing = new Set(await admin.listTopics());
        const topics = [config.jobsTopic, config.statusTopic].filter((t) => !existing.has(t));
        if (topics.length)
          await admin.createTopics({
            topics: topics.map((topic) => ({ topic, numPartitions: 3, replicationFactor: 3 })),
            waitForLeaders: true,
          });
        await producer.connect();
        await consumer.connect();
        await consumer.subscribe({ topic: config.statusTopic, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            const status = JSON.parse(message.value!.toString()) as JobStatus;
            counters.statusesRead++;
            jobs.set(status.jobId, status);
          },
        });
      }),
    handler: async (req, res, url) => {
      if (req.method === 'POST' && url.pathname === '/v1/jobs') {
        const body = await readBody(req);
        try {
          decodePixmap(body);
        } catch (e) {
          counters.rejected++;
          throw new BadRequestError(`the body is not an image the pipeline reads: ${(e as Error).message}`);
        }
        const jobId = randomUUID();
        const rawKey = `${jobId}.ppm`;
        await s3.send(
          new PutObjectCommand({
            Bucket: config.rawBucket,
            Key: rawKey,
            Body: body,
            ContentType: 'image/x-portable-pixmap',
          }),
        );
        const job: JobMessage = { jobId, rawKey, submittedAt: new Date().toISOString() };
        try {
          await producer.send({
            topic: config.jobsTopic,
            acks: -1,
            messages: [{ key: jobId, value: JSON.stringify(job) }],
          });
        } catch (e) {
          counters.produceFailed++;
          log('warn', 'produce failed', { jobId, error: String(e) });
          return sendJson(res, 503, { error: `the job could not be queued: ${(e as Error).message}` });
        }
        counters.accepted++;
        counters.produced++;
        if (!jobs.has(jobId)) jobs.set(jobId, { jobId, status: 'queued', submittedAt: job.submittedAt });
        return sendJson(res, 202, { jobId, status: 'queued' });
      }
      const m = /^\/v1\/jobs\/([0-9a-f-]{36})$/.exec(url.pathname);
      if (req.method === 'GET' && m) {
        const job = jobs.get(m[1]!);
        return job ? sendJson(res, 200, job) : sendJson(res, 404, { error: `no job ${m[1]}` });
      }
      if (req.method === 'GET' && url.pathname === '/v1/stats') {
        const endOffsets = async (topic: string) =>
          (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
        const { topics } = await admin.fetchTopicMetadata({ topics: [config.jobsTopic, config.statusTopic] });
        return sendJson(res, 200, {
          ...counters,
          topics: {
            [config.jobsTopic]: await endOffsets(config.jobsTopic),
            [config.statusTopic]: await endOffsets(config.statusTopic),
          },
          leaders: Object.fromEntries(
            topics.map((t) => [
              t.name,
              Object.fromEntries(t.partitions.map((p) => [p.partitionId, p.leader])),
            ]),
          ),
        });
      }
      sendJson(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    },
  });
}

main().catch((e: unknown) => {
  process.stderr.write(
    `imageflow-backend: ${e instanceof ConfigError ? e.message : ((e as Error)?.stack ?? String(e))}\n`,
  );
  process.exit(1);
});
