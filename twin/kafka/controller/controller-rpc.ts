/**
 * The messages between the nodes' controller parts and brokers, on the controller listener.
 *
 * Twin simplification: KRaft's inter-node RPCs (Vote, BeginQuorumEpoch, Fetch of __cluster_metadata,
 * BrokerRegistration, BrokerHeartbeat, AlterPartition, CreateTopics forwarding) carry the same
 * information here but are encoded as length-prefixed JSON, not Kafka's binary schemas; clients never
 * use the controller listener.
 */
import net from 'node:net';
import { FrameSplitter } from '../protocol/frame.ts';

export type RpcHandler = (request: any) => Promise<any>;

const frame = (obj: unknown) => {
  const body = Buffer.from(JSON.stringify(obj));
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
};

export function serveRpc(server: net.Server, handler: RpcHandler): void {
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    const splitter = new FrameSplitter((f) => {
      const { id, body } = JSON.parse(f.toString('utf8')) as { id: number; body: any };
      handler(body).then(
        (result) => socket.writable && socket.write(frame({ id, result })),
        (err) => socket.writable && socket.write(frame({ id, error: (err as Error).message })),
      );
    });
    socket.on('data', (d) => {
      try {
        splitter.push(d);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => {});
  });
}

/** One connection per peer, reconnected on demand; requests time out rather than hang on a dead peer. */
export class RpcClient {
  private socket: net.Socket | undefined;
  private next = 0;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly resolveHost: (host: string) => Promise<string> = async (h) => h,
  ) {}

  private async ensure(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const address = await this.resolveHost(this.host);
    const socket = net.connect({ host: address, port: this.port });
    socket.setNoDelay(true);
    this.socket = socket;
    const splitter = new FrameSplitter((f) => {
      const { id, result, error } = JSON.parse(f.toString('utf8')) as {
        id: number;
        result?: any;
        error?: string;
      };
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (error !== undefined) p.reject(new Error(error));
      else p.resolve(result);
    });
    socket.on('data', (d) => splitter.push(d));
    const fail = () => {
      if (this.socket === socket) this.socket = undefined;
      for (const p of this.pending.values())
        p.reject(new Error(`controller connection to ${this.host}:${this.port} lost`));
      this.pending.clear();
    };
    socket.on('error', fail);
    socket.on('close', fail);
    return socket;
  }

  async call<T = any>(body: object, timeoutMs: number): Promise<T> {
    const socket = await this.ensure();
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`controller request ${(body as any).type} to ${this.host}:${this.port} timed out`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      socket.write(frame({ id, body }));
    });
  }

  close(): void {
    this.socket?.destroy();
  }
}
