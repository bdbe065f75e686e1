import { isTwinError } from '../../core/errors.ts';
import { waitUntil } from '../../core/wait.ts';

/** A JSON-protocol call to the emulator behind the edge (used to check that a table or stream exists). */
export type JsonCall = (target: string, input: unknown) => Promise<{ status: number; body: any }>;

export interface JsonAnswer {
  status: number;
  body: unknown;
}

const DYNAMODB = 'com.amazonaws.dynamodb.v20120810';

/**
 * The DynamoDB operations dynalite lacks but the AWS provider and SDK users call on every table:
 * time to live, point-in-time recovery, Kinesis streaming destinations and contributor insights.
 * A table starts as AWS creates one (TTL and PITR disabled, nothing configured) and keeps what
 * UpdateTimeToLive / UpdateContinuousBackups set, for the life of the edge.
 */
export class DynamoDbSettings {
  private readonly ttl = new Map<string, { AttributeName: string; enabled: boolean }>();
  private readonly pitr = new Map<string, boolean>();

  async answer(operation: string, input: any, call: JsonCall): Promise<JsonAnswer | undefined> {
    const table: unknown = input?.TableName;
    switch (operation) {
      case 'DeleteTable':
        this.ttl.delete(String(table));
        this.pitr.delete(String(table));
        return undefined;
      case 'DescribeTimeToLive':
      case 'UpdateTimeToLive':
      case 'DescribeContinuousBackups':
      case 'UpdateContinuousBackups':
      case 'DescribeKinesisStreamingDestination':
      case 'DescribeContributorInsights':
        break;
      default:
        return undefined;
    }
    if (typeof table !== 'string' || table === '')
      return validation(
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null",
      );
    const described = await call('DynamoDB_20120810.DescribeTable', { TableName: table });
    if (described.status !== 200) {
      // AWS names a missing table TableNotFoundException for the backup APIs only.
      if (operation.endsWith('ContinuousBackups'))
        return error(400, 'TableNotFoundException', `Table not found: ${table}`);
      return { status: described.status, body: described.body };
    }
    switch (operation) {
      case 'DescribeTimeToLive': {
        const t = this.ttl.get(table);
        return ok({
          TimeToLiveDescription: t
            ? { AttributeName: t.AttributeName, TimeToLiveStatus: t.enabled ? 'ENABLED' : 'DISABLED' }
            : { TimeToLiveStatus: 'DISABLED' },
        });
      }
      case 'UpdateTimeToLive': {
        const spec = input?.TimeToLiveSpecification;
        if (typeof spec?.AttributeName !== 'string' || typeof spec?.Enabled !== 'boolean')
          return validation('TimeToLiveSpecification needs AttributeName and Enabled');
        const current = this.ttl.get(table);
        if (current && current.enabled === spec.Enabled)
          return validation(`TimeToLive is already ${spec.Enabled ? 'enabled' : 'disabled'}`);
        this.ttl.set(table, { AttributeName: spec.AttributeName, enabled: spec.Enabled });
        return ok({ TimeToLiveSpecification: spec });
      }
      case 'UpdateContinuousBackups': {
        const enabled = input?.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled;
        if (typeof enabled !== 'boolean')
          return validation('PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled is required');
        this.pitr.set(table, enabled);
        return ok({ ContinuousBackupsDescription: this.backups(table) });
      }
      case 'DescribeContinuousBackups':
        return ok({ ContinuousBackupsDescription: this.backups(table) });
      case 'DescribeKinesisStreamingDestination':
        return ok({ TableName: table, KinesisDataStreamDestinations: [] });
      default:
        return ok({ TableName: table, ContributorInsightsStatus: 'DISABLED' });
    }
  }

  private backups(table: string) {
    const enabled = this.pitr.get(table) === true;
    const now = Date.now() / 1000;
    return {
      ContinuousBackupsStatus: 'ENABLED',
      PointInTimeRecoveryDescription: enabled
        ? {
            PointInTimeRecoveryStatus: 'ENABLED',
            EarliestRestorableDateTime: now,
            LatestRestorableDateTime: now,
            RecoveryPeriodInDays: 35,
          }
        : { PointInTimeRecoveryStatus: 'DISABLED' },
    };
  }
}

/**
 * The Kinesis operations kinesalite lacks that the AWS provider reads on every stream: consumers
 * (none registered) and the ARN-based tagging API (answered from the stream's tags).
 */
