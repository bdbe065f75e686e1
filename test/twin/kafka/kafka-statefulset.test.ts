/**
 * The apache/kafka image on the twin: a StatefulSet of three KRaft nodes configured only through the
 * image's documented environment (test/fixtures/systems/kafka) forms a cluster through cluster DNS,
 * serves a client that bootstraps through the `kafka` Service and follows the advertised pod names,
 * survives a killed pod under acks=all, and keeps its log on the pods' volumes when every pod is
 * recreated.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Environment } from '../../../env/environment.ts';
import { localEnvironment } from '../../../env/local/local-environment.ts';
import { REPO_ROOT } from '../../../system/system.ts';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';
const SYSTEM = path.join(REPO_ROOT, 'test/fixtures/systems/kafka');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  f: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

describe("apache/kafka StatefulSet on the twin (3 KRaft nodes, the image's own settings)", () => {
  let env: Environment;
  let kafka: Kafka;
  const workDir = mkdtempSync(path.join(tmpdir(), 'twin-kafka-sts-'));

  /** Resolves cluster names as a client inside the cluster would (the twin's DNS file). */
  const resolve = (host: string): string => {
    if (net.isIP(host)) return host;
    const { records } = JSON.parse(
      readFileSync(path.join(workDir, 'network', 'cluster-dns.json'), 'utf8'),
    ) as { records: Record<string, string[]> };
    const ips = records[host] ?? records[`${host}.svc.cluster.local`];
    if (!ips?.length) throw new Error(`no cluster DNS record for ${host}`);
    return ips[0]!;
  };

  beforeAll(async () => {
    env = await localEnvironment.up({ system: SYSTEM, overlay: 'local', timeScale: 10, workDir });
    kafka = new Kafka({
      clientId: 'sts-test',
      brokers: ['kafka.kafka.svc.cluster.local:9092'],
      logLevel: logLevel.NOTHING,
      retry: { retries: 15, initialRetryTime: 200 },
      socketFactory: ({ host, port, onConnect }) => {
        const socket = net.connect({ host: resolve(host), port }, onConnect);
        socket.setKeepAlive(true, 30_000);
        return socket;
      },
    });
  }, 180_000);

  afterAll(async () => {
    await env?.down();
    rmSync(workDir, { recursive: true, force: true });
  }, 60_000);

  const leaderOf = async (topic: string) => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions[0]!;
    } finally {
      await admin.disconnect();
    }
  };

  /**
   * Reads a topic from the start with a new consumer group until `expected` records arrived or `waitMs`
   * passed. After brokers were killed the group's first join waits on the coordinator (about 10 s here;
   * on a loaded CI machine it once took over 45 s): records that never arrive still fail the test.
   */
  const readAll = async (
    topic: string,
    group: string,
    expected: number,
    waitMs = 120_000,
  ): Promise<Set<string>> => {
    const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = new Set<string>();
    await new Promise<void>((done) => {
      const timer = setTimeout(done, waitMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.add(message.value!.toString());
          if (got.size >= expected) {
            clearTimeout(timer);
            done();
          }
        },
      });
    });
    await consumer.disconnect();
    return got;
  };

  it('forms one cluster of three brokers advertised under their pod names', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const cluster = await until('three brokers', async () => {
      const c = await admin.describeCluster().catch(() => undefined);
      return c && c.brokers.length === 3 ? c : undefined;
    });
    await admin.disconnect();
    expect(cluster.brokers.map((b) => b.host).sort()).toEqual(
      [0, 1, 2].map((i) => `kafka-${i}.kafka-headless.kafka.svc.cluster.local`),
    );
    expect(cluster.brokers.map((b) => b.nodeId).sort()).toEqual([0, 1, 2]);
  }, 90_000);

  it("loses no acks=all record when the leader's pod is killed, and keeps the log on the volumes when every pod is recreated", async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: 'jobs', numPartitions: 1, replicationFactor: 3 }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    const before = await leaderOf('jobs');
    const producer = kafka.producer({ retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
    await producer.connect();
    const acked: string[] = [];
    let n = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const batch = Array.from({ length: 10 }, () => ({ value: `job-${n++}` }));
        try {
          await producer.send({ topic: 'jobs', acks: -1, timeout: 5000, messages: batch });
          acked.push(...batch.map((m) => m.value));
        } catch {}
      }
    })();
    await until('records acknowledged', () => acked.length >= 200);
    await env.faults.killPod({ namespace: 'kafka', name: `kafka-${before.leader}` });
    const atKill = acked.length;
    await until('records acknowledged after the kill', () => acked.length >= atKill + 200, 90_000);
    stop = true;
    await load;
    await producer.disconnect();
    const after = await leaderOf('jobs');
    expect(after.leader).not.toBe(before.leader);
    const got = await readAll('jobs', 'check-1', acked.length);
    expect(acked.filter((v) => !got.has(v))).toEqual([]);

    // Every pod recreated (same names, same claims): the records are still there.
    for (const i of [0, 1, 2]) await env.faults.killPod({ namespace: 'kafka', name: `kafka-${i}` });
    await until(
      'the StatefulSet ready again',
      async () => {
        const sts = await env.kube.get({
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          namespace: 'kafka',
          name: 'kafka',
        });
        return sts?.status?.readyReplicas === 3;
      },
      120_000,
    );
    const again = await readAll('jobs', 'check-2', acked.length);
    expect(acked.filter((v) => !again.has(v))).toEqual([]);
  }, 480_000);

  it("loses no acks=all record when the leader's node loses power (no controlled shutdown: fenced after broker.session.timeout.ms)", async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: 'power', numPartitions: 1, replicationFactor: 3 }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    const leader = (await leaderOf('power')).leader;
    const pod = await env.kube.get({
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: 'kafka',
      name: `kafka-${leader}`,
    });
    const node = pod!.spec.nodeName as string;
    const producer = kafka.producer({ retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
    await producer.connect();
    const acked: string[] = [];
    let n = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const batch = Array.from({ length: 10 }, () => ({ value: `p-${n++}` }));
        try {
          await producer.send({ topic: 'power', acks: -1, timeout: 5000, messages: batch });
          acked.push(...batch.map((m) => m.value));
        } catch {}
      }
    })();
    await until('records acknowledged', () => acked.length >= 200);
    await env.faults.stopNode(node);
    const atStop = acked.length;
    await until('records acknowledged on the new leader', () => acked.length >= atStop + 200, 90_000);
    stop = true;
    await load;
    await producer.disconnect();
    expect((await leaderOf('power')).leader).not.toBe(leader);
    const got = await readAll('power', 'check-power', acked.length);
    expect(acked.filter((v) => !got.has(v))).toEqual([]);
    await env.faults.startNode(node);
  }, 360_000);
});
