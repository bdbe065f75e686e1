import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);

/** One emulator from the npm registry, listening on an internal loopback port behind the edge. */
export interface Emulator {
  readonly service: 's3' | 'dynamodb' | 'kinesis';
  /** The package that emulates the service, with its version. */
  readonly package: string;
  readonly port: number;
  close(): Promise<void>;
}

function packageVersion(name: string): string {
  return `${name}@${(require(`${name}/package.json`) as { version: string }).version}`;
}

async function listenLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** DynamoDB: dynalite, in memory (its LevelDB store when given a path; memory-level otherwise). */
export async function startDynalite(): Promise<Emulator> {
  const dynalite = require('dynalite') as (o: object) => Server;
  // Tables pass through CREATING/DELETING/UPDATING as on AWS, briefly (dynalite's default is 500 ms).
  const server = dynalite({ createTableMs: 50, deleteTableMs: 50, updateTableMs: 50 });
  const port = await listenLoopback(server);
  return { service: 'dynamodb', package: packageVersion('dynalite'), port, close: () => closeHttp(server) };
}

/** Kinesis: kinesalite, in memory (memdown). */
export async function startKinesalite(): Promise<Emulator> {
  const kinesalite = require('kinesalite') as (o: object) => Server;
  const server = kinesalite({ createStreamMs: 50, deleteStreamMs: 50, updateStreamMs: 50, shardLimit: 50 });
  const port = await listenLoopback(server);
  return { service: 'kinesis', package: packageVersion('kinesalite'), port, close: () => closeHttp(server) };
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

/**
 * S3: s3rver, objects as files under `directory`. s3rver checks the access key (SigV4 signatures it
 * does not verify), so `allowAccessKey` registers each key the edge sees, as LocalStack accepts any.
 */
export async function startS3rver(
  directory: string,
): Promise<Emulator & { allowAccessKey(accessKeyId: string): void }> {
  await mkdir(directory, { recursive: true });
  const S3rver = require('s3rver') as new (o: object) => S3rverInstance;
  const account = require('s3rver/lib/models/account') as {
    registry: Map<string, unknown>;
    DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
  };
  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    allowMismatchedSignatures: true,
    resetOnClose: false,
    vhostBuckets: false,
  });
  const { port } = await s3.run();
  return {
    service: 's3',
    package: packageVersion('s3rver'),
    port,
    close: () => s3.close(),
    allowAccessKey(accessKeyId) {
      if (!account.registry.has(accessKeyId)) account.DUMMY_ACCOUNT.createKeyPair(accessKeyId, accessKeyId);
    },
  };
}
