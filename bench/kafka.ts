/**
 * bench kafka — the twin's Kafka broker end to end: 3 nodes (broker + controller each, real
 * processes of the apache/kafka image's entrypoint), a topic of 3 partitions with replication factor 3,
 * RECORDS records of 1 KiB produced with acks=all while a consumer group reads them; the time from the
 * first send to the last record consumed (target ≤ 10 s). Beside it, each client's own limit: the
 * same records produced to a trivial sink (bench/kafka-sink.ts) that acknowledges without storing,
 * and a second group reading the whole topic back from the twin.
 *   npm run bench -- kafka [--records N] [--client kafkajs|platformatic]
 */
import os from 'node:os';
import { Consumer as PltConsumer, Producer as PltProducer, ProduceAcks } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { LocalKafkaCluster } from '../twin/kafka/local-cluster.ts';
import { startSink } from './kafka-sink.ts';

const VALUE = Buffer.alloc(1024, 'x');
const BATCH = 1000;
const IN_FLIGHT = 4;

interface Client {
  name: string;
  produce(brokers: string[], topic: string, n: number): Promise<void>;
  /** Resolves with the ms until `n` records were read, from `t0`. */
  consume(
    brokers: string[],
    topic: string,
    group: string,
    n: number,
    t0: () => number,
  ): Promise<{ ready: Promise<void>; done: Promise<number>; close: () => Promise<void> }>;
}

async function inBatches(n: number, send: (count: number) => Promise<void>): Promise<void> {
  let sent = 0;
  const worker = async () => {
    while (sent < n) {
      const count = Math.min(BATCH, n - sent);
      sent += count;
      await send(count);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

const kafkajs: Client = {
  name: 'kafkajs 2.2.4',
  async produce(brokers, topic, n) {
    const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'bench' }).producer();
    await producer.connect();
    await inBatches(n, (count) =>
      producer
        .send({
          topic,
          acks: -1,
          messages: Array.from({ length: count }, (_, i) => ({ key: String(i), value: VALUE })),
        })
        .then(() => {}),
    );
    await producer.disconnect();
  },
  async consume(brokers, topic, group, n, t0) {
    const consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'bench' }).consumer({
      groupId: group,
      maxWaitTimeInMs: 200,
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let got = 0;
    let resolve!: (ms: number) => void;
    const done = new Promise<number>((r) => (resolve = r));
    let joined!: () => void;
    const ready = new Promise<void>((r) => (joined = r));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.run({
      eachBatch: async ({ batch }) => {
        got += batch.messages.length;
        if (got >= n) resolve(performance.now() - t0());
      },
    });
    return { ready, done, close: () => consumer.disconnect() };
  },
};

const platformatic: Client = {
  name: '@platformatic/kafka 2.12.1',
  async produce(brokers, topic, n) {
    const producer = new PltProducer({ clientId: 'bench', bootstrapBrokers: brokers });
    await inBatches(n, (count) =>
      producer
        .send({
          acks: ProduceAcks.ALL,
          messages: Array.from({ length: count }, (_, i) => ({
            topic,
            key: Buffer.from(String(i)),
            value: VALUE,
          })),
        })
        .then(() => {}),
    );
    await producer.close();
  },
  async consume(brokers, topic, group, n, t0) {
    const consumer = new PltConsumer({
      groupId: group,
      clientId: 'bench',
      bootstrapBrokers: brokers,
      maxWaitTime: 200,
    });
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest' as any, autocommit: true });
    let got = 0;
    const done = (async () => {
      for await (const _ of stream) if (++got >= n) return performance.now() - t0();
      return Number.NaN;
    })();
    return { ready: Promise.resolve(), done, close: () => consumer.close(true) };
  },
};

const rate = (n: number, ms: number) =>
  `${(ms / 1000).toFixed(2)} s, ${Math.round(n / (ms / 1000)).toLocaleString('en')} records/s`;

export async function benchKafka(args: string[]): Promise<void> {
  const at = args.indexOf('--records');
  const n = at >= 0 ? Number(args[at + 1]) : 100_000;
  const only = args.includes('--client') ? args[args.indexOf('--client') + 1] : undefined;
  const clients = [kafkajs, platformatic].filter((c) => !only || c.name.includes(only));
  console.log(
    `bench:kafka ${n.toLocaleString('en')} records of 1 KiB, acks=all, 3 brokers, 3 partitions × replication factor 3; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  let failed = false;
  for (const [i, client] of clients.entries()) {
    const sink = await startSink(`127.10.240.${i + 1}`, 9092, 3);
    const ts = performance.now();
    await client.produce([`127.10.240.${i + 1}:9092`], 'sink', n);
    const sinkMs = performance.now() - ts;
    await sink.close();

    const cluster = new LocalKafkaCluster({ subnet: 241 + i });
    try {
      await cluster.up();
      const admin = new Kafka({ brokers: cluster.brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.createTopics({
        topics: [{ topic: 'bench', numPartitions: 3, replicationFactor: 3 }],
        waitForLeaders: true,
      });
      await admin.disconnect();
      let start = 0;
      const reader = await client.consume(cluster.brokers, 'bench', 'bench-live', n, () => start);
      await reader.ready;
      start = performance.now();
      await client.produce(cluster.brokers, 'bench', n);
      const producedMs = performance.now() - start;
      const endToEndMs = await reader.done;
      await reader.close();
      let t1 = 0;
      const rereader = await client.consume(cluster.brokers, 'bench', 'bench-again', n, () => t1);
      t1 = performance.now();
      const readMs = await rereader.done;
      await rereader.close();
      const ok = endToEndMs <= 10_000;
      failed ||= !ok;
      console.log(
        [
          `  ${client.name}:`,
          `    end to end (produce acks=all + consume): ${rate(n, endToEndMs)} ${ok ? '(target ≤ 10 s met)' : '(over the 10 s target)'}`,
          `    produced (all acknowledged):             ${rate(n, producedMs)}`,
          `    client limit, produce to a trivial sink:  ${rate(n, sinkMs)}`,
          `    read back by a new group:                ${rate(n, readMs)}`,
          `    load average after: ${os
            .loadavg()
            .map((l) => l.toFixed(1))
            .join(' ')}`,
        ].join('\n'),
      );
    } finally {
      await cluster.down();
    }
  }
  if (failed) process.exitCode = 1;
}
