/**
 * The cluster metadata every node replays from the committed metadata log: brokers and whether they
 * are fenced, topics, partitions (replicas, ISR, leader, leader epoch, partition epoch), topic
 * configurations, the next producer id. Pure: no sockets, no timers.
 */
import type { MetadataRecord } from './metadata-records.ts';

export interface BrokerRegistration {
  brokerId: number;
  incarnationId: string;
  brokerEpoch: number;
  endpoints: { name: string; host: string; port: number }[];
  rack: string | null;
  fenced: boolean;
}

export interface PartitionState {
  topicId: string;
  topic: string;
  partition: number;
  replicas: number[];
  isr: number[];
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
}

export interface TopicState {
  name: string;
  topicId: string;
  partitions: PartitionState[];
  configs: Map<string, string>;
}

export class MetadataImage {
  readonly brokers = new Map<number, BrokerRegistration>();
  readonly topics = new Map<string, TopicState>();
  readonly topicsById = new Map<string, TopicState>();
  nextProducerId = 1000;
  /** The offset of the last record applied, + 1. */
  offset = 0;

  apply(
    record: MetadataRecord,
    offset: number,
  ): { changedPartitions: PartitionState[]; removedTopics: TopicState[] } {
    this.offset = offset + 1;
    const changedPartitions: PartitionState[] = [];
    const removedTopics: TopicState[] = [];
    switch (record.type) {
      case 'RegisterBroker':
        this.brokers.set(record.brokerId, {
          brokerId: record.brokerId,
          incarnationId: record.incarnationId,
          brokerEpoch: record.brokerEpoch,
          endpoints: record.endpoints,
          rack: record.rack,
          fenced: true,
        });
        break;
      case 'FenceBroker':
      case 'UnfenceBroker': {
        const b = this.brokers.get(record.brokerId);
        if (b && b.brokerEpoch === record.brokerEpoch) b.fenced = record.type === 'FenceBroker';
        break;
      }
      case 'Topic': {
        const t: TopicState = {
          name: record.name,
          topicId: record.topicId,
          partitions: [],
          configs: new Map(),
        };
        this.topics.set(record.name, t);
        this.topicsById.set(record.topicId, t);
        break;
      }
      case 'Config': {
        const t = this.topics.get(record.topic);
        if (!t) break;
        if (record.value === null) t.configs.delete(record.name);
        else t.configs.set(record.name, record.value);
        break;
      }
      case 'Partition': {
        const t = this.topicsById.get(record.topicId);
        if (!t) break;
        const p: PartitionState = {
          topicId: record.topicId,
          topic: t.name,
          partition: record.partition,
          replicas: record.replicas,
          isr: record.isr,
          leader: record.leader,
          leaderEpoch: record.leaderEpoch,
          partitionEpoch: record.partitionEpoch,
        };
        t.partitions[record.partition] = p;
        changedPartitions.push(p);
        break;
      }
      case 'PartitionChange': {
        const p = this.topicsById.get(record.topicId)?.partitions[record.partition];
        if (!p) break;
        if (record.isr) p.isr = record.isr;
        if (record.leader !== undefined && record.leader !== p.leader) {
          p.leader = record.leader;
          p.leaderEpoch++;
        }
        p.partitionEpoch++;
        changedPartitions.push(p);
        break;
      }
      case 'RemoveTopic': {
        const t = this.topicsById.get(record.topicId);
        if (!t) break;
        this.topicsById.delete(record.topicId);
        this.topics.delete(t.name);
        removedTopics.push(t);
        break;
      }
      case 'ProducerIds':
        this.nextProducerId = record.nextProducerId;
        break;
      case 'LeaderChange':
        break;
    }
    return { changedPartitions, removedTopics };
  }

  liveBrokers(): BrokerRegistration[] {
    return [...this.brokers.values()].filter((b) => !b.fenced).sort((a, b) => a.brokerId - b.brokerId);
  }

  partition(topic: string, index: number): PartitionState | undefined {
    return this.topics.get(topic)?.partitions[index];
  }
}
