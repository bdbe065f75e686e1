/**
 * `npm run bench -- edge [--seconds 5] [--concurrency 16]`: requests/s of S3 PUT and GET of 4 KiB
 * objects through the AWS edge (s3rver behind it) with the SDK v3 S3 client, configured as for
 * LocalStack. Closed loop: `concurrency` requests in flight, each sending the next when answered.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { AwsEdge } from '../aws/edge/aws-edge.ts';

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

async function closedLoop(seconds: number, concurrency: number, op: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const i = n++;
        const t = performance.now();
        try {
          await op(i);
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { rate: latencies.length / seconds, ok: latencies.length, errors, p50: q(0.5), p99: q(0.99) };
}

export async function benchEdge(args: string[]): Promise<void> {
  const seconds = option(args, 'seconds', 5);
  const concurrency = option(args, 'concurrency', 16);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-edge-'));
  const edge = await AwsEdge.start({ dataDir: path.join(dir, 'edge'), port: 0 });
  const s3 = new S3Client({
    ...edge.clientConfig('ap-northeast-1'),
    forcePathStyle: true,
    requestHandler: new NodeHttpHandler({ httpAgent: { keepAlive: true, maxSockets: concurrency } }),
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const body = Buffer.alloc(4096, 'x');
    const keys = 256;
    const put = await closedLoop(seconds, concurrency, async (i) => {
      await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `obj-${i % keys}`, Body: body }));
    });
    const get = await closedLoop(seconds, concurrency, async (i) => {
      const r = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: `obj-${i % keys}` }));
      const bytes = await r.Body!.transformToByteArray();
      if (bytes.length !== 4096) throw new Error(`got ${bytes.length} bytes`);
    });
    const line = (name: string, r: Awaited<ReturnType<typeof closedLoop>>) =>
      `bench:edge  S3 ${name} 4 KiB: ${r.rate.toFixed(0)} req/s (${r.ok} in ${seconds} s, ${r.errors} errors), p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`;
    console.log(
      `edge ${edge.endpoint} (${edge.backends['s3']}), ${concurrency} concurrent requests, SDK v3 S3 client`,
    );
    console.log(line('PUT', put));
    console.log(line('GET', get));
    if (put.errors + get.errors > 0) process.exitCode = 1;
  } finally {
    s3.destroy();
    await edge.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
