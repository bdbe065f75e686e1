import { ConfigError } from '../lib/config-error.ts';

/** What the backend and the pipeline worker read from their environment (the pipeline ConfigMap and the MinIO Secret). */
export interface PipelineConfig {
  kafkaBrokers: string[];
  jobsTopic: string;
  statusTopic: string;
  minioEndpoint: string;
  minioRegion: string;
  minioAccessKey: string;
  minioSecretKey: string;
  rawBucket: string;
  processedBucket: string;
}

export function pipelineConfig(env: NodeJS.ProcessEnv): PipelineConfig {
  const need = (k: string): string => {
    const v = env[k];
    if (!v) throw new ConfigError(`${k} is not set`);
    return v;
  };
  return {
    kafkaBrokers: need('KAFKA_BOOTSTRAP_SERVERS').split(','),
    jobsTopic: env['KAFKA_JOBS_TOPIC'] || 'image-processing-jobs',
    statusTopic: env['KAFKA_STATUS_TOPIC'] || 'image-processing-status',
    minioEndpoint: need('MINIO_ENDPOINT'),
    minioRegion: env['MINIO_REGION'] || 'us-east-1',
    minioAccessKey: need('MINIO_ACCESS_KEY'),
    minioSecretKey: need('MINIO_SECRET_KEY'),
    rawBucket: env['RAW_BUCKET'] || 'raw-images',
    processedBucket: env['PROCESSED_BUCKET'] || 'processed-images',
  };
}

/** A job as the backend produces it to the jobs topic. */
export interface JobMessage {
  jobId: string;
  rawKey: string;
  submittedAt: string;
}

/** A job's status as the worker produces it to the status topic. */
export interface JobStatus {
  jobId: string;
  status: 'completed' | 'failed';
  processedKey?: string;
  detections?: number;
  stages?: { stage: string; pod: string; gpus?: string; durationMs: number; callMs: number }[];
  error?: string;
  completedAt: string;
}
