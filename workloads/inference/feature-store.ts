import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from '../lib/aws-config.ts';

// Loaded on the first device request, not bundled: the SDK would double the server's start-up time,
// and the liveness probe starts counting when the container starts.
const DYNAMODB_CLIENT = '@aws-sdk/client-dynamodb';
type DynamoDbModule = typeof import('@aws-sdk/client-dynamodb');

/** Features of a device from the DynamoDB feature store, by the model's feature names. */
export class FeatureStore {
  private sdk?: Promise<{ module: DynamoDbModule; client: DynamoDBClient }>;

  constructor(
    readonly table: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  private client() {
    this.sdk ??= (import(DYNAMODB_CLIENT) as Promise<DynamoDbModule>).then((module) => {
      const c = awsClientConfig(this.env);
      return {
        module,
        client: new module.DynamoDBClient({
          region: c.region,
          ...(c.endpoint ? { endpoint: c.endpoint } : {}),
        }),
      };
    });
    return this.sdk;
  }

  /** The values in model order, with when they were computed; undefined when the device has none. */
  async features(
    deviceId: string,
    names: string[],
  ): Promise<{ values: number[]; updatedAt: string | undefined } | { missing: string[] } | undefined> {
    const { module, client } = await this.client();
    const got = await client.send(
      new module.GetItemCommand({ TableName: this.table, Key: { device_id: { S: deviceId } } }),
    );
    const item = got.Item;
    if (!item) return undefined;
    const missing = names.filter((n) => item[n]?.N === undefined);
    if (missing.length > 0) return { missing };
    return { values: names.map((n) => Number(item[n]!.N)), updatedAt: item['updated_at']?.S };
  }
}
