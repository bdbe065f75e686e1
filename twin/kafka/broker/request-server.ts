/**
 * The broker's client listeners: size-prefixed requests read one at a time per connection and answered
 * in order (Kafka mutes a connection while a request is in flight), dispatched by API key. A version
 * outside the advertised range gets UNSUPPORTED_VERSION for ApiVersions (with the supported versions,
 * in version 0 of the response) and closes the connection otherwise; an API this broker does not
 * serve closes the connection, as Kafka does for an API not enabled on a listener.
 */
import type net from 'node:net';
import { APIS, NOT_SERVED } from '../protocol/api-table.ts';
import { ErrorCode } from '../protocol/error-codes.ts';
import { encodeResponse, FrameSplitter, readRequestHeader } from '../protocol/frame.ts';
import { decodeMessage } from '../protocol/message-schema.ts';
import { Reader } from '../protocol/primitives.ts';
import type { BrokerContext, Handler } from './broker-context.ts';
import { apiKeys, apiVersions } from './handlers/api-versions.ts';
import { createTopics } from './handlers/create-topics.ts';
import { deleteTopics } from './handlers/delete-topics.ts';
import { describeConfigs } from './handlers/describe-configs.ts';
import { describeGroups } from './handlers/describe-groups.ts';
import { fetch } from './handlers/fetch.ts';
import { findCoordinator } from './handlers/find-coordinator.ts';
import { heartbeat } from './handlers/heartbeat.ts';
import { initProducerId } from './handlers/init-producer-id.ts';
import { joinGroup } from './handlers/join-group.ts';
import { leaveGroup } from './handlers/leave-group.ts';
import { listGroups } from './handlers/list-groups.ts';
import { listOffsets } from './handlers/list-offsets.ts';
import { metadata } from './handlers/metadata.ts';
import { offsetCommit } from './handlers/offset-commit.ts';
import { offsetFetch } from './handlers/offset-fetch.ts';
import { produce } from './handlers/produce.ts';
import { syncGroup } from './handlers/sync-group.ts';

/** TWIN_KAFKA_DEBUG=1 logs every request (for finding out what a client asks). */
const DEBUG = process.env['TWIN_KAFKA_DEBUG'] === '1';

const HANDLERS: Record<number, Handler> = {
  0: produce,
  1: fetch,
  2: listOffsets,
  3: metadata,
  8: offsetCommit,
  9: offsetFetch,
  10: findCoordinator,
  11: joinGroup,
  12: heartbeat,
  13: leaveGroup,
  14: syncGroup,
  15: describeGroups,
  16: listGroups,
  18: apiVersions,
  19: createTopics,
  20: deleteTopics,
  22: initProducerId,
  32: describeConfigs,
};

/** Request header v2 (with tagged fields) for flexible versions; ApiVersions too (only its response header stays v0). */
const flexible = (apiKey: number, version: number) => {
  const api = APIS.get(apiKey);
  return api !== undefined && version >= api.request.flexibleFrom;
};

export function serveClients(server: net.Server, ctx: BrokerContext, listener: string): void {
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    const clientHost = socket.remoteAddress ?? '';
    const queue: Buffer[] = [];
    let busy = false;
    const drain = async () => {
      if (busy) return;
      busy = true;
      while (queue.length && !socket.destroyed) {
        const frame = queue.shift()!;
        try {
          const out = await handle(frame);
          if (out && socket.writable) socket.write(out);
        } catch (err) {
          ctx.log(`request from ${clientHost} failed: ${(err as Error).stack ?? err}`);
          socket.destroy();
        }
      }
      busy = false;
    };
    const handle = async (frame: Buffer): Promise<Buffer | undefined> => {
      const r = new Reader(frame);
      const header = readRequestHeader(r, flexible);
      const api = APIS.get(header.apiKey);
      if (!api) {
        const name = NOT_SERVED[header.apiKey] ?? `api key ${header.apiKey}`;
        ctx.log(
          `closing connection from ${clientHost} (${header.clientId}): ${name} is not served by the twin's broker`,
        );
        socket.destroy();
        return undefined;
      }
      const [min, max] = api.request.validVersions;
      if (header.apiVersion < min || header.apiVersion > max) {
        if (header.apiKey === 18)
          return encodeResponse(api.response, 0, header.correlationId, {
            errorCode: ErrorCode.UNSUPPORTED_VERSION,
            apiKeys: apiKeys(),
          });
        ctx.log(
          `closing connection from ${clientHost}: ${api.name} version ${header.apiVersion} is outside ${min}-${max}`,
        );
        socket.destroy();
        return undefined;
      }
      const body = decodeMessage(api.request, header.apiVersion, r);
      if (DEBUG)
        ctx.log(
          `request ${api.name} v${header.apiVersion} from ${header.clientId}: ${JSON.stringify(body, (_k, v) => (v?.type === 'Buffer' ? `<${v.data.length} bytes>` : v)).slice(0, 400)}`,
        );
      const response = await HANDLERS[header.apiKey]!(ctx, body, { header, listener, clientHost });
      if (response === undefined) return undefined;
      return encodeResponse(api.response, header.apiVersion, header.correlationId, response);
    };
    const splitter = new FrameSplitter((f) => {
      queue.push(f);
      void drain();
    });
    socket.on('data', (d) => {
      try {
        splitter.push(d);
      } catch (err) {
        ctx.log(`closing connection from ${clientHost}: ${(err as Error).message}`);
        socket.destroy();
      }
    });
    socket.on('error', () => {});
  });
}
