/**
 * A trivial Kafka "broker" for measuring a client's own limit: one node that answers ApiVersions,
 * Metadata (every topic asked for has `partitions` partitions led by itself) and Produce (every batch
 * acknowledged at once, nothing kept). What a client reaches against it is what the client can do on
 * this machine, whatever the broker.
 */
import net from 'node:net';
import { apiKeys } from '../twin/kafka/broker/handlers/api-versions.ts';
import { APIS } from '../twin/kafka/protocol/api-table.ts';
import { encodeResponse, FrameSplitter, readRequestHeader } from '../twin/kafka/protocol/frame.ts';
import { decodeMessage } from '../twin/kafka/protocol/message-schema.ts';
import { Reader } from '../twin/kafka/protocol/primitives.ts';
import { splitBatches } from '../twin/kafka/protocol/record-batch.ts';

export async function startSink(
  host: string,
  port: number,
  partitions: number,
): Promise<{ records: () => number; close: () => Promise<void> }> {
  let records = 0;
  const offsets = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const splitter = new FrameSplitter((frame) => {
      const r = new Reader(frame);
      const h = readRequestHeader(
        r,
        (k, v) => v >= (APIS.get(k)?.request.flexibleFrom ?? Number.POSITIVE_INFINITY),
      );
      const api = APIS.get(h.apiKey)!;
      const req: any = decodeMessage(api.request, h.apiVersion, r);
      let body: object | undefined;
      if (h.apiKey === 18)
        body = {
          errorCode: 0,
          apiKeys: apiKeys().filter((a) => a.apiKey === 0 || a.apiKey === 3 || a.apiKey === 18),
          throttleTimeMs: 0,
        };
      else if (h.apiKey === 3)
        body = {
          throttleTimeMs: 0,
          brokers: [{ nodeId: 0, host, port, rack: null }],
          clusterId: 'sink',
          controllerId: 0,
          topics: (req.topics ?? []).map((t: any) => ({
            errorCode: 0,
            name: t.name,
            topicId: '1'.repeat(32),
            isInternal: false,
            partitions: Array.from({ length: partitions }, (_, p) => ({
              errorCode: 0,
              partitionIndex: p,
              leaderId: 0,
              leaderEpoch: 0,
              replicaNodes: [0],
              isrNodes: [0],
              offlineReplicas: [],
            })),
          })),
        };
      else if (h.apiKey === 0) {
        body = {
          throttleTimeMs: 0,
          responses: req.topicData.map((t: any) => ({
            name: t.name,
            partitionResponses: t.partitionData.map((p: any) => {
              const n = splitBatches(p.records).batches.reduce((a, b) => a + b.recordCount, 0);
              records += n;
              const k = `${t.name}-${p.index}`;
              const base = offsets.get(k) ?? 0;
              offsets.set(k, base + n);
              return {
                index: p.index,
                errorCode: 0,
                baseOffset: base,
                logAppendTimeMs: -1,
                logStartOffset: 0,
                recordErrors: [],
                errorMessage: null,
              };
            }),
          })),
        };
        if (req.acks === 0) body = undefined;
      } else {
        socket.destroy();
        return;
      }
      if (body) socket.write(encodeResponse(api.response, h.apiVersion, h.correlationId, body));
    });
    socket.on('data', (d) => splitter.push(d));
  });
  await new Promise<void>((resolve) => server.listen({ host, port }, resolve));
  return {
    records: () => records,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
