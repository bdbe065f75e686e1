/**
 * The `bitnami/minio` image run live by the twin's kubelet (bind the image to this entry): an S3 API
 * on the pod's address, configured from the image's documented environment:
 *
 * - `MINIO_ROOT_USER` / `MINIO_ROOT_PASSWORD` (default `minio` / `miniosecret`, as the image's): a
 *   request signed with any other access key is refused with `InvalidAccessKeyId`;
 * - `MINIO_DEFAULT_BUCKETS`: buckets created at start, separated by commas, semicolons or white space,
 *   each `name[:policy]` (the policy is accepted and not enforced);
 * - `MINIO_API_PORT_NUMBER` (9000), `MINIO_DATA_DIR` (`/bitnami/minio/data`, a container path: on a
 *   PersistentVolumeClaim mount the objects outlive the pod);
 * - `MINIO_DISTRIBUTED_MODE_ENABLED=yes` is refused (exit 1): one node only.
 *
 * Twin simplification: the S3 API is s3rver's (path-style buckets, objects as files);
 * MinIO's admin API, console (9001), erasure coding and bucket policies are not served.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { podIp, podPath } from '../data/container-paths.ts';
import { type MinioSettings, minioSettings } from './minio-settings.ts';

const require = createRequire(import.meta.url);
const log = (m: string) => process.stderr.write(`[${new Date().toISOString()}] twin-minio: ${m}\n`);

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}

async function main(): Promise<void> {
  let settings: MinioSettings;
  try {
    settings = minioSettings(process.env);
  } catch (err) {
    log(`ERROR ${(err as Error).message}`);
    process.exit(1);
  }
  const directory = podPath(settings.dataDir);
  mkdirSync(directory, { recursive: true });
  const S3rver = require('s3rver') as new (o: object) => S3rverInstance;
  const account = require('s3rver/lib/models/account') as {
    registry: Map<string, unknown>;
    DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
  };
  // s3rver ships one key pair of its own; only the image's root credentials may sign requests.
  account.registry.clear();
  account.DUMMY_ACCOUNT.createKeyPair(settings.rootUser, settings.rootPassword);
  const server = new S3rver({
    address: podIp(),
    port: settings.port,
    directory,
    silent: true,
    resetOnClose: false,
    // Twin simplification: s3rver checks the access key but not a SigV4 signature, so a wrong secret passes (MinIO answers SignatureDoesNotMatch).
    allowMismatchedSignatures: false,
    // Twin simplification: path-style requests only; MinIO also serves virtual-host style under MINIO_DOMAIN.
    vhostBuckets: false,
    configureBuckets: settings.buckets.map((name) => ({ name, configs: [] })),
  });
  await server.run();
  log(
    `S3 API on ${podIp()}:${settings.port}, data in ${settings.dataDir}, buckets ${settings.buckets.join(', ')}`,
  );
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.on(sig, () => void server.close().finally(() => process.exit(0)));
}

void main();
