/**
 * The ImageFlowCanvas pipeline worker: consumes jobs from Kafka (consumer group `pipeline-workers`),
 * reads the raw image from MinIO, calls the gRPC processing services in order — resize, detect (the
 * GPU stage), filter — writes the processed image and its detections to MinIO's processed bucket and
 * produces the job's status (with each stage's pod, GPU and time) to the status topic with acks=all.
 * Offsets are committed after the status is written: a job is processed at least once, and its
 * outputs are overwritten under the same keys when it is processed again.
 */

import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as grpc from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import { type JobMessage, type JobStatus, pipelineConfig } from '../imageflow-backend/pipeline-config.ts';
import { callStage, ImageProcessorClient } from '../imageflow-processing/processing-service.ts';
import { ConfigError, numberFromEnv } from '../lib/config-error.ts';
import { startService } from '../lib/http-service.ts';
import { log } from '../lib/log.ts';

const STAGES = ['resize', 'detect', 'filter'] as const;

async function main(): Promise<void> {
  const config = pipelineConfig(process.env);
  const deadlineMs = numberFromEnv(process.env, 'STAGE_DEADLINE_MS', 10_000, { min: 1 });
  const targets = Object.fromEntries(
    STAGES.map((s) => {
      const v = process.env[`${s.toUpperCase()}_SERVICE`];
      if (!v)
        throw new ConfigError(`${s.toUpperCase()}_SERVICE is not set (host:port of the ${s} gRPC service)`);
      return [s, new ImageProcessorClient(v, grpc.credentials.createInsecure())];
    }),
  ) as unknown as Record<(typeof STAGES)[number], grpc.Client>;
  process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';
  const kafka = new Kafka({
    clientId: `worker-${process.env['HOSTNAME'] ?? 'local'}`,
    brokers: config.kafkaBrokers,
    logLevel: logLevel.WARN,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: process.env['CONSUMER_GROUP'] || 'pipeline-workers' });
  const s3 = new S3Client({
    endpoint: config.minioEndpoint,
    region: config.minioRegion,
    forcePathStyle: true,
    credentials: { accessKeyId: config.minioAccessKey, secretAccessKey: config.minioSecretKey },
  });
  const counters = { consumed: 0, completed: 0, failedAttempts: 0 };

  const processJob = async (job: JobMessage): Promise<JobStatus> => {
    const raw = await s3.send(new GetObjectCommand({ Bucket: config.rawBucket, Key: job.rawKey }));
    let image: Buffer = Buffer.from(await raw.Body!.transformToByteArray());
    const stages: NonNullable<JobStatus['stages']> = [];
    let detections = 0;
    for (const stage of STAGES) {
      const t0 = performance.now();
      const reply = await callStage(targets[stage], { jobId: job.jobId, image }, deadlineMs);
      stages.push({
        stage,
        pod: reply.pod,
        ...(reply.gpus ? { gpus: reply.gpus } : {}),
        durationMs: reply.durationMs,
        callMs: performance.now() - t0,
      });
      if (reply.detections) detections = reply.detections.length;
      image = reply.image;
      if (stage === 'detect')
        await s3.send(
          new PutObjectCommand({
            Bucket: config.processedBucket,
            Key: `${job.jobId}.detections.json`,
            Body: JSON.stringify({ jobId: job.jobId, detections: reply.detections ?? [] }),
            ContentType: 'application/json',
          }),
        );
    }
    const processedKey = `${job.jobId}.ppm`;
    await s3.send(
      new PutObjectCommand({
        Bucket: config.processedBucket,
        Key: processedKey,
        Body: image,
        ContentType: 'image/x-portable-pixmap',
      }),
    );
    return {
      jobId: job.jobId,
      status: 'completed',
      processedKey,
      detections,
      stages,
      completedAt: new Date().toISOString(),
    };
  };

  await startService({
    name: 'imageflow-worker',
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(counters));
    },
    warmUp: async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await producer.connect();
          await consumer.connect();
          await consumer.subscribe({ topic: config.jobsTopic, fromBeginning: true });
          break;
        } catch (e) {
          log('warn', 'cannot reach Kafka yet; retrying', { attempt, error: String(e) });
          await new Promise((r) => setTimeout(r, Math.min(5000, 500 * attempt)));
        }
      }
      await consumer.run({
        eachMessage: async ({ message }) => {
          const job = JSON.parse(message.value!.toString()) as JobMessage;
          counters.consumed++;
          try {
            const status = await processJob(job);
            await producer.send({
              topic: config.statusTopic,
              acks: -1,
              messages: [{ key: job.jobId, value: JSON.stringify(status) }],
            });
            counters.completed++;
          } catch (e) {
            counters.failedAttempts++;
            log('warn', 'job failed; it will be retried', { jobId: job.jobId, error: String(e) });
            throw e;
          }
        },
      });
    },
  });
}

main().catch((e: unknown) => {
  process.stderr.write(
    `imageflow-worker: ${e instanceof ConfigError ? e.message : ((e as Error)?.stack ?? String(e))}\n`,
  );
  process.exit(1);
});
