import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, KinesisClient, waitUntilStreamExists } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { AwsEdge } from '../../aws/edge/aws-edge.ts';
import { TwinError } from '../../core/errors.ts';
import { interruption } from '../../core/interrupt.ts';
import type { AwsEndpoint } from '../environment.ts';

/** Where a system keeps the Terraform of its local data plane (applied against the edge). */
const TFVARS = 'data-plane.auto.tfvars.json';
const DEFAULT_MIRROR = '/opt/tf-plugins';

export interface AwsDataPlane {
  readonly edge: AwsEdge;
  readonly aws: AwsEndpoint;
  /** What live pods get, as a LocalStack user sets it. */
  readonly podEnv: Record<string, string>;
  /** How the resources were created: `terraform` (apply of the local module) or `sdk` (no Terraform here). */
  readonly provisionedBy: 'terraform' | 'sdk';
  stop(): Promise<void>;
}

interface DataPlaneVars {
  name: string;
  buckets: string[];
  stream_shards: number;
}

/**
 * The AWS side of a system on the twin: when `infra/<system>/terraform/environments/local/` exists,
 * the AWS edge starts (state under `<workDir>/aws`, wiped on stop) and the local data-plane module is
 * applied to it with Terraform from the machine's plugin mirror when TWIN_TERRAFORM is 1 (required)
 * or auto (when found). Otherwise the same resources are created through the SDK from the module's
 * inputs (about 1 s instead of Terraform's ~25 s, most of it the provider polling the new stream).
 */
