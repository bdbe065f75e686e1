import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import type { Environment, KubeObject } from '../env/environment.ts';
import { scenario } from '../harness/index.ts';
import { until, waitForImageflowDeployments } from './support/imageflow.ts';

const IMAGES = 20;
const BACKEND = { namespace: 'imageflow-backend', name: 'backend-api', port: 8000 };
const MINIO = { namespace: 'imageflow-storage', name: 'minio', port: 9000 };
const MINIO_ROOT = { apiVersion: 'v1', kind: 'Secret', namespace: 'imageflow-storage', name: 'minio-root' };
interface JobStatus {
  jobId: string;
  status: 'queued' | 'completed' | 'failed';
  detections?: number;
  stages?: { stage: string; pod: string; gpus?: string; durationMs: number; callMs: number }[];
  completedAt?: string;
}

/**
 * ImageFlowCanvas (seed 003) end to end: N images POSTed to the backend API → stored in MinIO's
 * raw-images bucket and produced to Kafka with acks=all → the pipeline worker consumes each job and
 * calls the gRPC processing services (resize and filter on the CPU worker, detect on the GPU worker)
 * → the processed image and its detections land in processed-images → the job's status comes back
 * through Kafka to the backend. Every hop is counted from its own store (the API's answers, the
 * buckets, the topics' end offsets); each image carries a known number of objects, which the detect
 * stage must find; per-stage p95 comes from the stage times the worker records per job.
 */
