/**
 * Metadata: the live (unfenced) brokers at their advertised endpoints for the listener the client
 * used, and the topics asked for (all when null) with each partition's leader, leader epoch, replicas,
 * ISR and offline replicas. An unknown topic is created when auto.create.topics.enable and the request
 * allow it (answered LEADER_NOT_AVAILABLE until it has leaders, as Kafka does).
 */
import { ErrorCode } from '../../protocol/error-codes.ts';
import { endpointOf, type Handler } from '../broker-context.ts';

export const metadata: Handler = async (ctx, req, info) => {
  const version = info.header.apiVersion;
  const live = ctx.image.liveBrokers();
  const brokers = live
    .map((b) => ({ nodeId: b.brokerId, ep: endpointOf(ctx, b.brokerId, info.listener), rack: b.rack }))
    .filter((b) => b.ep)
    .map((b) => ({ nodeId: b.nodeId, host: b.ep!.host, port: b.ep!.port, rack: b.rack }));
  const requested: { name: string | null; topicId: string }[] | null = req.topics;
  const names =
    requested === null
      ? [...ctx.image.topics.keys()]
      : requested.map((t) => t.name ?? ctx.image.topicsById.get(t.topicId)?.name ?? '');
  const allowCreate =
    (version < 4 || req.allowAutoTopicCreation) && ctx.config.bool('auto.create.topics.enable');
  const missing = names.filter((n) => n && !ctx.image.topics.has(n));
  const created = new Map<string, number>();
  if (missing.length && allowCreate) {
    try {
      const r = await ctx.controllerCall(
        {
          type: 'createTopics',
          topics: missing.map((name) => ({
            name,
            numPartitions: -1,
            replicationFactor: -1,
            assignments: [],
            configs: [],
          })),
          validateOnly: false,
        },
        10_000,
      );
      // Created, or created meanwhile by another broker: its leaders are on their way.
      for (const res of r.results)
        created.set(
          res.name,
          res.errorCode === 0 || res.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS
            ? ErrorCode.LEADER_NOT_AVAILABLE
            : res.errorCode,
        );
    } catch (err) {
      ctx.log(`auto-creating ${missing.join(',')} failed: ${(err as Error).message}`);
      for (const n of missing) created.set(n, ErrorCode.LEADER_NOT_AVAILABLE);
    }
  }
  const liveIds = new Set(live.map((b) => b.brokerId));
  const topics = names.map((name) => {
    const t = ctx.image.topics.get(name);
    if (!t)
      return {
        errorCode:
          created.get(name) ??
          (name ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.INVALID_TOPIC_EXCEPTION),
        name,
        topicId: '0'.repeat(32),
        isInternal: false,
        partitions: [],
      };
    return {
      errorCode: 0,
      name,
      topicId: t.topicId,
      isInternal: name.startsWith('__'),
      partitions: t.partitions.map((p) => ({
        errorCode: p.leader === -1 || !liveIds.has(p.leader) ? ErrorCode.LEADER_NOT_AVAILABLE : 0,
        partitionIndex: p.partition,
        leaderId: liveIds.has(p.leader) ? p.leader : -1,
        leaderEpoch: p.leaderEpoch,
        replicaNodes: p.replicas,
        isrNodes: p.isr,
        offlineReplicas: p.replicas.filter((r) => !liveIds.has(r)),
      })),
    };
  });
  return {
    throttleTimeMs: 0,
    brokers,
    clusterId: ctx.config.clusterId,
    // KRaft brokers name a live broker as the controller: clients cannot reach the controllers.
    // Twin simplification: always the answering broker (Kafka picks a random live one).
    controllerId: live.length ? ctx.config.nodeId : -1,
    topics,
  };
};
