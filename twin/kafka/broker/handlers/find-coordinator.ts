/**
 * FindCoordinator: a group's coordinator is the leader of its __consumer_offsets partition. The topic
 * is created on the first request, with offsets.topic.num.partitions partitions and
 * offsets.topic.replication.factor replicas (refused while fewer brokers are alive, as Kafka does).
 * Transaction coordinators (key type 1) do not exist here.
 */
import { OFFSETS_TOPIC } from '../../group/group-coordinator.ts';
import { ErrorCode } from '../../protocol/error-codes.ts';
import { type BrokerContext, endpointOf, type Handler } from '../broker-context.ts';

async function ensureOffsetsTopic(ctx: BrokerContext): Promise<string | undefined> {
  if (ctx.image.topics.has(OFFSETS_TOPIC)) return undefined;
  const rf = ctx.config.int('offsets.topic.replication.factor');
  const live = ctx.image.liveBrokers().length;
  if (live < rf)
    return `Number of alive brokers '${live}' does not meet the required replication factor '${rf}' for the offsets topic (configured via 'offsets.topic.replication.factor').`;
  const r = await ctx.controllerCall(
    {
      type: 'createTopics',
      topics: [
        {
          name: OFFSETS_TOPIC,
          numPartitions: ctx.config.int('offsets.topic.num.partitions'),
          replicationFactor: rf,
          assignments: [],
          configs: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
      validateOnly: false,
    },
    10_000,
  );
  const res = r.results[0];
  if (res.errorCode !== 0 && res.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS)
    return res.errorMessage ?? `error ${res.errorCode}`;
  return undefined;
}

async function locate(ctx: BrokerContext, key: string, keyType: number, listener: string) {
  const none = (errorCode: number, errorMessage: string | null) => ({
    key,
    nodeId: -1,
    host: '',
    port: -1,
    errorCode,
    errorMessage,
  });
  if (keyType !== 0)
    return none(
      ErrorCode.INVALID_REQUEST,
      "transactions are not supported by the twin's broker: there is no transaction coordinator",
    );
  if (!key) return none(ErrorCode.INVALID_GROUP_ID, 'The group id is empty.');
  let problem: string | undefined;
  try {
    problem = await ensureOffsetsTopic(ctx);
  } catch (err) {
    problem = (err as Error).message;
  }
  if (problem) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE, problem);
  const p = ctx.image.partition(OFFSETS_TOPIC, ctx.groups.partitionFor(key));
  const leader = p?.leader ?? -1;
  const ep =
    leader >= 0 && ctx.image.brokers.get(leader)?.fenced === false
      ? endpointOf(ctx, leader, listener)
      : undefined;
  if (!ep) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
  return { key, nodeId: leader, host: ep.host, port: ep.port, errorCode: 0, errorMessage: null };
}

export const findCoordinator: Handler = async (ctx, req, info) => {
  if (info.header.apiVersion >= 4) {
    const coordinators = [];
    for (const k of req.coordinatorKeys as string[])
      coordinators.push(await locate(ctx, k, req.keyType, info.listener));
    return { throttleTimeMs: 0, coordinators };
  }
  const c = await locate(ctx, req.key, req.keyType, info.listener);
  return {
    throttleTimeMs: 0,
    errorCode: c.errorCode,
    errorMessage: c.errorMessage,
    nodeId: c.nodeId,
    host: c.host,
    port: c.port,
  };
};
