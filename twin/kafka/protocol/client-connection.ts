/** A Kafka client connection with this codec: the brokers' followers fetch from leaders with it. */
import net from 'node:net';
import { decodeResponse, encodeRequest, FrameSplitter } from './frame.ts';
import type { MessageSpec } from './message-schema.ts';

interface Pending {
  spec: MessageSpec;
  version: number;
  resolve: (body: any) => void;
  reject: (err: Error) => void;
}

export class KafkaClientConnection {
  private socket: net.Socket | undefined;
  private correlation = 0;
  private pending = new Map<number, Pending>();
  private connecting: Promise<void> | undefined;
  closed = false;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly clientId: string,
  ) {}

  private connect(): Promise<void> {
    this.connecting ??= new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port });
      socket.setNoDelay(true);
      const splitter = new FrameSplitter((frame) => {
        const id = frame.readInt32BE(0);
        const p = this.pending.get(id);
        if (!p) return;
        this.pending.delete(id);
        try {
          p.resolve(decodeResponse(p.spec, p.version, frame).body);
        } catch (err) {
          p.reject(err as Error);
        }
      });
      socket.on('data', (d) => {
        try {
          splitter.push(d);
        } catch (err) {
          socket.destroy(err as Error);
        }
      });
      socket.once('connect', () => {
        this.socket = socket;
        resolve();
      });
      const fail = (err: Error) => {
        this.socket = undefined;
        this.connecting = undefined;
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        reject(err);
      };
      socket.on('error', fail);
      socket.on('close', () => fail(new Error(`connection to ${this.host}:${this.port} closed`)));
    });
    return this.connecting;
  }

  async send<T = any>(
    request: MessageSpec,
    response: MessageSpec,
    version: number,
    body: object,
    timeoutMs = 30_000,
  ): Promise<T> {
    if (this.closed) throw new Error('connection closed');
    await this.connect();
    const id = ++this.correlation & 0x7fffffff;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(`request ${request.name} to ${this.host}:${this.port} timed out after ${timeoutMs} ms`),
        );
        this.socket?.destroy();
      }, timeoutMs);
      this.pending.set(id, {
        spec: response,
        version,
        resolve: (b) => {
          clearTimeout(timer);
          resolve(b);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket!.write(encodeRequest(request, version, id, this.clientId, body));
    });
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
  }
}
