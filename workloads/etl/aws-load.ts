import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import type { Sink } from './load.ts';
import type { Reading } from './records.ts';

/** The accepted readings as one JSON Lines object in the processed bucket. */
export function s3ProcessedSink(s3: S3Client, bucket: string, key: string): Sink {
  return {
    name: `s3://${bucket}/${key}`,
    async write(readings) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: readings.map((r) => `${JSON.stringify(r)}\n`).join(''),
          ContentType: 'application/x-ndjson',
        }),
      );
      return readings.length;
    },
  };
}

/** Features per device for the inference service: its latest reading and the batch means. */
export function deviceFeatures(readings: Reading[]): Map<string, Record<string, number | string>> {
  const byDevice = new Map<string, Reading[]>();
  for (const r of readings) byDevice.set(r.deviceId, [...(byDevice.get(r.deviceId) ?? []), r]);
  const features = new Map<string, Record<string, number | string>>();
  for (const [device, rs] of byDevice) {
    const latest = rs.reduce((a, b) => (a.timestamp >= b.timestamp ? a : b));
    const mean = (f: 'temperatureC' | 'humidityPct' | 'vibrationMmS') =>
      Math.round((rs.reduce((s, r) => s + (r[f] ?? 0), 0) / rs.length) * 100) / 100;
    features.set(device, {
      temperature_c: latest.temperatureC!,
      humidity_pct: latest.humidityPct!,
      vibration_mm_s: latest.vibrationMmS!,
      mean_temperature_c: mean('temperatureC'),
      readings: rs.length,
      updated_at: latest.timestamp,
    });
  }
  return features;
}

/** One item per device in the feature table (BatchWriteItem, 25 a request, unprocessed items retried). */
export function dynamoFeatureSink(
  ddb: DynamoDBClient,
  table: string,
  ttlSeconds: number,
): Sink & { devices: number } {
  const sink = {
    name: `dynamodb:${table}`,
    devices: 0,
    async write(readings: Reading[]) {
      const features = deviceFeatures(readings);
      const expires = Math.floor(Date.now() / 1000) + ttlSeconds;
      const items = [...features].map(([device, f]) => ({
        PutRequest: {
          Item: {
            device_id: { S: device },
            expires_at: { N: String(expires) },
            ...Object.fromEntries(
              Object.entries(f).map(([k, v]) => [k, typeof v === 'number' ? { N: String(v) } : { S: v }]),
            ),
          },
        },
      }));
      for (let i = 0; i < items.length; i += 25) {
        let batch: Record<string, any[]> | undefined = { [table]: items.slice(i, i + 25) };
        for (let attempt = 0; batch && Object.keys(batch).length > 0; attempt++) {
          if (attempt > 8) throw new Error(`${table}: items still unprocessed after ${attempt} attempts`);
          const r = await ddb.send(new BatchWriteItemCommand({ RequestItems: batch }));
          batch = r.UnprocessedItems as Record<string, any[]> | undefined;
          if (batch && Object.keys(batch).length > 0)
            await new Promise((res) => setTimeout(res, 50 * 2 ** attempt));
        }
      }
      sink.devices = features.size;
      return readings.length;
    },
  };
  return sink;
}

export interface DwhTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** The warehouse fact table `sensor_readings`, one row per accepted reading, in one transaction per batch. */
export function postgresSink(target: DwhTarget, batchId: string): Sink {
  return {
    name: `postgres://${target.host}:${target.port}/${target.database}#sensor_readings`,
    async write(readings) {
      const client = new pg.Client({ ...target, connectionTimeoutMillis: 10_000 });
      await client.connect();
      try {
        await client.query(`CREATE TABLE IF NOT EXISTS sensor_readings (
          id bigserial PRIMARY KEY,
          batch_id text NOT NULL,
          device_id text NOT NULL,
          observed_at timestamptz NOT NULL,
          temperature_c double precision NOT NULL,
          humidity_pct double precision NOT NULL,
          vibration_mm_s double precision NOT NULL,
          loaded_at timestamptz NOT NULL DEFAULT now())`);
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO sensor_readings (batch_id, device_id, observed_at, temperature_c, humidity_pct, vibration_mm_s)
           SELECT $1, * FROM unnest($2::text[], $3::timestamptz[], $4::float8[], $5::float8[], $6::float8[])`,
          [
            batchId,
            readings.map((r) => r.deviceId),
            readings.map((r) => r.timestamp),
            readings.map((r) => r.temperatureC),
            readings.map((r) => r.humidityPct),
            readings.map((r) => r.vibrationMmS),
          ],
        );
        await client.query('COMMIT');
        return readings.length;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        await client.end();
      }
    },
  };
}
