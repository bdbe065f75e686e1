/**
 * The records of the metadata log, after KRaft's (RegisterBrokerRecord, FenceBrokerRecord,
 * UnfenceBrokerRecord, TopicRecord, PartitionRecord, PartitionChangeRecord, RemoveTopicRecord,
 * ConfigRecord, ProducerIdsRecord, LeaderChangeMessage).
 */
export type MetadataRecord =
  | { type: 'LeaderChange'; leaderId: number; epoch: number }
  | {
      type: 'RegisterBroker';
      brokerId: number;
      incarnationId: string;
      brokerEpoch: number;
      /** The advertised listeners; the inter-broker one first. */
      endpoints: { name: string; host: string; port: number }[];
      rack: string | null;
    }
  | { type: 'FenceBroker'; brokerId: number; brokerEpoch: number }
  | { type: 'UnfenceBroker'; brokerId: number; brokerEpoch: number }
  | { type: 'Topic'; name: string; topicId: string }
  | { type: 'Config'; topic: string; name: string; value: string | null }
  | {
      type: 'Partition';
      topicId: string;
      partition: number;
      replicas: number[];
      isr: number[];
      leader: number;
      leaderEpoch: number;
      partitionEpoch: number;
    }
  | { type: 'PartitionChange'; topicId: string; partition: number; isr?: number[]; leader?: number }
  | { type: 'RemoveTopic'; topicId: string }
  | { type: 'ProducerIds'; brokerId: number; nextProducerId: number };