export async function startAwsDataPlane(options: {
  /** The system's terraform/environments/local (system/system.ts), when it has one. */
  terraformDir: string | undefined;
  workDir: string;
  region: string;
  progress?: (m: string) => void;
  log?: (m: string) => void;
}): Promise<AwsDataPlane | undefined> {
  const tfDir = options.terraformDir;
  if (!tfDir) return undefined;
  const progress = options.progress ?? (() => {});
  const terraform = terraformAvailable();
  if (!terraform.ok && process.env['TWIN_TERRAFORM'] === '1')
    throw new TwinError('TWIN_BINARY_NOT_FOUND', `TWIN_TERRAFORM=1 but ${terraform.reason}`);
  const edge = await AwsEdge.start({
    dataDir: path.join(options.workDir, 'aws'),
    ...(process.env['TWIN_AWS_PORT'] ? { port: Number(process.env['TWIN_AWS_PORT']) } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  try {
    progress(`AWS edge on ${edge.endpoint} (${Object.values(edge.backends).join(', ')})`);
    const aws: AwsEndpoint = {
      endpoint: edge.endpoint,
      region: options.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    let provisionedBy: AwsDataPlane['provisionedBy'];
    if (terraform.ok) {
      progress(`terraform apply ${path.relative(process.cwd(), tfDir) || tfDir} against the edge`);
      await terraformApply(tfDir, edge.endpoint, options.region, terraform.mirror, options.workDir);
      provisionedBy = 'terraform';
    } else {
      progress(`${terraform.reason}: creating the data plane of ${TFVARS} through the SDK`);
      await provisionWithSdk(await readVars(tfDir), aws);
      provisionedBy = 'sdk';
    }
    return {
      edge,
      aws,
      podEnv: {
        AWS_ENDPOINT_URL: edge.endpoint,
        AWS_REGION: options.region,
        AWS_DEFAULT_REGION: options.region,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
      provisionedBy,
      stop: () => edge.stop(),
    };
  } catch (err) {
    await edge.stop();
    throw err;
  }
}

/** Terraform on the PATH and a filesystem mirror holding hashicorp/aws (nothing is downloaded). */
export function terraformAvailable(): { ok: true; mirror: string } | { ok: false; reason: string } {
  const mode = process.env['TWIN_TERRAFORM'] ?? '';
  if (mode !== '1' && mode !== 'auto')
    return { ok: false, reason: 'TWIN_TERRAFORM is not 1 or auto (Terraform adds ~25 s to up)' };
  const onPath = (process.env['PATH'] ?? '')
    .split(path.delimiter)
    .some((d) => d && existsSync(path.join(d, 'terraform')));
  if (!onPath) return { ok: false, reason: 'terraform not found on the PATH' };
  const mirror = process.env['TWIN_TF_PLUGIN_MIRROR'] ?? DEFAULT_MIRROR;
  if (!existsSync(path.join(mirror, 'registry.terraform.io', 'hashicorp', 'aws')))
    return {
      ok: false,
      reason: `no hashicorp/aws provider in the plugin mirror ${mirror} (set TWIN_TF_PLUGIN_MIRROR)`,
    };
  return { ok: true, mirror };
}

/** The CLI configuration that takes providers from the mirror only. */
export function terraformCliConfig(mirror: string): string {
  return [
    'provider_installation {',
    '  filesystem_mirror {',
    `    path    = ${JSON.stringify(mirror)}`,
    '    include = ["registry.terraform.io/hashicorp/*"]',
    '  }',
    '  direct {',
    '    exclude = ["registry.terraform.io/hashicorp/*"]',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** init + apply of the local module; plugins, state and the output under `<workDir>/terraform`. */
export async function terraformApply(
  tfDir: string,
  endpoint: string,
  region: string,
  mirror: string,
  workDir: string,
): Promise<void> {
  const stateDir = path.join(workDir, 'terraform');
  await mkdir(stateDir, { recursive: true });
  const cliConfig = path.join(stateDir, 'terraform.rc');
  await writeFile(cliConfig, terraformCliConfig(mirror));
  const env = {
    TF_CLI_CONFIG_FILE: cliConfig,
    TF_DATA_DIR: path.join(stateDir, '.terraform'),
    TF_IN_AUTOMATION: '1',
    CHECKPOINT_DISABLE: '1',
  };
  const logFile = path.join(stateDir, 'apply.log');
  const steps = [
    ['init', '-input=false', '-no-color', '-lockfile=readonly'],
    [
      'apply',
      '-input=false',
      '-no-color',
      '-auto-approve',
      `-state=${path.join(stateDir, 'terraform.tfstate')}`,
      `-var=aws_endpoint=${endpoint}`,
      `-var=region=${region}`,
    ],
  ];
  for (const args of steps) {
    const r = await execa('terraform', [`-chdir=${tfDir}`, ...args], {
      env,
      all: true,
      reject: false,
      timeout: 300_000,
      // Terraform ends on its own SIGINT handling when the run is interrupted (Ctrl-C).
      cancelSignal: interruption(),
      killSignal: 'SIGINT',
      forceKillAfterDelay: 5000,
    });
    if (r.isCanceled) throw new TwinError('TWIN_ABORTED', `terraform ${args[0]} in ${tfDir} was interrupted`);
    await writeFile(logFile, `$ terraform ${args.join(' ')}\n${r.all ?? ''}\n`, { flag: 'a' });
    if (r.exitCode !== 0) {
      const tail = String(r.all ?? '')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .slice(-8)
        .join(' | ');
      throw new TwinError(
        'TWIN_PROCESS_FAILED',
        `terraform ${args[0]} in ${tfDir} failed (exit ${r.exitCode}; log ${logFile}): ${tail}`,
      );
    }
  }
}

async function readVars(tfDir: string): Promise<DataPlaneVars> {
  const file = path.join(tfDir, TFVARS);
  let vars: Partial<DataPlaneVars>;
  try {
    vars = JSON.parse(await readFile(file, 'utf8')) as Partial<DataPlaneVars>;
  } catch (err) {
    throw new TwinError('TWIN_OPTION_INVALID', `${file}: ${(err as Error).message}`);
  }
  if (typeof vars.name !== 'string' || !vars.name)
    throw new TwinError('TWIN_OPTION_INVALID', `${file}: name: a string is required`);
  if (!Array.isArray(vars.buckets))
    throw new TwinError('TWIN_OPTION_INVALID', `${file}: buckets: a list is required`);
  if (!Number.isInteger(vars.stream_shards))
    throw new TwinError('TWIN_OPTION_INVALID', `${file}: stream_shards: an integer is required`);
  return vars as DataPlaneVars;
}

/** What modules/data-plane creates (buckets, the feature table, the IoT stream), named as it names them. */
async function provisionWithSdk(vars: DataPlaneVars, aws: AwsEndpoint): Promise<void> {
  const config = { endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials };
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const ddb = new DynamoDBClient(config);
  const kinesis = new KinesisClient(config);
  try {
    for (const b of vars.buckets) await s3.send(new CreateBucketCommand({ Bucket: `${vars.name}-${b}` }));
    const table = `${vars.name}-features`;
    await ddb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'device_id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'device_id', AttributeType: 'S' }],
      }),
    );
    const stream = `${vars.name}-iot`;
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: vars.stream_shards }));
    await waitUntilTableExists({ client: ddb, maxWaitTime: 30, minDelay: 1 }, { TableName: table });
    await waitUntilStreamExists({ client: kinesis, maxWaitTime: 30, minDelay: 1 }, { StreamName: stream });
  } finally {
    s3.destroy();
    ddb.destroy();
    kinesis.destroy();
  }
}
