/**
 * A broker's replicas (Kafka's ReplicaManager): the partitions the metadata assigns to it, each with
 * its log under `log.dirs`; becoming leader or follower as the metadata changes (a fetcher per leader
 * for the followed ones); produce with acks 0/1/all and min.insync.replicas; fetch for consumers (up
 * to the high watermark) and for followers (up to the log end, with epoch validation); the periodic
 * ISR shrink check; the high-watermark checkpoint file that survives a restart.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MetadataImage, PartitionState, TopicState } from '../controller/metadata-image.ts';
import { PartitionLog } from '../log/partition-log.ts';
import { ErrorCode, KafkaApiError } from '../protocol/error-codes.ts';
import { type BatchHeader, splitBatches, validateProducedBatch } from '../protocol/record-batch.ts';
import { Partition } from './partition.ts';
import { ReplicaFetcher } from './replica-fetcher.ts';

export interface ReplicaManagerOptions {
  nodeId: number;
  logDir: string;
  image: MetadataImage;
  replicaLagTimeMaxMs: number;
  defaultMinIsr: number;
  replicaFetchWaitMaxMs: number;
  /** Proposes an ISR to the controller; resolves with the controller's error code. */
  alterPartition: (p: PartitionState, isr: number[]) => Promise<number>;
  log: (m: string) => void;
}

export interface ProduceResult {
  errorCode: number;
  baseOffset: number;
  errorMessage?: string | null;
}

interface Waiter {
  check: () => boolean;
}

const CHECKPOINT = 'replication-offset-checkpoint';
const key = (topic: string, index: number) => `${topic}\u0000${index}`;

