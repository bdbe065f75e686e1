/** The APIs the broker serves, with the versions it advertises in ApiVersions (their schemas' ranges). */

import type { MessageSpec } from './message-schema.ts';
import { apiVersionsRequest, apiVersionsResponse } from './messages/api-versions.ts';
import { createTopicsRequest, createTopicsResponse } from './messages/create-topics.ts';
import { deleteTopicsRequest, deleteTopicsResponse } from './messages/delete-topics.ts';
import { describeConfigsRequest, describeConfigsResponse } from './messages/describe-configs.ts';
import { describeGroupsRequest, describeGroupsResponse } from './messages/describe-groups.ts';
import { fetchRequest, fetchResponse } from './messages/fetch.ts';
import { findCoordinatorRequest, findCoordinatorResponse } from './messages/find-coordinator.ts';
import { heartbeatRequest, heartbeatResponse } from './messages/heartbeat.ts';
import { initProducerIdRequest, initProducerIdResponse } from './messages/init-producer-id.ts';
import { joinGroupRequest, joinGroupResponse } from './messages/join-group.ts';
import { leaveGroupRequest, leaveGroupResponse } from './messages/leave-group.ts';
import { listGroupsRequest, listGroupsResponse } from './messages/list-groups.ts';
import { listOffsetsRequest, listOffsetsResponse } from './messages/list-offsets.ts';
import { metadataRequest, metadataResponse } from './messages/metadata.ts';
import { offsetCommitRequest, offsetCommitResponse } from './messages/offset-commit.ts';
import { offsetFetchRequest, offsetFetchResponse } from './messages/offset-fetch.ts';
import { produceRequest, produceResponse } from './messages/produce.ts';
import { syncGroupRequest, syncGroupResponse } from './messages/sync-group.ts';

export interface ApiSpec {
  key: number;
  name: string;
  request: MessageSpec;
  response: MessageSpec;
}

export const API = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  InitProducerId: 22,
  DescribeConfigs: 32,
} as const;

const pairs: [string, MessageSpec, MessageSpec][] = [
  ['Produce', produceRequest, produceResponse],
  ['Fetch', fetchRequest, fetchResponse],
  ['ListOffsets', listOffsetsRequest, listOffsetsResponse],
  ['Metadata', metadataRequest, metadataResponse],
  ['OffsetCommit', offsetCommitRequest, offsetCommitResponse],
  ['OffsetFetch', offsetFetchRequest, offsetFetchResponse],
  ['FindCoordinator', findCoordinatorRequest, findCoordinatorResponse],
  ['JoinGroup', joinGroupRequest, joinGroupResponse],
  ['Heartbeat', heartbeatRequest, heartbeatResponse],
  ['LeaveGroup', leaveGroupRequest, leaveGroupResponse],
  ['SyncGroup', syncGroupRequest, syncGroupResponse],
  ['DescribeGroups', describeGroupsRequest, describeGroupsResponse],
  ['ListGroups', listGroupsRequest, listGroupsResponse],
  ['ApiVersions', apiVersionsRequest, apiVersionsResponse],
  ['CreateTopics', createTopicsRequest, createTopicsResponse],
  ['DeleteTopics', deleteTopicsRequest, deleteTopicsResponse],
  ['InitProducerId', initProducerIdRequest, initProducerIdResponse],
  ['DescribeConfigs', describeConfigsRequest, describeConfigsResponse],
];

export const APIS = new Map<number, ApiSpec>(
  pairs.map(([name, request, response]) => [
    request.apiKey,
    { key: request.apiKey, name, request, response },
  ]),
);

/**
 * Names of APIs Kafka has and this broker does not serve, for the log line when a client sends one
 * anyway (Kafka closes such a connection: the API is not enabled on the listener).
 */
export const NOT_SERVED: Record<number, string> = {
  17: 'SaslHandshake',
  21: 'DeleteRecords',
  23: 'OffsetForLeaderEpoch',
  24: 'AddPartitionsToTxn (transactions)',
  25: 'AddOffsetsToTxn (transactions)',
  26: 'EndTxn (transactions)',
  27: 'WriteTxnMarkers (transactions)',
  28: 'TxnOffsetCommit (transactions)',
  29: 'DescribeAcls',
  30: 'CreateAcls',
  31: 'DeleteAcls',
  33: 'AlterConfigs',
  36: 'SaslAuthenticate',
  37: 'CreatePartitions',
  42: 'DeleteGroups',
  44: 'IncrementalAlterConfigs',
  60: 'DescribeCluster',
  68: 'ConsumerGroupHeartbeat (KIP-848 consumer protocol)',
};
