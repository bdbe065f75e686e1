/**
 * The twin's Kafka broker against two independent clients, kafkajs and @platformatic/kafka: three
 * nodes (broker + controller each) as real processes, as a StatefulSet of the apache/kafka image runs
 * them. Produce and consume, topic create/delete, consumer groups rebalancing on join and leave,
 * committed offsets resumed (also after the coordinator is killed), acks=all with
 * min.insync.replicas=2, and a broker killed under acks=all load with no acknowledged record lost.
 */
import {
  Admin,
  Consumer as PltConsumer,
  Producer as PltProducer,
  ProduceAcks,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKafkaCluster } from '../../../twin/kafka/local-cluster.ts';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

describe('twin Kafka broker with kafkajs and @platformatic/kafka', () => {
  const cluster = new LocalKafkaCluster({
    subnet: 201,
    env: process.env['TWIN_KAFKA_DEBUG'] ? { TWIN_KAFKA_DEBUG: '1' } : {},
  });
  let kafka: Kafka;

  beforeAll(async () => {
    await cluster.up();
    kafka = new Kafka({
      clientId: 'twin-test',
      brokers: cluster.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 10, initialRetryTime: 100 },
    });
  }, 90_000);
  afterAll(async () => {
    await cluster.down();
  });

  async function leaderOf(topic: string, partition: number): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      return md.topics[0]!.partitions.find((p) => p.partitionId === partition)!.leader;
    } finally {
      await admin.disconnect();
    }
  }

  it('creates, describes and deletes topics (kafkajs admin), refusing what Kafka refuses', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(
        await admin.createTopics({
          topics: [{ topic: 'orders', numPartitions: 3, replicationFactor: 3 }],
          waitForLeaders: true,
        }),
      ).toBe(true);
      expect(
        await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1, replicationFactor: 1 }] }),
      ).toBe(false);
      const typeOf = (p: Promise<unknown>) =>
        p.then(
          () => 'created',
          (e) => (e as any).errors?.[0]?.type ?? (e as Error).message,
        );
      expect(
        await typeOf(
          admin.createTopics({
            topics: [{ topic: 'too-many-replicas', numPartitions: 1, replicationFactor: 4 }],
          }),
        ),
      ).toBe('INVALID_REPLICATION_FACTOR');
      expect(
        await typeOf(
          admin.createTopics({
            topics: [
              {
                topic: 'bad-config',
                numPartitions: 1,
                replicationFactor: 1,
                configEntries: [{ name: 'no.such.config', value: '1' }],
              },
            ],
          }),
        ),
      ).toBe('INVALID_CONFIG');
      expect(
        await typeOf(
          admin.createTopics({ topics: [{ topic: 'bad name!', numPartitions: 1, replicationFactor: 1 }] }),
        ),
      ).toBe('INVALID_TOPIC_EXCEPTION');
      const md = await admin.fetchTopicMetadata({ topics: ['orders'] });
      expect(md.topics[0]!.partitions.map((p) => p.replicas.length)).toEqual([3, 3, 3]);
      expect(new Set(md.topics[0]!.partitions.map((p) => p.leader)).size).toBe(3);
      const configs = await admin.describeConfigs({
        resources: [{ type: 2, name: 'orders', configNames: ['min.insync.replicas'] }],
        includeSynonyms: false,
      });
      expect(configs.resources[0]!.configEntries[0]).toMatchObject({
        configName: 'min.insync.replicas',
        configValue: '1',
      });
      await admin.createTopics({
        topics: [{ topic: 'doomed', numPartitions: 2, replicationFactor: 2 }],
        waitForLeaders: true,
      });
      await admin.deleteTopics({ topics: ['doomed'] });
      await until('doomed gone', async () => !(await admin.listTopics()).includes('doomed'));
    } finally {
      await admin.disconnect();
    }
  });

  it('creates and deletes topics with @platformatic/kafka', async () => {
    const admin = new Admin({ clientId: 'plt-admin', bootstrapBrokers: cluster.brokers });
    try {
      const created = await admin.createTopics({ topics: ['plt-topic'], partitions: 2, replicas: 3 });
      expect(created[0]).toMatchObject({ name: 'plt-topic', partitions: 2, replicas: 3 });
      const md = await admin.metadata({ topics: ['plt-topic'] });
      expect(md.topics.get('plt-topic')!.partitionsCount).toBe(2);
      await admin.deleteTopics({ topics: ['plt-topic'] });
      await until('plt-topic gone', async () => !(await admin.listTopics()).includes('plt-topic'));
    } finally {
      await admin.close();
    }
  });

  it('produces with kafkajs and consumes the same records with @platformatic/kafka, and the other way round', async () => {
    const producer = kafka.producer();
    await producer.connect();
    const sent = Array.from({ length: 200 }, (_, i) => ({
      key: `k${i}`,
      value: `kafkajs-${i}`,
      headers: { n: String(i) },
    }));
    await producer.send({ topic: 'orders', acks: -1, messages: sent });
    await producer.disconnect();

    const pltConsumer = new PltConsumer({
      groupId: 'plt-reader',
      clientId: 'plt-reader',
      bootstrapBrokers: cluster.brokers,
      deserializers: stringDeserializers,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    });
    const got: string[] = [];
    const stream = await pltConsumer.consume({
      topics: ['orders'],
      mode: 'earliest' as any,
      autocommit: true,
    });
    for await (const m of stream) {
      got.push(m.value as string);
      expect(m.headers.get('n')).toBe((m.value as string).split('-')[1]);
      if (got.length === sent.length) break;
    }
    await pltConsumer.close(true);
    expect(got.sort()).toEqual(sent.map((m) => m.value).sort());

    const pltProducer = new PltProducer({
      clientId: 'plt-writer',
      bootstrapBrokers: cluster.brokers,
      serializers: stringSerializers,
      autocreateTopics: true,
    });
    await pltProducer.send({
      acks: ProduceAcks.ALL,
      messages: Array.from({ length: 50 }, (_, i) => ({
        topic: 'plt-written',
        key: `p${i}`,
        value: `plt-${i}`,
      })),
    });
    await pltProducer.close();
    const consumer = kafka.consumer({ groupId: 'kafkajs-reader', sessionTimeout: 10_000 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'plt-written', fromBeginning: true });
    const read: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          read.push(message.value!.toString());
          if (read.length === 50) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(read.sort()).toEqual(Array.from({ length: 50 }, (_, i) => `plt-${i}`).sort());
  });

  it('rebalances a consumer group when a member joins and when one leaves, and resumes from committed offsets', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: 'events', numPartitions: 4, replicationFactor: 3 }],
      waitForLeaders: true,
    });
    const producer = kafka.producer();
    await producer.connect();
    const assignments = new Map<string, number[]>();
    const seen = new Map<string, Set<string>>();
    const start = async (name: string): Promise<Consumer> => {
      const c = kafka.consumer({
        groupId: 'rebalancers',
        sessionTimeout: 6000,
        heartbeatInterval: 300,
        rebalanceTimeout: 10_000,
      });
      c.on(c.events.GROUP_JOIN, (e) =>
        assignments.set(name, (e.payload.memberAssignment['events'] as number[]) ?? []),
      );
      await c.connect();
      await c.subscribe({ topic: 'events', fromBeginning: true });
      seen.set(name, new Set());
      await c.run({
        eachMessage: async ({ message }) => void seen.get(name)!.add(message.value!.toString()),
      });
      return c;
    };
    const a = await start('a');
    await until('a owns 4 partitions', () => assignments.get('a')?.length === 4);
    await producer.send({
      topic: 'events',
      acks: -1,
      messages: Array.from({ length: 40 }, (_, i) => ({ key: `e${i}`, value: `first-${i}` })),
    });
    await until('a read the first 40', () => seen.get('a')!.size === 40);
    const b = await start('b');
    await until(
      'a and b share the 4 partitions',
      () => assignments.get('a')?.length === 2 && assignments.get('b')?.length === 2,
      40_000,
    );
    expect([...assignments.get('a')!, ...assignments.get('b')!].sort()).toEqual([0, 1, 2, 3]);
    await b.disconnect();
    await until('a owns all 4 again after b left', () => assignments.get('a')?.length === 4, 40_000);
    await a.disconnect();
    const offsets = await admin.fetchOffsets({ groupId: 'rebalancers', topics: ['events'] });
    const committed = offsets[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
    expect(committed).toBe(40);
    // A new member of the group resumes after the committed offsets: it reads only what came later.
    await producer.send({
      topic: 'events',
      acks: -1,
      messages: Array.from({ length: 8 }, (_, i) => ({ key: `l${i}`, value: `later-${i}` })),
    });
    const c = await start('c');
    await until('c read the 8 later records', () => seen.get('c')!.size === 8);
    await sleep(500);
    expect([...seen.get('c')!].every((v) => v.startsWith('later-'))).toBe(true);
    await c.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  }, 120_000);

  it('rebalances @platformatic/kafka consumers when a member joins and leaves', async () => {
    const make = (id: string) =>
      new PltConsumer({
        groupId: 'plt-group',
        clientId: id,
        bootstrapBrokers: cluster.brokers,
        deserializers: stringDeserializers,
        sessionTimeout: 6000,
        heartbeatInterval: 300,
        rebalanceTimeout: 10_000,
      });
    const one = make('one');
    const s1 = await one.consume({ topics: ['events'], mode: 'earliest' as any, autocommit: true });
    s1.on('data', () => {});
    await until(
      'one owns 4 partitions',
      () => [...(one.assignments ?? [])].reduce((n, a) => n + a.partitions.length, 0) === 4,
    );
    const two = make('two');
    const s2 = await two.consume({ topics: ['events'], mode: 'earliest' as any, autocommit: true });
    s2.on('data', () => {});
    const count = (c: { assignments: PltConsumer<string, string, string, string>['assignments'] }) =>
      [...(c.assignments ?? [])].reduce((n, a) => n + a.partitions.length, 0);
    await until('one and two share 4 partitions', () => count(one) === 2 && count(two) === 2, 40_000);
    await two.close(true);
    await until('one owns 4 again', () => count(one) === 4, 40_000);
    await one.close(true);
  }, 120_000);

  it('keeps acks=all available with one replica lost under min.insync.replicas=2, and refuses it below with NOT_ENOUGH_REPLICAS', async () => {
    const admin = kafka.admin();
    await admin.connect();
    // Two topics on the same two brokers: replication factor 3 and 2, both min.insync.replicas=2.
    await admin.createTopics({
      topics: [
        {
          topic: 'strict3',
          numPartitions: 1,
          replicationFactor: 3,
          configEntries: [{ name: 'min.insync.replicas', value: '2' }],
        },
        {
          topic: 'strict2',
          replicaAssignment: [{ partition: 0, replicas: [0, 1] }],
          configEntries: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
      waitForLeaders: true,
    });
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    await producer.send({ topic: 'strict2', acks: -1, messages: [{ value: 'two in sync' }] });
    const follower = (await leaderOf('strict2', 0)) === 0 ? 1 : 0;
    await cluster.kill(follower);
    try {
      // The controller fences the dead broker (broker.session.timeout.ms) and takes it out of the ISRs.
      // A record appended before that and waiting for the dead follower is answered
      // NOT_ENOUGH_REPLICAS_AFTER_APPEND once the ISR shrinks under it; later ones NOT_ENOUGH_REPLICAS.
      const errors: string[] = [];
      const err = await until(
        'NOT_ENOUGH_REPLICAS on strict2',
        async () => {
          try {
            await producer.send({
              topic: 'strict2',
              acks: -1,
              timeout: 3000,
              messages: [{ value: 'one in sync' }],
            });
            return undefined;
          } catch (e) {
            const type = String((e as any).type ?? (e as any).cause?.type);
            if (type === 'NOT_ENOUGH_REPLICAS') return type;
            errors.push(type);
            return undefined;
          }
        },
        30_000,
      );
      expect(err).toBe('NOT_ENOUGH_REPLICAS');
      expect(errors.every((t) => t === 'NOT_ENOUGH_REPLICAS_AFTER_APPEND' || t === 'REQUEST_TIMED_OUT')).toBe(
        true,
      );
      const r3 = await until('acks=all on strict3 with two of three in sync', async () =>
        producer
          .send({ topic: 'strict3', acks: -1, timeout: 3000, messages: [{ value: 'two of three' }] })
          .catch(() => undefined),
      );
      expect(r3[0]!.errorCode).toBe(0);
      const ok = await producer.send({ topic: 'strict2', acks: 1, messages: [{ value: 'acks=1 is fine' }] });
      expect(ok[0]!.errorCode).toBe(0);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
      cluster.start(follower);
      await cluster.waitBrokers(3);
    }
  }, 120_000);

  it('loses no record acknowledged with acks=all when the leader is killed under load (kafkajs), and moves to the new leader', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic: 'kill-kafkajs',
          numPartitions: 1,
          replicationFactor: 3,
          configEntries: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
      waitForLeaders: true,
    });
    await admin.disconnect();
    const victim = await leaderOf('kill-kafkajs', 0);
    const producer = kafka.producer({ retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
    await producer.connect();
    const acked: string[] = [];
    let failed = 0;
    let n = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const batch = Array.from({ length: 20 }, () => ({ value: `r${n++}` }));
        try {
          await producer.send({ topic: 'kill-kafkajs', acks: -1, timeout: 5000, messages: batch });
          acked.push(...batch.map((m) => m.value));
        } catch {
          failed += batch.length;
        }
      }
    })();
    await until('some records acknowledged', () => acked.length > 500);
    await cluster.kill(victim);
    const ackedAtKill = acked.length;
    await until('records acknowledged after the kill', () => acked.length > ackedAtKill + 500, 60_000);
    stop = true;
    await load;
    await producer.disconnect();
    const newLeader = await leaderOf('kill-kafkajs', 0);
    expect(newLeader).not.toBe(victim);
    expect(newLeader).toBeGreaterThanOrEqual(0);

    const consumer = kafka.consumer({ groupId: 'kill-check' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kill-kafkajs', fromBeginning: true });
    const got = new Set<string>();
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.add(message.value!.toString());
          if (acked.every((v) => got.has(v))) resolve();
        },
      });
      setTimeout(resolve, 30_000);
    });
    await consumer.disconnect();
    const lost = acked.filter((v) => !got.has(v));
    expect({ acked: acked.length, lost: lost.length }).toEqual({ acked: acked.length, lost: 0 });
    expect(failed).toBeGreaterThanOrEqual(0);

    // The killed broker comes back on its data directory, catches up and rejoins the ISR.
    cluster.start(victim);
    await cluster.waitBrokers(3);
    const admin2 = kafka.admin();
    await admin2.connect();
    await until(
      'the restarted broker back in the ISR',
      async () => {
        const md = await admin2.fetchTopicMetadata({ topics: ['kill-kafkajs'] });
        return md.topics[0]!.partitions[0]!.isr.includes(victim);
      },
      60_000,
    );
    await admin2.disconnect();
  }, 180_000);

  it('loses no record acknowledged with acks=all when the leader is killed under load (@platformatic/kafka)', async () => {
    const admin = new Admin({ clientId: 'plt-admin-2', bootstrapBrokers: cluster.brokers });
    await admin.createTopics({
      topics: ['kill-plt'],
      partitions: 1,
      replicas: 3,
      configs: [{ name: 'min.insync.replicas', value: '2' }],
    });
    await until('kill-plt has a leader', async () =>
      (await leaderOf('kill-plt', 0).catch(() => -1)) >= 0 ? true : undefined,
    );
    await admin.close();
    const victim = await leaderOf('kill-plt', 0);
    const producer = new PltProducer({
      clientId: 'plt-load',
      bootstrapBrokers: cluster.brokers,
      serializers: stringSerializers,
      acks: ProduceAcks.ALL,
      retries: 20,
      retryDelay: 200,
      timeout: 5000,
    });
    const acked: string[] = [];
    let n = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const batch = Array.from({ length: 20 }, () => `r${n++}`);
        try {
          // acks belongs to the send options: the producer's own default is acks=1 (leader only).
          await producer.send({
            acks: ProduceAcks.ALL,
            messages: batch.map((value) => ({ topic: 'kill-plt', value })),
          });
          acked.push(...batch);
        } catch {}
      }
    })();
    await until('some records acknowledged', () => acked.length > 500);
    await cluster.kill(victim);
    const ackedAtKill = acked.length;
    await until('records acknowledged after the kill', () => acked.length > ackedAtKill + 500, 60_000);
    stop = true;
    await load;
    await producer.close();
    expect(await leaderOf('kill-plt', 0)).not.toBe(victim);

    const consumer = new PltConsumer({
      groupId: 'plt-kill-check',
      clientId: 'plt-kill-check',
      bootstrapBrokers: cluster.brokers,
      deserializers: stringDeserializers,
    });
    const stream = await consumer.consume({
      topics: ['kill-plt'],
      mode: 'earliest' as any,
      autocommit: false,
    });
    const got = new Set<string>();
    const timer = setTimeout(() => void stream.close(), 30_000);
    for await (const m of stream) {
      got.add(m.value as string);
      if (acked.every((v) => got.has(v))) break;
    }
    clearTimeout(timer);
    await consumer.close(true);
    expect(acked.filter((v) => !got.has(v)).length).toBe(0);
    cluster.start(victim);
    await cluster.waitBrokers(3);
  }, 180_000);

  it('keeps committed offsets when the group coordinator is killed', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'orders',
      acks: -1,
      messages: Array.from({ length: 30 }, (_, i) => ({ value: `c${i}` })),
    });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({
      groupId: 'durable',
      topic: 'orders',
      partitions: [0, 1, 2].map((partition) => ({ partition, offset: '7' })),
    });
    const before = await admin.fetchOffsets({ groupId: 'durable', topics: ['orders'] });
    expect((await admin.describeGroups(['durable'])).groups[0]).toMatchObject({
      groupId: 'durable',
      state: 'Empty',
    });
    await admin.disconnect();
    expect(before[0]!.partitions.map((p) => p.offset)).toEqual(['7', '7', '7']);
    // Kill every broker in turn but one at a time (the coordinator among them), restarting each.
    for (const id of [0, 1, 2]) {
      await cluster.kill(id);
      cluster.start(id);
      await cluster.waitBrokers(3);
    }
    const admin2 = kafka.admin();
    await admin2.connect();
    const after = await until('offsets readable', async () => {
      try {
        return await admin2.fetchOffsets({ groupId: 'durable', topics: ['orders'] });
      } catch {
        return undefined;
      }
    });
    await admin2.disconnect();
    expect(after[0]!.partitions.map((p) => p.offset)).toEqual(['7', '7', '7']);
  }, 180_000);
});
