/**
 * One Kafka node (a pod of the StatefulSet): its controller part (a voter of the metadata quorum and,
 * when elected, the active controller) and its broker part (registration and heartbeats to the active
 * controller, replicas, the group coordinator, the client listeners), as `process.roles` says. The log
 * directory is formatted on first start (meta.properties with cluster.id and node.id, as
 * `kafka-storage format` writes it) and checked on every later start.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Controller } from '../controller/controller.ts';
import { RpcClient, serveRpc } from '../controller/controller-rpc.ts';
import { MetadataImage } from '../controller/metadata-image.ts';
import { NotLeaderError, Quorum } from '../controller/quorum.ts';
import { GroupCoordinator } from '../group/group-coordinator.ts';
import { ReplicaManager } from '../replication/replica-manager.ts';
import type { BrokerConfig } from './broker-config.ts';
import type { BrokerContext } from './broker-context.ts';
import { serveClients } from './request-server.ts';

export interface KafkaNodeOptions {
  /** The address a listener with host "", 0.0.0.0 or localhost binds (the pod's address). */
  bindAddress: string;
  /** The node's directories on this machine for a container path (log.dirs is a container path). */
  hostPath: (containerPath: string) => string;
  log: (message: string) => void;
  /** A failure the node cannot go on after (a listener that cannot bind): the container exits. */
  fatal: (message: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class MetaPropertiesError extends Error {}

/** Formats an empty log directory or checks the node and cluster ids of a formatted one. */
export function formatLogDir(dir: string, clusterId: string, nodeId: number): void {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'meta.properties');
  if (!existsSync(file)) {
    writeFileSync(
      file,
      `#\nnode.id=${nodeId}\ndirectory.id=${randomUUID()}\nversion=1\ncluster.id=${clusterId}\n`,
    );
    return;
  }
  const text = readFileSync(file, 'utf8');
  const stored = (k: string) => new RegExp(`^${k.replace('.', '\\.')}=(.*)$`, 'm').exec(text)?.[1];
  if (stored('node.id') !== String(nodeId))
    throw new MetaPropertiesError(
      `Stored node id ${stored('node.id')} doesn't match previous node id ${nodeId} in ${file}`,
    );
  if (stored('cluster.id') !== clusterId)
    throw new MetaPropertiesError(
      `Invalid cluster.id in ${file}. Expected ${clusterId}, but read ${stored('cluster.id')}`,
    );
}

export class KafkaNode {
  readonly image = new MetadataImage();
  quorum!: Quorum;
  controller: Controller | undefined;
  replicas: ReplicaManager | undefined;
  groups: GroupCoordinator | undefined;
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  private openClientListeners: (() => Promise<void>) | undefined;
  private readonly peers = new Map<number, RpcClient>();
  private stopped = false;
  private brokerEpoch = -1;
  private readonly incarnationId = randomUUID();

  constructor(
    readonly config: BrokerConfig,
    private readonly o: KafkaNodeOptions,
  ) {}

  private bindHost(host: string): string {
    return host === '' || host === '0.0.0.0' || host === 'localhost' || host === '127.0.0.1' || host === '::'
      ? this.o.bindAddress
      : host;
  }