scenario('imageflow-pipeline-e2e', { system: 'imageflowcanvas', upTimeoutMs: 240_000 }, (s) => {
  it('carries every image through backend → Kafka → processing (GPU stage on the GPU node) → MinIO, losing none', async () => {
    const env = s.env;
    await s.step('wait for the processing services, the backend and the workers', () =>
      waitForImageflowDeployments(env),
    );
    const backend = await env.net.serviceUrl(BACKEND);
    await s.step('wait for the backend to be ready (Kafka topics created)', () =>
      until('backend /readyz', 120_000, async () => (await fetch(`${backend}/readyz`)).ok),
    );

    const t0 = performance.now();
    const expected = new Map<string, number>();
    const accepted = await s.step(`POST ${IMAGES} images to /v1/jobs`, async () => {
      let n = 0;
      for (let i = 0; i < IMAGES; i++) {
        const objects = 1 + (i % 4);
        const res = await fetch(`${backend}/v1/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'image/x-portable-pixmap' },
          body: new Uint8Array(syntheticImage(objects, i)),
        });
        expect(res.status, `POST /v1/jobs of image ${i}`).toBe(202);
        const { jobId } = (await res.json()) as { jobId: string };
        expected.set(jobId, objects);
        n++;
      }
      return n;
    });
    s.measure('images accepted by the backend (202)', accepted, 'images', { equals: IMAGES });
    const bad = await fetch(`${backend}/v1/jobs`, { method: 'POST', body: 'not an image' });
    s.measure('status for a body that is not an image', bad.status, 'HTTP', { equals: 400 });

    const statuses = await s.step('wait until every job is completed', () =>
      until('every job completed', 120_000, async () => {
        const all = await Promise.all(
          [...expected.keys()].map(
            async (id) => (await (await fetch(`${backend}/v1/jobs/${id}`)).json()) as JobStatus,
          ),
        );
        return all.every((j) => j.status === 'completed') ? all : undefined;
      }),
    );
    const wallS = (performance.now() - t0) / 1000;
    s.measure('jobs completed', statuses.length, 'jobs', { equals: IMAGES });
    const wrong = statuses.filter((j) => j.detections !== expected.get(j.jobId));
    s.measure('jobs whose detections differ from the objects drawn', wrong.length, 'jobs', { equals: 0 });

    const stats = (await (await fetch(`${backend}/v1/stats`)).json()) as {
      topics: Record<string, number>;
    };
    s.measure(
      'records in Kafka topic image-processing-jobs',
      stats.topics['image-processing-jobs'] ?? -1,
      'records',
      {
        equals: IMAGES,
      },
    );
    s.measure(
      'records in Kafka topic image-processing-status',
      stats.topics['image-processing-status'] ?? -1,
      'records',
      { atLeast: IMAGES, description: 'a job processed again after a rebalance writes its status twice' },
    );

    const s3 = await minioClient(env);
    try {
      const raw = await s.step('list raw-images', () => keys(s3, 'raw-images'));
      const processed = await s.step('list processed-images', () => keys(s3, 'processed-images'));
      const ids = [...expected.keys()];
      s.measure(
        'jobs with their raw image in MinIO',
        ids.filter((id) => raw.has(`${id}.ppm`)).length,
        'images',
        {
          equals: IMAGES,
        },
      );
      s.measure(
        'jobs with their processed image in MinIO',
        ids.filter((id) => processed.has(`${id}.ppm`)).length,
        'images',
        { equals: IMAGES },
      );
      s.measure(
        'jobs with their detections in MinIO',
        ids.filter((id) => processed.has(`${id}.detections.json`)).length,
        'files',
        { equals: IMAGES },
      );
      const sample = await s3.send(
        new GetObjectCommand({ Bucket: 'processed-images', Key: `${ids[0]}.ppm` }),
      );
      const header = Buffer.from(await sample.Body!.transformToByteArray())
        .subarray(0, 16)
        .toString('latin1');
      expect(header, 'the processed image is the resized one (64 pixels wide)').toMatch(/^P6\n64 48\n/);
      // MinIO accepts its root user's key only (the twin does not check SigV4 signatures: docs/twin-simplifications.md).
      const stranger = new S3Client({
        endpoint: await env.net.serviceUrl(MINIO),
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'minioadmin', secretAccessKey: 'minioadmin' },
      });
      const refused = await stranger.send(new ListObjectsV2Command({ Bucket: 'raw-images' })).then(
        () => 'listed',
        (e: { name?: string }) => e.name,
      );
      stranger.destroy();
      expect(refused, "a request signed with MinIO's default key, not the root user's").toBe(
        'InvalidAccessKeyId',
      );
    } finally {
      s3.destroy();
    }

    // The GPU stage ran on the GPU node, with a device.
    const nodes = await env.kube.list({ kind: 'Node' });
    const pods = await env.kube.list({ kind: 'Pod' }, { namespace: 'imageflow-processing' });
    const nodeOf = (pod: string) =>
      pods.find((p) => p.metadata.name === pod)?.spec?.nodeName as string | undefined;
    const nodeType = (node: string | undefined) =>
      nodes.find((n) => n.metadata.name === node)?.metadata.labels?.['node-type'];
    const detectStages = statuses.map((j) => j.stages!.find((st) => st.stage === 'detect')!);
    s.measure(
      'detect stages run on a node-type=gpu-enabled node with a GPU',
      detectStages.filter((st) => nodeType(nodeOf(st.pod)) === 'gpu-enabled' && st.gpus && st.gpus !== 'void')
        .length,
      'jobs',
      { equals: IMAGES },
    );

    // The seed's NetworkPolicy (processing-isolation): processing pods reach MinIO and nothing else.
    const detectPod = pods.find((p) => p.metadata.labels?.['app'] === 'detect')!.metadata.name;
    const from = { namespace: 'imageflow-processing', pod: detectPod };
    const toMinio = await env.net.canConnect({
      from,
      to: { namespace: 'imageflow-storage', service: 'minio' },
      port: 9000,
    });
    expect(toMinio.outcome, `processing → MinIO:9000 (${toMinio.detail})`).toBe('connected');
    const toKafka = await env.net.canConnect({
      from,
      to: { namespace: 'imageflow-messaging', service: 'kafka' },
      port: 9092,
    });
    expect(toKafka.outcome, `processing → Kafka:9092 is denied (${toKafka.detail})`).toBe('timed-out');

    for (const stage of ['resize', 'detect', 'filter']) {
      const calls = statuses.map((j) => j.stages!.find((st) => st.stage === stage)!.callMs);
      s.measure(`p95 of the ${stage} stage (gRPC call, from the worker)`, p95(calls), 'ms', {
        below: 5000,
        description: "the seed's per-try timeout is 10 s; the twin's bound is half of it",
      });
    }
    s.measure('wall time: first POST → every job completed', wallS, 's', { below: 60 });
  });
});

/** A 160×120 PPM with `objects` bright squares on a dark ground, apart from one another. */
function syntheticImage(objects: number, seed: number): Buffer {
  const w = 160;
  const h = 120;
  const rgb = Buffer.alloc(w * h * 3, 20);
  for (let k = 0; k < objects; k++) {
    const x0 = 10 + k * 36 + (seed % 5);
    const y0 = 20 + ((seed * 7 + k * 13) % 60);
    for (let y = y0; y < y0 + 24; y++)
      for (let x = x0; x < x0 + 24; x++) rgb.fill(230, (y * w + x) * 3, (y * w + x) * 3 + 3);
  }
  return Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`, 'ascii'), rgb]);
}

async function minioClient(env: Environment): Promise<S3Client> {
  const secret = (await env.kube.get(MINIO_ROOT)) as KubeObject & {
    data?: Record<string, string>;
    stringData?: Record<string, string>;
  };
  const value = (k: string) =>
    secret.stringData?.[k] ?? Buffer.from(secret.data?.[k] ?? '', 'base64').toString();
  return new S3Client({
    endpoint: await env.net.serviceUrl(MINIO),
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: value('MINIO_ROOT_USER'), secretAccessKey: value('MINIO_ROOT_PASSWORD') },
  });
}

async function keys(s3: S3Client, bucket: string): Promise<Set<string>> {
  const out = new Set<string>();
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of r.Contents ?? []) out.add(o.Key!);
    token = r.NextContinuationToken;
  } while (token);
  return out;
}

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] ?? Number.NaN;
}
