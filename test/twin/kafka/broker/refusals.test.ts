/**
 * What the twin's broker does not implement is refused as Kafka refuses it: versions outside the
 * advertised ranges (ApiVersions answers UNSUPPORTED_VERSION with its ranges), APIs it does not serve
 * (the connection is closed, as for an API not enabled on a listener; clients see them missing from
 * ApiVersions first), transactions (InitProducerId with a transactional id: INVALID_REQUEST).
 * Idempotent producers work.
 */
import net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKafkaCluster } from '../../../../twin/kafka/local-cluster.ts';
import { KafkaClientConnection } from '../../../../twin/kafka/protocol/client-connection.ts';
import { ErrorCode } from '../../../../twin/kafka/protocol/error-codes.ts';
import { decodeResponse, encodeRequest } from '../../../../twin/kafka/protocol/frame.ts';
import {
  apiVersionsRequest,
  apiVersionsResponse,
} from '../../../../twin/kafka/protocol/messages/api-versions.ts';
import {
  initProducerIdRequest,
  initProducerIdResponse,
} from '../../../../twin/kafka/protocol/messages/init-producer-id.ts';
import { Writer } from '../../../../twin/kafka/protocol/primitives.ts';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';

/** Sends one raw frame and returns the raw answer, or 'closed'. */
function exchange(host: string, frame: Buffer): Promise<Buffer | 'closed'> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port: 9092 }, () => s.write(frame));
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        s.destroy();
        resolve(buf.subarray(4, 4 + buf.readInt32BE(0)));
      }
    });
    s.on('close', () => resolve('closed'));
    s.on('error', () => resolve('closed'));
  });
}

describe('what the twin broker refuses', () => {
  const cluster = new LocalKafkaCluster({ subnet: 202, nodes: 1 });
  beforeAll(() => cluster.up(), 60_000);
  afterAll(() => cluster.down());

  it('answers an ApiVersions version it does not know with UNSUPPORTED_VERSION and its ranges (response v0)', async () => {
    const w = new Writer().int32(0).int16(18).int16(9).int32(5).string('probe').uvarint(0);
    const frame = w.finish();
    frame.writeInt32BE(frame.length - 4, 0);
    const answer = await exchange(cluster.address(0), frame);
    expect(answer).not.toBe('closed');
    const r = decodeResponse<any>(apiVersionsResponse, 0, answer as Buffer);
    expect(r.correlationId).toBe(5);
    expect(r.body.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(r.body.apiKeys.find((k: any) => k.apiKey === 0)).toEqual({
      apiKey: 0,
      minVersion: 3,
      maxVersion: 9,
    });
    expect(r.body.apiKeys.some((k: any) => k.apiKey === 24 || k.apiKey === 26)).toBe(false);
  });

  it('closes the connection on an API it does not serve (EndTxn) and on a version outside the range', async () => {
    const endTxn = new Writer()
      .int32(0)
      .int16(26)
      .int16(3)
      .int32(1)
      .string('probe')
      .uvarint(0)
      .compactString('tx')
      .int64(1)
      .int16(0)
      .bool(true)
      .uvarint(0);
    const f1 = endTxn.finish();
    f1.writeInt32BE(f1.length - 4, 0);
    expect(await exchange(cluster.address(0), f1)).toBe('closed');
    const c = new KafkaClientConnection(cluster.address(0), 9092, 'probe');
    const ok = await c.send(apiVersionsRequest, apiVersionsResponse, 3, {
      clientSoftwareName: 'probe',
      clientSoftwareVersion: '1',
    });
    expect(ok.errorCode).toBe(0);
    c.close();
    const produceV2 = encodeRequest({ ...apiVersionsRequest, apiKey: 0 }, 0, 1, 'probe', {});
    expect(await exchange(cluster.address(0), produceV2)).toBe('closed');
  });

  it('refuses InitProducerId for a transactional id with INVALID_REQUEST, and gives idempotent producers an id', async () => {
    const c = new KafkaClientConnection(cluster.address(0), 9092, 'probe');
    try {
      const tx = await c.send(initProducerIdRequest, initProducerIdResponse, 4, {
        transactionalId: 'tx-1',
        transactionTimeoutMs: 60000,
      });
      expect(tx.errorCode).toBe(ErrorCode.INVALID_REQUEST);
      const idem = await c.send(initProducerIdRequest, initProducerIdResponse, 4, {
        transactionalId: null,
        transactionTimeoutMs: 60000,
      });
      expect(idem).toMatchObject({ errorCode: 0, producerEpoch: 0 });
      expect(idem.producerId).toBeGreaterThanOrEqual(0);
    } finally {
      c.close();
    }
  });

  it("works with kafkajs's idempotent producer and fails its transactional one", async () => {
    const kafka = new Kafka({ brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 1 } });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const r = await producer.send({ topic: 'idempotent', acks: -1, messages: [{ value: 'once' }] });
    expect(r[0]!.errorCode).toBe(0);
    await producer.disconnect();
    const tx = kafka.producer({ transactionalId: 'tx-2', maxInFlightRequests: 1, idempotent: true });
    await tx.connect();
    await expect(tx.transaction()).rejects.toThrow();
    await tx.disconnect();
  });
});