  async start(): Promise<void> {
    const c = this.config;
    const logDir = this.o.hostPath(c.logDir);
    const metadataDir = this.o.hostPath(c.metadataLogDir);
    formatLogDir(logDir, c.clusterId, c.nodeId);
    if (metadataDir !== logDir) formatLogDir(metadataDir, c.clusterId, c.nodeId);
    for (const v of c.voters) if (v.id !== c.nodeId) this.peers.set(v.id, new RpcClient(v.host, v.port));
    // A voter reaches itself without a socket (its own RpcClient would do too).
    this.quorum = new Quorum({
      nodeId: c.nodeId,
      voters: c.voters.map((v) => v.id),
      dir: path.join(metadataDir, '__cluster_metadata-0'),
      peers: this.peers,
      fetchTimeoutMs: c.int('controller.quorum.fetch.timeout.ms'),
      electionTimeoutMs: c.int('controller.quorum.election.timeout.ms'),
      apply: (entry) => {
        const { changedPartitions, removedTopics } = this.image.apply(entry.record, entry.offset);
        if (this.replicas && (changedPartitions.length || removedTopics.length)) {
          this.replicas.onMetadata(changedPartitions, removedTopics);
          this.groups!.onMetadata();
        }
      },
      log: this.o.log,
      onRoleChange: (role) => {
        if (role === 'leader') this.controller?.activated();
      },
    });
    if (c.roles.controller) {
      this.controller = new Controller(
        this.quorum,
        this.image,
        {
          numPartitions: c.int('num.partitions'),
          defaultReplicationFactor: c.int('default.replication.factor'),
          uncleanLeaderElection: c.bool('unclean.leader.election.enable'),
          sessionTimeoutMs: c.int('broker.session.timeout.ms'),
        },
        this.o.log,
      );
      const listener = c.listeners.find((l) => l.name === c.controllerListenerNames[0])!;
      const server = net.createServer();
      serveRpc(server, async (req) => {
        if (req.type === 'vote' || req.type === 'beginEpoch' || req.type === 'fetch')
          return this.quorum.handle(req);
        return this.controller!.handle(req);
      });
      await this.listen(server, listener.host, listener.port, listener.name);
      this.controller.start();
    }
    if (c.roles.broker) {
      this.replicas = new ReplicaManager({
        nodeId: c.nodeId,
        logDir,
        image: this.image,
        replicaLagTimeMaxMs: c.int('replica.lag.time.max.ms'),
        defaultMinIsr: c.int('min.insync.replicas'),
        replicaFetchWaitMaxMs: c.int('replica.fetch.wait.max.ms'),
        alterPartition: async (state, isr) => {
          const r = await this.controllerCall(
            {
              type: 'alterPartition',
              brokerId: c.nodeId,
              brokerEpoch: this.brokerEpoch,
              topicId: state.topicId,
              partition: state.partition,
              leaderEpoch: state.leaderEpoch,
              partitionEpoch: state.partitionEpoch,
              isr,
            },
            5000,
          );
          return r.errorCode as number;
        },
        log: this.o.log,
      });
      this.groups = new GroupCoordinator({
        offsetsPartitions: c.int('offsets.topic.num.partitions'),
        replicas: this.replicas,
        minSessionTimeoutMs: c.int('group.min.session.timeout.ms'),
        maxSessionTimeoutMs: c.int('group.max.session.timeout.ms'),
        initialRebalanceDelayMs: c.int('group.initial.rebalance.delay.ms'),
        commitTimeoutMs: c.int('offsets.commit.timeout.ms'),
        log: this.o.log,
      });
      const ctx: BrokerContext = {
        config: c,
        image: this.image,
        replicas: this.replicas,
        groups: this.groups,
        controllerCall: (req, timeoutMs) => this.controllerCall(req, timeoutMs),
        log: this.o.log,
      };
      // Client listeners open once the broker has caught up with the metadata and is unfenced, as
      // Kafka's BrokerServer waits before it starts its data-plane acceptors: a broker replaying an old
      // metadata log must not answer Metadata from it (nor auto-create a topic it has not seen yet).
      this.openClientListeners = async () => {
        for (const l of c.listeners.filter((x) => !c.controllerListenerNames.includes(x.name))) {
          const server = net.createServer();
          serveClients(server, ctx, l.name);
          await this.listen(server, l.host, l.port, l.name);
        }
      };
    }
    this.quorum.start();
    if (c.roles.broker) void this.brokerLifecycle();
  }

