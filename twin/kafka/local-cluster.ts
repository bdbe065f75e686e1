/**
 * A local cluster of twin Kafka nodes outside the twin (tests and the benchmark use it), each a real process of the image's entrypoint
 * (twin/kafka/kafka-entrypoint.ts) with the environment a StatefulSet of the apache/kafka image gives
 * it, on its own loopback address; nodes can be killed (SIGKILL), stopped (SIGTERM) and restarted on
 * the same data directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WorkloadBundler } from '../kubelet/workload-bundler.ts';
import { KafkaClientConnection } from './protocol/client-connection.ts';
import { metadataRequest, metadataResponse } from './protocol/messages/metadata.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const ENTRY = path.join(REPO, 'twin/kafka/kafka-entrypoint.ts');
const ORPHAN_GUARD = path.join(REPO, 'twin/kubelet/orphan-guard.mjs');

export interface ClusterOptions {
  nodes?: number;
  /** The third octet of the nodes' 127.10.x.y addresses, distinct per test file. */
  subnet: number;
  env?: Record<string, string>;
  /** Settings of one node on top of the others (e.g. its process.roles). */
  nodeEnv?: (id: number) => Record<string, string>;
  /** The nodes that are controller voters (default: all). */
  voters?: number[];
}

export class LocalKafkaCluster {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'twin-kafka-'));
  readonly procs = new Map<number, ChildProcess>();
  private bundle: string | undefined;
  readonly nodes: number;

  constructor(private readonly o: ClusterOptions) {
    this.nodes = o.nodes ?? 3;
  }

  address(id: number): string {
    return `127.10.${this.o.subnet}.${id + 1}`;
  }

  get brokers(): string[] {
    return this.brokerIds().map((i) => `${this.address(i)}:9092`);
  }

  envOf(id: number): Record<string, string> {
    const voters = (this.o.voters ?? [...Array(this.nodes).keys()])
      .map((i) => `${i}@${this.address(i)}:9093`)
      .join(',');
    return {
      KAFKA_NODE_ID: String(id),
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${this.address(id)}:9092`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: voters,
      KAFKA_LOG_DIRS: '/var/lib/kafka/data',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: String(Math.min(3, this.nodes)),
      KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '5',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_BROKER_SESSION_TIMEOUT_MS: '3000',
      KAFKA_BROKER_HEARTBEAT_INTERVAL_MS: '500',
      KAFKA_REPLICA_LAG_TIME_MAX_MS: '5000',
      CLUSTER_ID: 'twin-test-cluster-id0',
      ...this.o.env,
      ...this.o.nodeEnv?.(id),
    };
  }

  start(id: number): void {
    const root = path.join(this.dir, `node-${id}`);
    const logFile = createWriteStream(path.join(this.dir, `node-${id}.log`), { flags: 'a' });
    // The entry bundled once (as the twin's kubelet runs it), else through the TypeScript loader.
    const program = this.bundle ? [this.bundle] : ['--import', 'tsx', ENTRY];
    const child = spawn(process.execPath, ['--import', ORPHAN_GUARD, ...program], {
      cwd: REPO,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '/tmp',
        TWIN_POD_IP: this.address(id),
        TWIN_PARENT_PID: String(process.pid),
        TWIN_CONTAINER_ROOT: path.join(root, 'rootfs'),
        TWIN_VOLUME_MOUNTS: JSON.stringify([
          { mountPath: '/var/lib/kafka/data', path: path.join(root, 'data') },
        ]),
        ...this.envOf(id),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(logFile);
    child.stderr!.pipe(logFile);
    this.procs.set(id, child);
  }

  /** The nodes with the broker role. */
  brokerIds(): number[] {
    return [...Array(this.nodes).keys()].filter((i) =>
      (this.envOf(i)['KAFKA_PROCESS_ROLES'] ?? '').includes('broker'),
    );
  }

  async up(): Promise<void> {
    this.bundle ??= await new WorkloadBundler(path.join(REPO, '.twin', 'bundles')).bundle(ENTRY);
    for (let i = 0; i < this.nodes; i++) this.start(i);
    await Promise.all(this.brokerIds().map((i) => this.waitListening(i)));
    await this.waitBrokers(this.brokerIds().length);
  }

  /** The brokers node `via` lists in its Metadata answer. */
  async liveBrokers(via: number): Promise<number[]> {
    const c = new KafkaClientConnection(this.address(via), 9092, 'test');
    try {
      const r = await c.send(metadataRequest, metadataResponse, 1, { topics: [] }, 2000);
      return r.brokers.map((b: any) => b.nodeId).sort();
    } finally {
      c.close();
    }
  }

  /** Waits until every running node lists `count` live brokers. */
  async waitBrokers(count: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = await Promise.all(
        [...this.procs.keys()]
          .filter((id) => this.brokerIds().includes(id))
          .map((id) =>
            this.liveBrokers(id).then(
              (b) => b.length,
              () => -1,
            ),
          ),
      );
      if (seen.every((n) => n === count)) return;
      if (Date.now() > deadline)
        throw new Error(
          `brokers not live within ${timeoutMs} ms (${seen.join(',')}):\n${[...this.procs.keys()].map((i) => this.log(i)).join('\n')}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Waits until node id accepts connections on its broker port. */
  async waitListening(id: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: this.address(id), port: 9092 });
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() > deadline)
        throw new Error(`node ${id} did not listen within ${timeoutMs} ms:\n${this.log(id)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  log(id: number): string {
    try {
      return readFileSync(path.join(this.dir, `node-${id}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  async kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.procs.get(id);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
    this.procs.delete(id);
  }

  async down(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((id) => this.kill(id)));
    if (!process.env['KEEP_KAFKA_TEST_DIR']) rmSync(this.dir, { recursive: true, force: true });
  }
}