export class ReplicaManager {
  readonly partitions = new Map<string, Partition>();
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private waiters = new Set<Waiter>();
  private readonly checkpoint: Map<string, number>;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly o: ReplicaManagerOptions) {
    this.checkpoint = this.readCheckpoint();
    this.timers.push(
      setInterval(() => this.checkIsrShrink(), Math.max(100, Math.floor(o.replicaLagTimeMaxMs / 2))),
    );
    this.timers.push(setInterval(() => this.writeCheckpoint(), 5000));
  }

  private readCheckpoint(): Map<string, number> {
    const out = new Map<string, number>();
    const file = path.join(this.o.logDir, CHECKPOINT);
    if (!existsSync(file)) return out;
    // Kafka's format: version, count, then "topic partition offset" lines.
    for (const line of readFileSync(file, 'utf8').split('\n').slice(2)) {
      const m = /^(\S+) (\d+) (\d+)$/.exec(line);
      if (m) out.set(key(m[1]!, Number(m[2])), Number(m[3]));
    }
    return out;
  }

  writeCheckpoint(): void {
    const lines = [...this.partitions.values()].map((p) => `${p.topic} ${p.index} ${p.hw}`);
    try {
      writeFileSync(path.join(this.o.logDir, CHECKPOINT), `0\n${lines.length}\n${lines.join('\n')}\n`);
    } catch {}
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    for (const f of this.fetchers.values()) f.stop();
    this.writeCheckpoint();
    for (const p of this.partitions.values()) (p.log as PartitionLog).close();
  }

  get(topic: string, index: number): Partition | undefined {
    return this.partitions.get(key(topic, index));
  }

  /** Removes log directories of topics that no longer exist (deleted while this broker was down). */
  removeStrayLogs(): void {
    if (!existsSync(this.o.logDir)) return;
    for (const d of readdirSync(this.o.logDir, { withFileTypes: true })) {
      if (!d.isDirectory() || d.name.startsWith('__cluster_metadata')) continue;
      const m = /^(.+)-(\d+)$/.exec(d.name);
      if (!m) continue;
      const p = this.o.image.partition(m[1]!, Number(m[2]));
      if (!p?.replicas.includes(this.o.nodeId))
        rmSync(path.join(this.o.logDir, d.name), { recursive: true, force: true });
    }
  }

  /** Applies metadata changes: new roles, new fetchers, deleted topics. */
  onMetadata(changed: PartitionState[], removed: TopicState[]): void {
    const now = Date.now();
    for (const t of removed) {
      for (const part of t.partitions) {
        const p = this.partitions.get(key(t.name, part.partition));
        if (!p) continue;
        for (const f of this.fetchers.values()) f.partitions.delete(p);
        (p.log as PartitionLog).delete();
        this.partitions.delete(key(t.name, part.partition));
      }
      this.o.log(`topic ${t.name} deleted: its logs are removed`);
    }
    for (const state of changed) {
      if (!state.replicas.includes(this.o.nodeId)) continue;
      let p = this.partitions.get(key(state.topic, state.partition));
      if (!p) {
        const log = new PartitionLog(this.o.logDir, state.topic, state.partition);
        p = new Partition(
          this.o.nodeId,
          state.topic,
          state.partition,
          log,
          this.checkpoint.get(key(state.topic, state.partition)) ?? 0,
        );
        this.partitions.set(key(state.topic, state.partition), p);
      }
      const change = p.applyMetadata(state, now);
      for (const f of this.fetchers.values()) if (f.leaderId !== state.leader) f.partitions.delete(p);
      if (p.role === 'follower') this.fetcher(state.leader).partitions.add(p);
      if (change === 'became-leader')
        this.o.log(`${p.topic}-${p.index}: leader in epoch ${p.leaderEpoch}, ISR [${state.isr.join(',')}]`);
      if (change === 'became-follower')
        this.o.log(`${p.topic}-${p.index}: following ${state.leader} in epoch ${p.leaderEpoch}`);
    }
    for (const [id, f] of this.fetchers)
      if (f.partitions.size === 0) {
        f.stop();
        this.fetchers.delete(id);
      }
    this.notify();
  }

  private fetcher(leaderId: number): ReplicaFetcher {
    let f = this.fetchers.get(leaderId);
    if (!f) {
      f = new ReplicaFetcher(
        this.o.nodeId,
        leaderId,
        () => {
          const e = this.o.image.brokers.get(leaderId)?.endpoints[0];
          return e ? { host: e.host, port: e.port } : undefined;
        },
        () => this.notify(),
        this.o.log,
        this.o.replicaFetchWaitMaxMs,
      );
      this.fetchers.set(leaderId, f);
    }
    return f;
  }

  minIsr(topic: string): number {
    const v = this.o.image.topics.get(topic)?.configs.get('min.insync.replicas');
    return v === undefined ? this.o.defaultMinIsr : Number(v);
  }

  /** Wakes every delayed produce and fetch to check whether it can complete. */
  notify(): void {
    for (const w of [...this.waiters]) if (w.check()) this.waiters.delete(w);
  }

  /** Resolves when check() holds or after timeoutMs (then with false). */
  waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const w: Waiter = {
        check: () => {
          if (!check()) return false;
          clearTimeout(timer);
          resolve(true);
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** Appends a partition's records as its leader and waits as `acks` asks. */
  async produce(
    topic: string,
    index: number,
    records: Buffer | null,
    acks: number,
    timeoutMs: number,
  ): Promise<ProduceResult> {
    const p = this.get(topic, index);
    if (!this.o.image.topics.has(topic) || !this.o.image.partition(topic, index))
      return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, baseOffset: -1 };
    if (p?.role !== 'leader') return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, baseOffset: -1 };
    let batches: BatchHeader[];
    let appended: { baseOffset: number; lastOffset: number };
    const minIsr = this.minIsr(topic);
    try {
      if (!records || records.length === 0)
        throw new KafkaApiError(ErrorCode.CORRUPT_MESSAGE, 'empty record set');
      const split = splitBatches(records);
      if (split.rest !== 0 || !split.batches.length)
        throw new KafkaApiError(ErrorCode.CORRUPT_MESSAGE, 'record set ends in a partial batch');
      batches = split.batches;
      for (const b of batches) validateProducedBatch(b);
      // The request buffer is reused by nothing after this: the batches are written as they came.
      appended = p.appendAsLeader(batches, acks, minIsr);
    } catch (err) {
      if (err instanceof KafkaApiError)
        return { errorCode: err.code, baseOffset: -1, errorMessage: err.message };
      throw err;
    }
    this.notify();
    if (acks !== -1) return { errorCode: ErrorCode.NONE, baseOffset: appended.baseOffset };
    const required = appended.lastOffset + 1;
    const epoch = p.leaderEpoch;
    let code: number | undefined;
    const done = await this.waitFor(() => {
      code = p.produceCompletion(required, epoch, minIsr);
      return code !== undefined;
    }, timeoutMs);
    if (!done) return { errorCode: ErrorCode.REQUEST_TIMED_OUT, baseOffset: -1 };
    return { errorCode: code!, baseOffset: code === ErrorCode.NONE ? appended.baseOffset : -1 };
  }

  /** Leaders drop followers that have not caught up for replica.lag.time.max.ms from the ISR. */
  private checkIsrShrink(): void {
    const now = Date.now();
    for (const p of this.partitions.values()) {
      const isr = p.shrinkIsr(now, this.o.replicaLagTimeMaxMs);
      if (isr) {
        this.o.log(
          `${p.topic}-${p.index}: shrinking ISR from [${p.state!.isr.join(',')}] to [${isr.join(',')}]`,
        );
        this.proposeIsr(p, isr);
      }
    }
  }

  proposeIsr(p: Partition, isr: number[]): void {
    if (!p.state || p.pendingIsr) return;
    p.pendingIsr = isr;
    const state = p.state;
    this.o.alterPartition(state, isr).then(
      (code) => {
        if (code !== ErrorCode.NONE && p.pendingIsr === isr) p.pendingIsr = undefined;
      },
      () => {
        if (p.pendingIsr === isr) p.pendingIsr = undefined;
      },
    );
  }
}
