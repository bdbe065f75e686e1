/**
 * KRaft's isolated mode: a controller-only node (process.roles=controller, no broker listener) and two
 * broker-only nodes that follow the metadata log as observers.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKafkaCluster } from '../../../twin/kafka/local-cluster.ts';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';

describe('isolated controller and broker nodes', () => {
  const cluster = new LocalKafkaCluster({
    subnet: 203,
    nodes: 3,
    voters: [0],
    nodeEnv: (id): Record<string, string> =>
      id === 0
        ? // The image refuses advertised listeners on a controller-only node; empty counts as unset.
          {
            KAFKA_PROCESS_ROLES: 'controller',
            KAFKA_LISTENERS: 'CONTROLLER://:9093',
            KAFKA_ADVERTISED_LISTENERS: '',
          }
        : { KAFKA_PROCESS_ROLES: 'broker', KAFKA_LISTENERS: 'PLAINTEXT://:9092' },
    env: { KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '2' },
  });
  beforeAll(() => cluster.up(), 90_000);
  afterAll(() => cluster.down());

  it('serves produce and consume from the broker-only nodes, with the controller-only node absent from Metadata', async () => {
    expect(cluster.brokers).toEqual([`${cluster.address(1)}:9092`, `${cluster.address(2)}:9092`]);
    const kafka = new Kafka({ brokers: cluster.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const described = await admin.describeCluster();
    expect(described.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2]);
    await admin.createTopics({
      topics: [{ topic: 'iso', numPartitions: 2, replicationFactor: 2 }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'iso',
      acks: -1,
      messages: Array.from({ length: 20 }, (_, i) => ({ value: `m${i}` })),
    });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'iso-readers' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'iso', fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.value!.toString());
          if (got.length === 20) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(got.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
  }, 60_000);
});
