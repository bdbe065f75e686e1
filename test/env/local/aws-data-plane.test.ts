import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamSummaryCommand,
  KinesisClient,
  ListTagsForStreamCommand,
} from '@aws-sdk/client-kinesis';
import { GetBucketVersioningCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsEdge } from '../../../aws/edge/aws-edge.ts';
import {
  startAwsDataPlane,
  terraformApply,
  terraformAvailable,
  terraformCliConfig,
} from '../../../env/local/aws-data-plane.ts';
import { resolveSystem } from '../../../system/system.ts';

const SYSTEM_DIR = path.resolve('infra/ai-platform');
const TF_DIR = path.join(SYSTEM_DIR, 'terraform', 'environments', 'local');

function withMode<T>(mode: string | undefined, fn: () => T): T {
  const before = process.env['TWIN_TERRAFORM'];
  if (mode === undefined) delete process.env['TWIN_TERRAFORM'];
  else process.env['TWIN_TERRAFORM'] = mode;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env['TWIN_TERRAFORM'];
    else process.env['TWIN_TERRAFORM'] = before;
  }
}

const terraform = withMode('auto', () => terraformAvailable());

function clients(endpoint: string, region: string) {
  const config = { endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  return {
    s3: new S3Client({ ...config, forcePathStyle: true }),
    ddb: new DynamoDBClient(config),
    kinesis: new KinesisClient(config),
  };
}

describe('startAwsDataPlane without Terraform (the SDK path every scenario takes by default)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'aws-plane-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('creates what the data-plane module names, gives pods the LocalStack variables and wipes its state on stop', async () => {
    const plane = await withMode(undefined, () =>
      startAwsDataPlane({ terraformDir: TF_DIR, workDir: dir, region: 'ap-northeast-1' }),
    );
    expect(plane).toBeDefined();
    const { s3, ddb, kinesis } = clients(plane!.aws.endpoint, 'ap-northeast-1');
    try {
      expect(plane!.provisionedBy).toBe('sdk');
      expect(plane!.podEnv).toMatchObject({
        AWS_ENDPOINT_URL: plane!.edge.endpoint,
        AWS_REGION: 'ap-northeast-1',
        AWS_ACCESS_KEY_ID: 'test',
      });
      for (const b of ['raw', 'processed', 'models'])
        await s3.send(new HeadBucketCommand({ Bucket: `ai-platform-${b}` }));
      const table = await ddb.send(new DescribeTableCommand({ TableName: 'ai-platform-features' }));
      expect(table.Table?.TableStatus).toBe('ACTIVE');
      const stream = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'ai-platform-iot' }));
      expect(stream.StreamDescriptionSummary?.OpenShardCount).toBe(2);
    } finally {
      s3.destroy();
      ddb.destroy();
      kinesis.destroy();
      await plane!.stop();
    }
    expect(existsSync(path.join(dir, 'aws'))).toBe(false);
  });

  it('starts nothing for a system without a local Terraform module', async () => {
    const layout = await resolveSystem(path.resolve('test/fixtures/systems/good'));
    expect(layout.localTerraformDir).toBeUndefined();
    expect(
      await startAwsDataPlane({ terraformDir: layout.localTerraformDir, workDir: dir, region: 'us-east-1' }),
    ).toBeUndefined();
    expect((await resolveSystem('ai-platform')).localTerraformDir).toBe(TF_DIR);
  });

  it('refuses TWIN_TERRAFORM=1 where Terraform cannot run, naming what is missing', async () => {
    const before = process.env['TWIN_TF_PLUGIN_MIRROR'];
    process.env['TWIN_TF_PLUGIN_MIRROR'] = path.join(dir, 'no-mirror');
    try {
      await expect(
        withMode('1', () => startAwsDataPlane({ terraformDir: TF_DIR, workDir: dir, region: 'us-east-1' })),
      ).rejects.toMatchObject({ code: 'TWIN_BINARY_NOT_FOUND' });
    } finally {
      if (before === undefined) delete process.env['TWIN_TF_PLUGIN_MIRROR'];
      else process.env['TWIN_TF_PLUGIN_MIRROR'] = before;
    }
    expect(existsSync(path.join(dir, 'aws')), 'the edge it started is stopped again').toBe(false);
  });
});

describe.skipIf(!terraform.ok)(
  `terraform apply of infra/ai-platform/terraform/environments/local against the AWS edge${terraform.ok ? '' : ` (${terraform.reason})`}`,
  () => {
    let dir: string;
    let edge: AwsEdge;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'aws-tf-'));
      edge = await AwsEdge.start({ dataDir: path.join(dir, 'aws'), port: 0 });
    });
    afterAll(async () => {
      await edge?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('applies the data-plane module, and a second plan finds nothing to change', async () => {
      if (!terraform.ok) return;
      await terraformApply(TF_DIR, edge.endpoint, 'ap-northeast-1', terraform.mirror, dir);
      const { s3, ddb, kinesis } = clients(edge.endpoint, 'ap-northeast-1');
      try {
        for (const b of ['raw', 'processed', 'models']) {
          const v = await s3.send(new GetBucketVersioningCommand({ Bucket: `ai-platform-${b}` }));
          expect(v.Status, `ai-platform-${b} versioning`).toBe('Enabled');
        }
        const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: 'ai-platform-features' }));
        expect(ttl.TimeToLiveDescription).toEqual({
          AttributeName: 'expires_at',
          TimeToLiveStatus: 'ENABLED',
        });
        const pitr = await ddb.send(
          new DescribeContinuousBackupsCommand({ TableName: 'ai-platform-features' }),
        );
        expect(
          pitr.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus,
        ).toBe('ENABLED');
        const tags = await kinesis.send(new ListTagsForStreamCommand({ StreamName: 'ai-platform-iot' }));
        expect(tags.Tags).toContainEqual({ Key: 'environment', Value: 'local' });
      } finally {
        s3.destroy();
        ddb.destroy();
        kinesis.destroy();
      }
      const stateDir = path.join(dir, 'terraform');
      const plan = await execa(
        'terraform',
        [
          `-chdir=${TF_DIR}`,
          'plan',
          '-detailed-exitcode',
          '-input=false',
          '-no-color',
          `-state=${path.join(stateDir, 'terraform.tfstate')}`,
          `-var=aws_endpoint=${edge.endpoint}`,
          '-var=region=ap-northeast-1',
        ],
        {
          env: {
            TF_CLI_CONFIG_FILE: path.join(stateDir, 'terraform.rc'),
            TF_DATA_DIR: path.join(stateDir, '.terraform'),
            TF_IN_AUTOMATION: '1',
          },
          reject: false,
          all: true,
        },
      );
      expect(plan.exitCode, String(plan.all).slice(-2000)).toBe(0);
    }, 240_000);
  },
);

describe('terraformCliConfig', () => {
  it('takes hashicorp providers from the mirror only', () => {
    const text = terraformCliConfig('/opt/tf-plugins');
    expect(text).toContain('path    = "/opt/tf-plugins"');
    expect(text).toMatch(/direct \{\s+exclude = \["registry.terraform.io\/hashicorp\/\*"\]/);
  });
});