  private listen(server: net.Server, host: string, port: number, name: string): Promise<void> {
    this.servers.push(server);
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    const address = this.bindHost(host);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port }, () => {
        this.o.log(`listening on ${name}://${address}:${port}`);
        resolve();
      });
    });
  }

  /** Sends a request to the active controller, following it when it moves. */
  async controllerCall(req: object, timeoutMs: number): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    let lastError = 'no active controller';
    while (Date.now() < deadline && !this.stopped) {
      const leader = this.quorum.leaderId;
      if (leader === undefined) {
        await sleep(100);
        continue;
      }
      try {
        const r =
          leader === this.config.nodeId && this.controller
            ? await this.controller.handle(req)
            : await this.peers.get(leader)!.call(req, Math.max(100, deadline - Date.now()));
        if (r?.error === 'NOT_CONTROLLER') {
          lastError = `node ${leader} is not the active controller`;
          await sleep(100);
          continue;
        }
        // A topic change is answered once this broker has applied it too, so the client's next
        // Metadata request here sees it (the forwarding broker would otherwise lag the controller).
        if (typeof r?.offset === 'number' && r.offset >= 0)
          while (this.image.offset <= r.offset && Date.now() < deadline && !this.stopped) await sleep(10);
        return r;
      } catch (err) {
        if (!(err instanceof NotLeaderError)) lastError = (err as Error).message;
        await sleep(100);
      }
    }
    throw new Error(`controller request failed: ${lastError}`);
  }

  /** Registers with the active controller, then heartbeats; re-registers when the controller forgot it. */
  private async brokerLifecycle(): Promise<void> {
    const c = this.config;
    const inter = c.advertised.find((a) => a.name === c.interBrokerListenerName)!;
    const endpoints = [inter, ...c.advertised.filter((a) => a !== inter)].map((a) => ({
      name: a.name,
      host: a.host === '' || a.host === '0.0.0.0' ? this.o.bindAddress : a.host,
      port: a.port,
    }));
    const interval = c.int('broker.heartbeat.interval.ms');
    let fenced = true;
    let lastHeartbeat = 0;
    while (!this.stopped) {
      try {
        if (this.brokerEpoch < 0) {
          const r = await this.controllerCall(
            {
              type: 'registerBroker',
              brokerId: c.nodeId,
              incarnationId: this.incarnationId,
              endpoints,
              rack: c.props.get('broker.rack') || null,
            },
            5000,
          );
          this.brokerEpoch = r.brokerEpoch;
          this.o.log(`registered with the controller in broker epoch ${this.brokerEpoch}`);
        }
        // A fenced broker heartbeats often, so it is unfenced as soon as it caught up (as Kafka's
        // BrokerLifecycleManager does before it is running).
        if (Date.now() - lastHeartbeat >= (fenced ? 200 : interval)) {
          lastHeartbeat = Date.now();
          const r = await this.controllerCall(
            {
              type: 'heartbeat',
              brokerId: c.nodeId,
              brokerEpoch: this.brokerEpoch,
              metadataOffset: this.image.offset,
            },
            Math.max(1000, interval),
          );
          if (r.error === 'STALE_BROKER_EPOCH') this.brokerEpoch = -1;
          else {
            if (fenced && !r.fenced) {
              this.o.log('unfenced: serving as a broker');
              this.replicas!.removeStrayLogs();
              const open = this.openClientListeners;
              this.openClientListeners = undefined;
              await open?.().catch((err: Error) =>
                this.o.fatal(`cannot open the client listeners: ${err.message}`),
              );
            }
            fenced = r.fenced;
          }
        }
      } catch (err) {
        this.o.log(`controller unreachable: ${(err as Error).message}`);
      }
      await sleep(100);
    }
  }

  /**
   * Controlled shutdown (controlled.shutdown.enable): the controller moves this broker's leaderships
   * and ISR places to the others before it goes, instead of after broker.session.timeout.ms.
   */
  async shutdown(): Promise<void> {
    if (this.config.roles.broker && this.brokerEpoch >= 0)
      await this.controllerCall(
        { type: 'controlledShutdown', brokerId: this.config.nodeId, brokerEpoch: this.brokerEpoch },
        3000,
      ).catch((err) => this.o.log(`controlled shutdown failed: ${(err as Error).message}`));
    await this.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
    this.quorum?.stop();
    this.controller?.stop();
    this.groups?.stop();
    this.replicas?.stop();
    for (const p of this.peers.values()) p.close();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
