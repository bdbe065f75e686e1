/**
 * A follower's fetcher for one leader broker (Kafka's ReplicaFetcherThread): one Fetch (version 12,
 * with the replica id, each partition's log end offset and last fetched epoch) for every partition
 * this broker follows on that leader, long-polled; fetched batches are appended, the high watermark
 * follows the leader's, and a diverging epoch in the answer truncates the log first.
 */
import { KafkaClientConnection } from '../protocol/client-connection.ts';
import { ErrorCode } from '../protocol/error-codes.ts';
import { fetchRequest, fetchResponse } from '../protocol/messages/fetch.ts';
import { splitBatches } from '../protocol/record-batch.ts';
import type { Partition } from './partition.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ReplicaFetcher {
  readonly partitions = new Set<Partition>();
  private running = true;
  private connection: KafkaClientConnection | undefined;

  constructor(
    readonly nodeId: number,
    readonly leaderId: number,
    private readonly endpoint: () => { host: string; port: number } | undefined,
    private readonly onAppended: () => void,
    private readonly log: (m: string) => void,
    private readonly maxWaitMs = 500,
  ) {
    void this.loop();
  }

  stop(): void {
    this.running = false;
    this.connection?.close();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const parts = [...this.partitions].filter(
        (p) => p.role === 'follower' && p.state?.leader === this.leaderId,
      );
      const ep = this.endpoint();
      if (!parts.length || !ep) {
        await sleep(100);
        continue;
      }
      if (
        !this.connection ||
        this.connection.closed ||
        this.connection.host !== ep.host ||
        this.connection.port !== ep.port
      ) {
        this.connection?.close();
        this.connection = new KafkaClientConnection(ep.host, ep.port, `replica-fetcher-${this.nodeId}`);
      }
      const byTopic = new Map<string, Partition[]>();
      for (const p of parts) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
      try {
        const response = await this.connection.send(
          fetchRequest,
          fetchResponse,
          12,
          {
            replicaId: this.nodeId,
            maxWaitMs: this.maxWaitMs,
            minBytes: 1,
            maxBytes: 32 * 1024 * 1024,
            isolationLevel: 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [...byTopic].map(([topic, ps]) => ({
              topic,
              partitions: ps.map((p) => ({
                partition: p.index,
                currentLeaderEpoch: p.leaderEpoch,
                fetchOffset: p.log.endOffset(),
                lastFetchedEpoch: p.log.lastEpoch(),
                logStartOffset: 0,
                partitionMaxBytes: 8 * 1024 * 1024,
              })),
            })),
            forgottenTopicsData: [],
            rackId: '',
          },
          this.maxWaitMs + 10_000,
        );
        let appended = false;
        let errors = 0;
        for (const t of response.responses) {
          for (const r of t.partitions) {
            const p = byTopic.get(t.topic)?.find((x) => x.index === r.partitionIndex);
            if (p?.role !== 'follower' || p.state?.leader !== this.leaderId) continue;
            if (r.errorCode !== ErrorCode.NONE) {
              errors++;
              continue;
            }
            if (r.divergingEpoch && r.divergingEpoch.epoch >= -1 && r.divergingEpoch.endOffset >= 0) {
              const to = p.truncateForDivergence(r.divergingEpoch.epoch, r.divergingEpoch.endOffset);
              this.log(
                `${p.topic}-${p.index}: log diverged from leader ${this.leaderId} at epoch ${r.divergingEpoch.epoch}; truncated to ${to}`,
              );
              continue;
            }
            const { batches } = r.records ? splitBatches(r.records) : { batches: [] };
            const fresh = batches.filter((b) => b.baseOffset >= p.log.endOffset());
            if (fresh.length && fresh[0]!.baseOffset !== p.log.endOffset()) continue;
            p.appendAsFollower(fresh, r.highWatermark);
            appended = true;
          }
        }
        if (appended) this.onAppended();
        if (errors) await sleep(100);
      } catch {
        this.connection?.close();
        this.connection = undefined;
        await sleep(200);
      }
    }
  }
}