export async function kinesisGap(
  operation: string,
  input: any,
  call: JsonCall,
): Promise<JsonAnswer | undefined> {
  switch (operation) {
    case 'ListStreamConsumers': {
      const arn = input?.StreamARN;
      if (typeof arn !== 'string') return kinesisError('InvalidArgumentException', 'StreamARN is required');
      const described = await call('Kinesis_20131202.DescribeStreamSummary', { StreamName: streamName(arn) });
      if (described.status !== 200) return { status: described.status, body: described.body };
      return ok({ Consumers: [] });
    }
    case 'ListTagsForResource': {
      const arn = input?.ResourceARN;
      if (typeof arn !== 'string') return kinesisError('InvalidArgumentException', 'ResourceARN is required');
      const tags = await call('Kinesis_20131202.ListTagsForStream', { StreamName: streamName(arn) });
      if (tags.status !== 200) return { status: tags.status, body: tags.body };
      return ok({ Tags: tags.body?.Tags ?? [] });
    }
    default:
      return undefined;
  }
}

function streamName(arn: string): string {
  return arn.split(':stream/')[1] ?? arn;
}

function ok(body: unknown): JsonAnswer {
  return { status: 200, body };
}

function error(status: number, code: string, message: string): JsonAnswer {
  return { status, body: { __type: `${DYNAMODB}#${code}`, message } };
}

function validation(message: string): JsonAnswer {
  return { status: 400, body: { __type: 'com.amazon.coral.validate#ValidationException', message } };
}

function kinesisError(code: string, message: string): JsonAnswer {
  return { status: 400, body: { __type: code, message } };
}

/**
 * Completes an emulator's answer with what AWS does beside it: tags given at creation (CreateTable
 * and CreateStream take `Tags`, which dynalite and kinesalite ignore) and the stream mode AWS
 * reports on every stream. Returns the body to send when it changed.
 */
export async function amendJsonAnswer(
  operation: string,
  input: any,
  answer: { status: number; body: any },
  call: JsonCall,
): Promise<unknown | undefined> {
  if (answer.status !== 200) return undefined;
  switch (operation) {
    case 'CreateTable': {
      const arn = answer.body?.TableDescription?.TableArn;
      if (Array.isArray(input?.Tags) && input.Tags.length > 0 && typeof arn === 'string')
        await call('DynamoDB_20120810.TagResource', { ResourceArn: arn, Tags: input.Tags });
      return undefined;
    }
    case 'CreateStream': {
      const tags = input?.Tags;
      // the tags follow once the stream is ACTIVE (AWS shows them at once).
      if (tags && typeof tags === 'object' && Object.keys(tags).length > 0)
        void tagWhenActive(String(input.StreamName), tags, call);
      return undefined;
    }
    case 'DescribeStreamSummary':
    case 'DescribeStream': {
      const key = operation === 'DescribeStream' ? 'StreamDescription' : 'StreamDescriptionSummary';
      const d = answer.body?.[key];
      if (!d || d.StreamModeDetails) return undefined;
      return {
        ...answer.body,
        [key]: {
          ...d,
          StreamModeDetails: { StreamMode: 'PROVISIONED' },
          EncryptionType: d.EncryptionType ?? 'NONE',
        },
      };
    }
    default:
      return undefined;
  }
}

async function tagWhenActive(streamName: string, tags: unknown, call: JsonCall): Promise<void> {
  // kinesalite writes the stream record again when it turns ACTIVE, so tags added before would be lost.
  await waitUntil(
    async () => {
      const d = await call('Kinesis_20131202.DescribeStreamSummary', { StreamName: streamName }).catch(
        () => undefined,
      );
      if (d?.status !== 200) return true; // the stream is gone: nothing to tag
      if (d.body?.StreamDescriptionSummary?.StreamStatus !== 'ACTIVE') return false;
      await call('Kinesis_20131202.AddTagsToStream', { StreamName: streamName, Tags: tags }).catch(
        () => undefined,
      );
      return true;
    },
    { what: `Kinesis stream ${streamName} to be ACTIVE`, timeout: 5000, interval: 25 },
  ).catch((err) => {
    if (!isTwinError(err, 'TWIN_TIMEOUT')) throw err; // a stream that never turns ACTIVE keeps no tags
  });
}
