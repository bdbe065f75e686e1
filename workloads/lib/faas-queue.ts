import {
  AckPolicy,
  type ConnectionOptions,
  connect,
  type JetStreamClient,
  type NatsConnection,
  nanos,
  RetentionPolicy,
  StorageType,
} from 'nats';
import { log } from './log.ts';

/**
 * The asynchronous calls of OpenFaaS on NATS JetStream: a work-queue stream named after the channel
 * (faas-request) holds each QueueRequest the gateway publishes until a queue worker acknowledges it,
 * and the workers share one durable pull consumer, so each call goes to one worker.
 */
export interface QueueRequest {
  Header: Record<string, string[]>;
  Host: string;
  /** The call's body, base64 (Go's []byte in JSON). */
  Body: string;
  Method: string;
  Path: string;
  QueryString: string;
  Function: string;
  CallbackUrl?: string;
}

export const CONSUMER_NAME = 'faas-workers';

export class FaasQueue {
  private connecting: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;

  constructor(
    private readonly server: string,
    readonly channel: string,
    private readonly clientName: string,
  ) {}

  /** Connects (retrying until NATS answers) and makes sure the stream exists. */
  connect(): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
    this.connecting ??= (async () => {
      const options: ConnectionOptions = {
        servers: this.server,
        name: this.clientName,
        waitOnFirstConnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
      };
      const nc = await connect(options);
      log('info', 'connected to NATS', { server: this.server, client: this.clientName });
      const jsm = await nc.jetstreamManager();
      try {
        await jsm.streams.info(this.channel);
      } catch {
        try {
          await jsm.streams.add({
            name: this.channel,
            subjects: [this.channel],
            retention: RetentionPolicy.Workqueue,
            storage: StorageType.File,
          });
        } catch (err) {
          // Another gateway or worker created it first.
          await jsm.streams.info(this.channel).catch(() => {
            throw err;
          });
        }
      }
      return { nc, js: nc.jetstream() };
    })();
    this.connecting.catch(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async publish(request: QueueRequest, timeoutMs = 5000): Promise<void> {
    const { js } = await withTimeout(this.connect(), timeoutMs, `NATS at ${this.server} did not answer`);
    await js.publish(this.channel, new TextEncoder().encode(JSON.stringify(request)), { timeout: timeoutMs });
  }

  /** The durable consumer the workers share, created if absent (ack wait: how long a call may take before it is delivered again). */
  async ensureConsumer(ackWaitMs: number, maxAckPending: number): Promise<void> {
    const { nc } = await this.connect();
    const jsm = await nc.jetstreamManager();
    try {
      await jsm.consumers.info(this.channel, CONSUMER_NAME);
    } catch {
      await jsm.consumers
        .add(this.channel, {
          durable_name: CONSUMER_NAME,
          ack_policy: AckPolicy.Explicit,
          ack_wait: nanos(ackWaitMs),
          max_ack_pending: maxAckPending,
        })
        .catch(async (err) => {
          await jsm.consumers.info(this.channel, CONSUMER_NAME).catch(() => {
            throw err;
          });
        });
    }
  }

  async close(): Promise<void> {
    const c = await this.connecting?.catch(() => undefined);
    await c?.nc.drain().catch(() => {});
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
