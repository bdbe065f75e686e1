/**
 * The active controller (the metadata quorum's leader): broker registration and heartbeats, fencing a
 * broker whose session expired (`broker.session.timeout.ms`) and moving its partitions' leadership to
 * another ISR member, unfencing a broker that caught up with the metadata, topic creation (replica
 * placement, configs) and deletion, ISR changes proposed by partition leaders (AlterPartition), and
 * producer id allocation. Every decision is a metadata record, answered once it is committed.
 *
 * Twin simplification: no preferred-leader rebalancing (auto.leader.rebalance.enable): leadership stays
 * where an election put it; a broker that registers again replaces its previous incarnation at once
 * (its leaderships move as on fencing) instead of waiting for the old session to expire; a controlled
 * shutdown fences the broker in one step.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, KafkaApiError } from '../protocol/error-codes.ts';
import type { MetadataImage, PartitionState } from './metadata-image.ts';
import type { MetadataRecord } from './metadata-records.ts';
import { onBrokerFenced, onBrokerUnfenced, placeReplicas } from './partition-election.ts';
import { NotLeaderError, type Quorum } from './quorum.ts';
import { validateTopicConfig, validateTopicName } from './topic-configs.ts';

export interface ControllerDefaults {
  numPartitions: number;
  defaultReplicationFactor: number;
  uncleanLeaderElection: boolean;
  sessionTimeoutMs: number;
}

export interface CreateTopicSpec {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  assignments: { partitionIndex: number; brokerIds: number[] }[];
  configs: { name: string; value: string | null }[];
}

export class Controller {
  private readonly heartbeats = new Map<number, number>();
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private placementStart = Math.floor(Math.random() * 1000);

  constructor(
    private readonly quorum: Quorum,
    private readonly image: MetadataImage,
    private readonly defaults: ControllerDefaults,
    private readonly log: (m: string) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.checkSessions(), 250);
  }
  stop(): void {
    clearInterval(this.timer);
  }

  /** Called when this node becomes the active controller: every broker gets a full session from now. */
  activated(): void {
    const now = Date.now();
    for (const b of this.image.brokers.keys()) this.heartbeats.set(b, now);
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.chain.then(op, op);
    this.chain = run.catch(() => {});
    return run;
  }

  private requireActive(): void {
    if (this.quorum.role !== 'leader') throw new NotLeaderError('NOT_CONTROLLER');
  }

  private unclean(p: PartitionState): boolean {
    const v = this.image.topicsById.get(p.topicId)?.configs.get('unclean.leader.election.enable');
    return v === undefined ? this.defaults.uncleanLeaderElection : v === 'true';
  }

  private isLive = (id: number) => this.image.brokers.get(id)?.fenced === false;

  private fencingRecords(brokerId: number, isLive: (id: number) => boolean): MetadataRecord[] {
    const out: MetadataRecord[] = [];
    for (const t of this.image.topics.values())
      for (const p of t.partitions) {
        const change = onBrokerFenced(p, brokerId, isLive, this.unclean(p));
        if (change)
          out.push({ type: 'PartitionChange', topicId: p.topicId, partition: p.partition, ...change });
      }
    return out;
  }

  private async checkSessions(): Promise<void> {
    if (this.quorum.role !== 'leader') return;
    const now = Date.now();
    for (const b of this.image.brokers.values()) {
      if (b.fenced) continue;
      const last = this.heartbeats.get(b.brokerId) ?? now;
      if (!this.heartbeats.has(b.brokerId)) this.heartbeats.set(b.brokerId, now);
      if (now - last <= this.defaults.sessionTimeoutMs) continue;
      await this.serial(async () => {
        const current = this.image.brokers.get(b.brokerId);
        if (!current || current.fenced) return;
        this.log(
          `broker ${b.brokerId} missed heartbeats for ${now - last} ms (broker.session.timeout.ms ${this.defaults.sessionTimeoutMs}): fencing it`,
        );
        const isLive = (id: number) => id !== b.brokerId && this.isLive(id);
        await this.quorum.append([
          { type: 'FenceBroker', brokerId: b.brokerId, brokerEpoch: current.brokerEpoch },
          ...this.fencingRecords(b.brokerId, isLive),
        ]);
      }).catch(() => {});
    }
  }

  /** Handles a controller RPC from a broker. */
  async handle(req: any): Promise<any> {
    if (this.quorum.role !== 'leader') return { error: 'NOT_CONTROLLER', leaderId: this.quorum.leaderId };
    try {
      switch (req.type) {
        case 'registerBroker':
          return await this.registerBroker(req);
        case 'heartbeat':
          return await this.heartbeat(req);
        case 'controlledShutdown':
          return await this.serial(async () => {
            const b = this.image.brokers.get(req.brokerId);
            if (!b || b.brokerEpoch !== req.brokerEpoch || b.fenced) return {};
            this.log(`broker ${req.brokerId} shuts down: moving its leaderships and fencing it`);
            const isLive = (id: number) => id !== req.brokerId && this.isLive(id);
            await this.quorum.append([
              { type: 'FenceBroker', brokerId: req.brokerId, brokerEpoch: b.brokerEpoch },
              ...this.fencingRecords(req.brokerId, isLive),
            ]);
            return {};
          });
        case 'createTopics':
          return await this.serial(() => this.createTopics(req.topics, req.validateOnly));
        case 'deleteTopics':
          return await this.serial(() => this.deleteTopics(req.names));
        case 'alterPartition':
          return await this.serial(() => this.alterPartition(req));
        case 'allocateProducerId':
          return await this.serial(async () => {
            const id = this.image.nextProducerId;
            await this.quorum.append([
              { type: 'ProducerIds', brokerId: req.brokerId, nextProducerId: id + 1 },
            ]);
            return { producerId: id };
          });
        default:
          throw new Error(`unknown controller request ${req.type}`);
      }
    } catch (err) {
      if (err instanceof NotLeaderError) return { error: 'NOT_CONTROLLER', leaderId: this.quorum.leaderId };
      throw err;
    }
  }

  private registerBroker(req: {
    brokerId: number;
    incarnationId: string;
    endpoints: { name: string; host: string; port: number }[];
    rack: string | null;
  }) {
    return this.serial(async () => {
      this.requireActive();
      const existing = this.image.brokers.get(req.brokerId);
      if (existing && existing.incarnationId === req.incarnationId)
        return { brokerEpoch: existing.brokerEpoch };
      const brokerEpoch = this.quorum.endOffset;
      const records: MetadataRecord[] = [];
      if (existing && !existing.fenced) {
        // A restarted broker registers anew: its previous incarnation's leaderships and ISR places go.
        const isLive = (id: number) => id !== req.brokerId && this.isLive(id);
        records.push(...this.fencingRecords(req.brokerId, isLive));
      }
      records.unshift({
        type: 'RegisterBroker',
        brokerId: req.brokerId,
        incarnationId: req.incarnationId,
        endpoints: req.endpoints,
        rack: req.rack,
        brokerEpoch,
      });
      await this.quorum.append(records);
      this.heartbeats.set(req.brokerId, Date.now());
      this.log(
        `broker ${req.brokerId} registered at ${req.endpoints.map((e) => `${e.name}://${e.host}:${e.port}`).join(',')} (epoch ${brokerEpoch})`,
      );
      return { brokerEpoch };
    });
  }

  private async heartbeat(req: { brokerId: number; brokerEpoch: number; metadataOffset: number }) {
    const b = this.image.brokers.get(req.brokerId);
    if (!b || b.brokerEpoch !== req.brokerEpoch) return { error: 'STALE_BROKER_EPOCH' };
    this.heartbeats.set(req.brokerId, Date.now());
    if (b.fenced && req.metadataOffset > b.brokerEpoch) {
      await this.serial(async () => {
        const current = this.image.brokers.get(req.brokerId);
        if (!current?.fenced || current.brokerEpoch !== req.brokerEpoch) return;
        const records: MetadataRecord[] = [
          { type: 'UnfenceBroker', brokerId: req.brokerId, brokerEpoch: req.brokerEpoch },
        ];
        const isLive = (id: number) => id === req.brokerId || this.isLive(id);
        for (const t of this.image.topics.values())
          for (const p of t.partitions) {
            const change = onBrokerUnfenced(p, req.brokerId, isLive, this.unclean(p));
            if (change)
              records.push({
                type: 'PartitionChange',
                topicId: p.topicId,
                partition: p.partition,
                ...change,
              });
          }
        await this.quorum.append(records);
        this.log(`broker ${req.brokerId} caught up with the metadata: unfenced`);
      });
    }
    return { fenced: this.image.brokers.get(req.brokerId)?.fenced ?? true };
  }

  private async createTopics(topics: CreateTopicSpec[], validateOnly: boolean) {
    this.requireActive();
    const results: any[] = [];
    const records: MetadataRecord[] = [];
    const live = this.image.liveBrokers().map((b) => b.brokerId);
    const naming = new Set<string>();
    for (const t of topics) {
      try {
        validateTopicName(t.name);
        if (this.image.topics.has(t.name) || naming.has(t.name))
          throw new KafkaApiError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);
        for (const c of t.configs) validateTopicConfig(c.name, c.value);
        let assignment: number[][];
        if (t.assignments.length) {
          if (t.numPartitions !== -1 || t.replicationFactor !== -1)
            throw new KafkaApiError(
              ErrorCode.INVALID_REQUEST,
              'Both numPartitions or replicationFactor and replicasAssignments were set.',
            );
          assignment = [...t.assignments]
            .sort((a, b) => a.partitionIndex - b.partitionIndex)
            .map((a) => a.brokerIds);
          for (const replicas of assignment)
            for (const r of replicas)
              if (!this.image.brokers.has(r))
                throw new KafkaApiError(
                  ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                  `The manual partition assignment includes broker ${r}, but no such broker is registered.`,
                );
        } else {
          const partitions = t.numPartitions === -1 ? this.defaults.numPartitions : t.numPartitions;
          const rf =
            t.replicationFactor === -1 ? this.defaults.defaultReplicationFactor : t.replicationFactor;
          if (partitions < 1)
            throw new KafkaApiError(
              ErrorCode.INVALID_PARTITIONS,
              'Number of partitions was set to an invalid non-positive value.',
            );
          if (rf < 1)
            throw new KafkaApiError(
              ErrorCode.INVALID_REPLICATION_FACTOR,
              'Replication factor must be larger than 0, or -1 to use the default value.',
            );
          if (rf > live.length)
            throw new KafkaApiError(
              ErrorCode.INVALID_REPLICATION_FACTOR,
              `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${live.length} broker(s) are registered.`,
            );
          assignment = placeReplicas(live, partitions, rf, this.placementStart++);
        }
        const minIsr = t.configs.find((c) => c.name === 'min.insync.replicas');
        if (minIsr && Number(minIsr.value) > assignment[0]!.length)
          this.log(
            `topic ${t.name}: min.insync.replicas ${minIsr.value} exceeds the replication factor ${assignment[0]!.length}; acks=all produce will fail`,
          );
        const topicId = randomBytes(16).toString('hex');
        naming.add(t.name);
        results.push({
          name: t.name,
          topicId,
          errorCode: 0,
          errorMessage: null,
          numPartitions: assignment.length,
          replicationFactor: assignment[0]!.length,
        });
        records.push({ type: 'Topic', name: t.name, topicId });
        for (const c of t.configs)
          records.push({ type: 'Config', topic: t.name, name: c.name, value: c.value });
        assignment.forEach((replicas, partition) => {
          const isr = replicas.filter((r) => live.includes(r));
          records.push({
            type: 'Partition',
            topicId,
            partition,
            replicas,
            isr: isr.length ? isr : replicas,
            leader: isr[0] ?? -1,
            leaderEpoch: 0,
            partitionEpoch: 0,
          });
        });
      } catch (err) {
        if (!(err instanceof KafkaApiError)) throw err;
        results.push({ name: t.name, errorCode: err.code, errorMessage: err.message });
      }
    }
    const offset = !validateOnly && records.length ? await this.quorum.append(records) : -1;
    return { results, offset };
  }

  private async deleteTopics(names: string[]) {
    this.requireActive();
    const results: any[] = [];
    const records: MetadataRecord[] = [];
    for (const name of names) {
      const t = this.image.topics.get(name);
      if (!t) {
        results.push({
          name,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: 'This server does not host this topic-partition.',
        });
        continue;
      }
      records.push({ type: 'RemoveTopic', topicId: t.topicId });
      results.push({ name, topicId: t.topicId, errorCode: 0 });
    }
    const offset = records.length ? await this.quorum.append(records) : -1;
    return { results, offset };
  }

  private async alterPartition(req: {
    brokerId: number;
    brokerEpoch: number;
    topicId: string;
    partition: number;
    leaderEpoch: number;
    partitionEpoch: number;
    isr: number[];
  }) {
    this.requireActive();
    const p = this.image.topicsById.get(req.topicId)?.partitions[req.partition];
    if (!p) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
    if (p.leader !== req.brokerId || p.leaderEpoch !== req.leaderEpoch)
      return { errorCode: ErrorCode.FENCED_LEADER_EPOCH, state: p };
    if (p.partitionEpoch !== req.partitionEpoch)
      return { errorCode: 95 /* INVALID_UPDATE_VERSION */, state: p };
    if (!req.isr.includes(req.brokerId)) return { errorCode: ErrorCode.INVALID_REQUEST, state: p };
    for (const r of req.isr)
      if (!p.isr.includes(r) && !this.isLive(r)) return { errorCode: 107 /* INELIGIBLE_REPLICA */, state: p };
    await this.quorum.append([
      { type: 'PartitionChange', topicId: p.topicId, partition: p.partition, isr: req.isr },
    ]);
    this.log(`${p.topic}-${p.partition}: ISR [${req.isr.join(',')}] (partition epoch ${p.partitionEpoch})`);
    return { errorCode: 0, state: p };
  }
}
