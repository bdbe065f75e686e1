/**
 * The schema codec: hand-built bytes of flexible and classic versions, round trips through every
 * version of the served messages, and requests encoded by an independent implementation (kafkajs).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { APIS } from '../../../../twin/kafka/protocol/api-table.ts';
import { decodeResponse, encodeRequest, readRequestHeader } from '../../../../twin/kafka/protocol/frame.ts';
import { decodeMessage, encodeMessage } from '../../../../twin/kafka/protocol/message-schema.ts';
import { apiVersionsRequest } from '../../../../twin/kafka/protocol/messages/api-versions.ts';
import { fetchResponse } from '../../../../twin/kafka/protocol/messages/fetch.ts';
import { metadataRequest, metadataResponse } from '../../../../twin/kafka/protocol/messages/metadata.ts';
import { produceRequest } from '../../../../twin/kafka/protocol/messages/produce.ts';
import { Reader, Writer } from '../../../../twin/kafka/protocol/primitives.ts';

const require = createRequire(import.meta.url);

describe('message schema codec', () => {
  it('encodes ApiVersions v3 with compact strings and an empty tagged-field section', () => {
    const w = new Writer();
    encodeMessage(apiVersionsRequest, 3, { clientSoftwareName: 'ab', clientSoftwareVersion: '1' }, w);
    // compact string = uvarint(length + 1) + bytes; then 0 tagged fields
    expect([...w.finish()]).toEqual([3, 0x61, 0x62, 2, 0x31, 0]);
    const w0 = new Writer();
    encodeMessage(apiVersionsRequest, 0, { clientSoftwareName: 'ab', clientSoftwareVersion: '1' }, w0);
    expect(w0.finish().length).toBe(0);
  });

  it('writes a request header v2 with a classic client id and tagged fields for flexible versions', () => {
    const frame = encodeRequest(metadataRequest, 9, 7, 'cli', {
      topics: null,
      allowAutoTopicCreation: true,
      includeTopicAuthorizedOperations: false,
    });
    const r = new Reader(frame.subarray(4));
    expect(readRequestHeader(r, (k, v) => v >= APIS.get(k)!.request.flexibleFrom)).toEqual({
      apiKey: 3,
      apiVersion: 9,
      correlationId: 7,
      clientId: 'cli',
    });
    // null compact array, allow auto creation, include cluster / topic operations, no tagged fields
    expect([...frame.subarray(4 + 2 + 2 + 4 + 2 + 3 + 1)]).toEqual([0, 1, 0, 0, 0]);
  });

  it('round-trips tagged fields (Fetch v12 DivergingEpoch) and skips unknown ones', () => {
    const body = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: 't',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 10,
              lastStableOffset: 10,
              logStartOffset: 0,
              divergingEpoch: { epoch: 3, endOffset: 42 },
              abortedTransactions: null,
              preferredReadReplica: -1,
              records: Buffer.from('xyz'),
            },
          ],
        },
      ],
    };
    const w = new Writer();
    encodeMessage(fetchResponse, 12, body, w);
    const decoded: any = decodeMessage(fetchResponse, 12, new Reader(w.finish()));
    expect(decoded.responses[0].partitions[0].divergingEpoch).toEqual({ epoch: 3, endOffset: 42 });
    expect(decoded.responses[0].partitions[0].currentLeader).toEqual({ leaderId: -1, leaderEpoch: -1 });
    expect(decoded.responses[0].partitions[0].records.toString()).toBe('xyz');
    // Version 11 has no tags: the diverging epoch is not written.
    const w11 = new Writer();
    encodeMessage(fetchResponse, 11, body, w11);
    expect(
      (decodeMessage(fetchResponse, 11, new Reader(w11.finish())) as any).responses[0].partitions[0]
        .divergingEpoch,
    ).toEqual({ epoch: -1, endOffset: -1 });
  });

  it('round-trips every served message in every version', () => {
    for (const api of APIS.values())
      for (const spec of [api.request, api.response])
        for (let v = spec.validVersions[0]; v <= spec.validVersions[1]; v++) {
          const empty = decodeMessage(spec, v, new Reader(defaultBytes(spec, v)));
          const w = new Writer();
          encodeMessage(spec, v, empty as object, w);
          expect(decodeMessage(spec, v, new Reader(w.finish())), `${spec.name} v${v}`).toEqual(empty);
        }
  });

  it('decodes a Produce v7 request that kafkajs encodes', async () => {
    const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js');
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js');
    const produceV7 = require('kafkajs/src/protocol/requests/produce/v7/request.js');
    const request = produceV7({
      acks: -1,
      timeout: 3000,
      transactionalId: null,
      compression: 0,
      topicData: [
        {
          topic: 'orders',
          partitions: [{ partition: 2, firstSequence: 0, messages: [{ key: 'k', value: 'v', headers: {} }] }],
        },
      ],
    });
    void RecordBatch;
    void Record;
    const body = (await request.encode()).buffer as Buffer;
    const decoded: any = decodeMessage(produceRequest, 7, new Reader(body));
    expect(decoded).toMatchObject({ transactionalId: null, acks: -1, timeoutMs: 3000 });
    expect(decoded.topicData[0].name).toBe('orders');
    expect(decoded.topicData[0].partitionData[0].index).toBe(2);
    expect(decoded.topicData[0].partitionData[0].records.length).toBeGreaterThan(61);
  });

  it('encodes a Metadata v6 response that kafkajs decodes', async () => {
    const { parse, decode } = require('kafkajs/src/protocol/requests/metadata/v6/response.js');
    const w = new Writer();
    encodeMessage(
      metadataResponse,
      6,
      {
        throttleTimeMs: 0,
        brokers: [{ nodeId: 1, host: 'kafka-1', port: 9092, rack: null }],
        clusterId: 'c1',
        controllerId: 1,
        topics: [
          {
            errorCode: 0,
            name: 'orders',
            isInternal: false,
            partitions: [
              {
                errorCode: 0,
                partitionIndex: 0,
                leaderId: 1,
                replicaNodes: [1, 2],
                isrNodes: [1],
                offlineReplicas: [2],
              },
            ],
          },
        ],
      },
      w,
    );
    const md = await parse(await decode(w.finish()));
    expect(md.brokers).toEqual([{ nodeId: 1, host: 'kafka-1', port: 9092, rack: null }]);
    expect(md.topicMetadata[0].partitionMetadata[0]).toMatchObject({
      partitionId: 0,
      leader: 1,
      replicas: [1, 2],
      isr: [1],
      offlineReplicas: [2],
    });
  });

  it('reads a response frame with header v1 for flexible versions and v0 for ApiVersions', () => {
    const w = new Writer().int32(9).uvarint(0);
    encodeMessage(
      metadataResponse,
      12,
      { brokers: [], topics: [], clusterId: null, controllerId: -1, throttleTimeMs: 0 },
      w,
    );
    expect(decodeResponse<any>(metadataResponse, 12, w.finish()).correlationId).toBe(9);
  });
});

/** The bytes of a message with every field at its default (built by encoding an empty object). */
function defaultBytes(spec: Parameters<typeof encodeMessage>[0], v: number): Buffer {
  const w = new Writer();
  encodeMessage(spec, v, {}, w);
  return w.finish();
}
