import { appendFile } from 'node:fs/promises';
import type { Reading } from './records.ts';

/** Where accepted readings go; S3, DynamoDB and Postgres sinks implement this too. */
export interface Sink {
  name: string;
  write(readings: Reading[]): Promise<number>;
}

export function jsonLinesSink(path: string): Sink {
  return {
    name: `file:${path}`,
    async write(readings) {
      await appendFile(path, readings.map((r) => `${JSON.stringify(r)}\n`).join(''));
      return readings.length;
    },
  };
}

/** Counts and drops: the default until a real sink is configured. */
export function discardSink(): Sink {
  return { name: 'discard', write: async (readings) => readings.length };
}

export async function load(readings: Reading[], sink: Sink): Promise<number> {
  return readings.length === 0 ? 0 : sink.write(readings);
}
