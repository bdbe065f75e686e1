/**
 * The KRaft metadata quorum (KIP-595): a Raft log of metadata records replicated among the controller
 * voters (`controller.quorum.voters`). As in KRaft, replication is pulled: followers and observers
 * (broker-only nodes) fetch from the leader with their fetch offset and last fetched epoch, the leader
 * answers a diverging epoch when their logs part, and commits (the high watermark) what a majority of
 * voters have fetched in its own epoch. A voter that hears from no leader for the fetch timeout
 * (`controller.quorum.fetch.timeout.ms`) stands for election after a random election timeout
 * (`controller.quorum.election.timeout.ms`); a vote is granted once per epoch to a candidate whose log
 * is at least as up to date; a leader that stops hearing from a majority resigns (check quorum).
 *
 * Twin simplification: no snapshots (the whole log is kept and replayed at start) and no dynamic voter
 * changes (KIP-853); messages are the controller RPCs of controller-rpc.ts.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RpcClient } from './controller-rpc.ts';
import type { MetadataRecord } from './metadata-records.ts';

export interface MetadataEntry {
  offset: number;
  epoch: number;
  record: MetadataRecord;
}

export type QuorumRole = 'unattached' | 'follower' | 'candidate' | 'leader' | 'observer';

export interface QuorumOptions {
  nodeId: number;
  voters: number[];
  dir: string;
  peers: Map<number, RpcClient>;
  fetchTimeoutMs: number;
  electionTimeoutMs: number;
  apply: (entry: MetadataEntry) => void;
  log: (message: string) => void;
  onRoleChange?: (role: QuorumRole, leaderId: number | undefined, epoch: number) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class NotLeaderError extends Error {}

export class Quorum {
  epoch = 0;
  votedId: number | undefined;
  leaderId: number | undefined;
  role: QuorumRole;
  readonly entries: MetadataEntry[] = [];
  /** Entries below this offset are committed. */
  hw = 0;
  private applied = 0;
  private epochStart = 0;
  private readonly voterOffsets = new Map<number, { offset: number; at: number }>();
  private readonly commitWaiters: {
    offset: number;
    epoch: number;
    resolve: () => void;
    reject: (e: Error) => void;
  }[] = [];
  private appendWaiters: (() => void)[] = [];
  private electionDeadline = 0;
  private lastLeaderContact = Date.now();
  private stopped = false;
  private readonly stateFile: string;
  private readonly logFile: string;
  private fetching = false;

  constructor(private readonly o: QuorumOptions) {
    mkdirSync(o.dir, { recursive: true });
    this.stateFile = path.join(o.dir, 'quorum-state');
    this.logFile = path.join(o.dir, 'metadata.log');
    this.role = this.isVoter ? 'unattached' : 'observer';
    if (existsSync(this.stateFile)) {
      const s = JSON.parse(readFileSync(this.stateFile, 'utf8')) as { epoch: number; votedId?: number };
      this.epoch = s.epoch;
      this.votedId = s.votedId;
    }
    if (existsSync(this.logFile)) {
      for (const line of readFileSync(this.logFile, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          this.entries.push(JSON.parse(line) as MetadataEntry);
        } catch {
          break; // a torn last line
        }
      }
      this.rewriteLog();
    }
    this.resetElectionTimer();
  }

  get isVoter(): boolean {
    return this.o.voters.includes(this.o.nodeId);
  }
  get endOffset(): number {
    return this.entries.length;
  }
  private get lastEpoch(): number {
    return this.entries[this.entries.length - 1]?.epoch ?? 0;
  }
  private majority(): number {
    return Math.floor(this.o.voters.length / 2) + 1;
  }

  start(): void {
    if (this.isVoter && this.o.voters.length === 1) void this.elect();
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.commitWaiters.splice(0)) w.reject(new NotLeaderError('node stopping'));
  }

  private persistState(): void {
    writeFileSync(this.stateFile, JSON.stringify({ epoch: this.epoch, votedId: this.votedId }));
  }
  private rewriteLog(): void {
    writeFileSync(this.logFile, this.entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
  }
  private appendEntries(entries: MetadataEntry[]): void {
    if (!entries.length) return;
    this.entries.push(...entries);
    appendFileSync(this.logFile, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    for (const w of this.appendWaiters.splice(0)) w();
  }
  private truncate(offset: number): void {
    if (offset >= this.entries.length) return;
    this.o.log(`metadata log truncated from ${this.entries.length} to ${offset}`);
    this.entries.length = offset;
    this.rewriteLog();
  }

  private resetElectionTimer(): void {
    this.electionDeadline = Date.now() + this.o.electionTimeoutMs * (1 + Math.random());
  }

  private setRole(role: QuorumRole, leaderId: number | undefined): void {
    const changed = role !== this.role || leaderId !== this.leaderId;
    this.role = role;
    this.leaderId = leaderId;
    if (role !== 'leader')
      for (const w of this.commitWaiters.splice(0)) w.reject(new NotLeaderError('leadership lost'));
    if (changed) {
      this.o.log(
        `metadata quorum: ${role}${leaderId !== undefined ? ` (leader ${leaderId})` : ''} in epoch ${this.epoch}`,
      );
      this.o.onRoleChange?.(role, leaderId, this.epoch);
    }
  }

  private advanceEpoch(epoch: number, leaderId: number | undefined): void {
    if (epoch > this.epoch) {
      this.epoch = epoch;
      this.votedId = undefined;
      this.persistState();
    }
    this.setRole(
      leaderId === undefined
        ? this.isVoter
          ? 'unattached'
          : 'observer'
        : this.isVoter
          ? 'follower'
          : 'observer',
      leaderId,
    );
    this.lastLeaderContact = Date.now();
    this.resetElectionTimer();
  }

  private applyCommitted(): void {
    while (this.applied < this.hw && this.applied < this.entries.length) {
      this.o.apply(this.entries[this.applied]!);
      this.applied++;
    }
    for (let i = this.commitWaiters.length - 1; i >= 0; i--) {
      const w = this.commitWaiters[i]!;
      if (w.offset < this.hw) {
        this.commitWaiters.splice(i, 1);
        if (this.entries[w.offset]?.epoch === w.epoch) w.resolve();
        else w.reject(new NotLeaderError('entry was not committed'));
      }
    }
  }

  /** Appends records as the leader and resolves once they are committed. */
  async append(records: MetadataRecord[]): Promise<number> {
    if (this.role !== 'leader')
      throw new NotLeaderError(`node ${this.o.nodeId} is not the active controller`);
    const start = this.endOffset;
    this.appendEntries(records.map((record, i) => ({ offset: start + i, epoch: this.epoch, record })));
    this.maybeAdvanceHw();
    const last = this.endOffset - 1;
    await new Promise<void>((resolve, reject) => {
      this.commitWaiters.push({ offset: last, epoch: this.epoch, resolve, reject });
      this.applyCommitted();
    });
    return last;
  }

  private maybeAdvanceHw(): void {
    const offsets = this.o.voters
      .map((v) => (v === this.o.nodeId ? this.endOffset : (this.voterOffsets.get(v)?.offset ?? 0)))
      .sort((a, b) => b - a);
    const candidate = offsets[this.majority() - 1]!;
    if (candidate > this.hw && candidate > this.epochStart) {
      this.hw = candidate;
      this.applyCommitted();
      // Followers waiting in a fetch learn the new high watermark now, not at their next poll.
      for (const w of this.appendWaiters.splice(0)) w();
    }
  }

  private async elect(): Promise<void> {
    this.epoch += 1;
    this.votedId = this.o.nodeId;
    this.persistState();
    this.setRole('candidate', undefined);
    this.resetElectionTimer();
    const epoch = this.epoch;
    let votes = 1;
    const request = {
      type: 'vote',
      candidateId: this.o.nodeId,
      epoch,
      lastEpoch: this.lastEpoch,
      endOffset: this.endOffset,
    };
    const asks = this.o.voters
      .filter((v) => v !== this.o.nodeId)
      .map(async (v) => {
        try {
          const r = await this.o.peers
            .get(v)!
            .call<{ granted: boolean; epoch: number; leaderId?: number }>(request, this.o.electionTimeoutMs);
          if (r.epoch > this.epoch) this.advanceEpoch(r.epoch, r.leaderId);
          if (r.granted && this.epoch === epoch && this.role === 'candidate') {
            votes++;
            if (votes >= this.majority()) this.becomeLeader();
          }
        } catch {}
      });
    if (votes >= this.majority()) this.becomeLeader();
    await Promise.all(asks);
  }

  private becomeLeader(): void {
    if (this.role === 'leader') return;
    this.voterOffsets.clear();
    const now = Date.now();
    for (const v of this.o.voters) if (v !== this.o.nodeId) this.voterOffsets.set(v, { offset: 0, at: now });
    this.setRole('leader', this.o.nodeId);
    this.epochStart = this.endOffset;
    this.appendEntries([
      {
        offset: this.endOffset,
        epoch: this.epoch,
        record: { type: 'LeaderChange', leaderId: this.o.nodeId, epoch: this.epoch },
      },
    ]);
    this.maybeAdvanceHw();
    for (const v of this.o.voters)
      if (v !== this.o.nodeId)
        void this.o.peers
          .get(v)!
          .call({ type: 'beginEpoch', leaderId: this.o.nodeId, epoch: this.epoch }, 1000)
          .catch(() => {});
  }

  /** Handles a quorum RPC (vote, beginEpoch, fetch). */
  async handle(req: any): Promise<any> {
    if (req.type === 'vote') {
      if (req.epoch < this.epoch) return { granted: false, epoch: this.epoch, leaderId: this.leaderId };
      if (req.epoch > this.epoch) this.advanceEpoch(req.epoch, undefined);
      const upToDate =
        req.lastEpoch > this.lastEpoch ||
        (req.lastEpoch === this.lastEpoch && req.endOffset >= this.endOffset);
      const granted =
        this.role !== 'leader' &&
        (this.votedId === undefined || this.votedId === req.candidateId) &&
        upToDate;
      if (granted) {
        this.votedId = req.candidateId;
        this.persistState();
        this.resetElectionTimer();
      }
      return { granted, epoch: this.epoch, leaderId: this.leaderId };
    }
    if (req.type === 'beginEpoch') {
      if (req.epoch >= this.epoch && !(req.epoch === this.epoch && this.role === 'leader'))
        this.advanceEpoch(req.epoch, req.leaderId);
      return { epoch: this.epoch };
    }
    if (req.type === 'fetch') return this.serveFetch(req);
    throw new Error(`unknown quorum request ${req.type}`);
  }

  private async serveFetch(req: {
    replicaId: number;
    epoch: number;
    fetchOffset: number;
    lastFetchedEpoch: number;
    maxWaitMs: number;
    hw?: number;
  }): Promise<any> {
    if (this.role !== 'leader' || req.epoch > this.epoch)
      return { error: 'NOT_LEADER', leaderId: this.leaderId, epoch: this.epoch };
    if (req.epoch < this.epoch)
      return { error: 'FENCED_LEADER_EPOCH', leaderId: this.o.nodeId, epoch: this.epoch };
    if (req.fetchOffset > 0) {
      const div = this.endOffsetForEpoch(req.lastFetchedEpoch);
      if (div.epoch !== req.lastFetchedEpoch || div.endOffset < req.fetchOffset)
        return { diverging: div, hw: this.hw, epoch: this.epoch, leaderId: this.o.nodeId };
    }
    if (this.o.voters.includes(req.replicaId)) {
      this.voterOffsets.set(req.replicaId, { offset: req.fetchOffset, at: Date.now() });
      this.maybeAdvanceHw();
    }
    // A follower that does not know the current high watermark yet is answered at once.
    if (req.fetchOffset >= this.endOffset && req.maxWaitMs > 0 && (req.hw ?? 0) >= this.hw) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, req.maxWaitMs);
        this.appendWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return {
      entries: this.entries.slice(req.fetchOffset, req.fetchOffset + 2000),
      hw: this.hw,
      epoch: this.epoch,
      leaderId: this.o.nodeId,
    };
  }

  private endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    let i = this.entries.length - 1;
    while (i >= 0 && this.entries[i]!.epoch > epoch) i--;
    if (i < 0) return { epoch: 0, endOffset: 0 };
    const e = this.entries[i]!.epoch;
    return { epoch: e, endOffset: i + 1 };
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const now = Date.now();
      if (this.role === 'leader') {
        if (this.o.voters.length > 1) {
          const heard =
            [...this.voterOffsets.values()].filter((v) => now - v.at < this.o.fetchTimeoutMs).length + 1;
          if (heard < this.majority()) {
            this.o.log(
              `metadata quorum: heard from ${heard} of ${this.o.voters.length} voters within ${this.o.fetchTimeoutMs} ms; resigning`,
            );
            this.setRole('unattached', undefined);
            this.resetElectionTimer();
          }
        }
      } else if (this.isVoter && (this.role === 'unattached' || this.role === 'candidate')) {
        if (now > this.electionDeadline) void this.elect();
      } else if (this.role === 'follower' && now - this.lastLeaderContact > this.o.fetchTimeoutMs) {
        this.o.log(
          `metadata quorum: no fetch answered by leader ${this.leaderId} for ${this.o.fetchTimeoutMs} ms`,
        );
        this.setRole('unattached', undefined);
        this.electionDeadline = now;
      }
      if ((this.role === 'follower' || this.role === 'observer') && !this.fetching) void this.fetchOnce();
      await sleep(this.role === 'leader' ? 100 : 50);
    }
  }

  private async fetchOnce(): Promise<void> {
    this.fetching = true;
    try {
      let leader = this.leaderId;
      if (leader === undefined) {
        // An observer asks any voter who leads.
        leader = this.o.voters[Math.floor(Math.random() * this.o.voters.length)]!;
      }
      const peer = this.o.peers.get(leader);
      if (!peer) return;
      const r = await peer.call<any>(
        {
          type: 'fetch',
          replicaId: this.o.nodeId,
          epoch: this.epoch,
          fetchOffset: this.endOffset,
          lastFetchedEpoch: this.lastEpoch,
          maxWaitMs: 500,
          hw: this.hw,
        },
        2000,
      );
      if (r.error) {
        if (r.leaderId !== undefined && r.leaderId !== null && r.epoch >= this.epoch)
          this.advanceEpoch(r.epoch, r.leaderId);
        else if (r.epoch > this.epoch) this.advanceEpoch(r.epoch, undefined);
        else if (this.role === 'observer') this.leaderId = undefined;
        await sleep(100);
        return;
      }
      if (r.epoch > this.epoch || this.leaderId !== r.leaderId) this.advanceEpoch(r.epoch, r.leaderId);
      this.lastLeaderContact = Date.now();
      if (r.diverging) {
        const mine = this.endOffsetForEpoch(r.diverging.epoch);
        this.truncate(Math.min(r.diverging.endOffset, mine.endOffset));
        return;
      }
      this.appendEntries(r.entries as MetadataEntry[]);
      const hw = Math.min(r.hw, this.endOffset);
      if (hw > this.hw) {
        this.hw = hw;
        this.applyCommitted();
      }
    } catch (err) {
      if (!(err instanceof Error) || !/timed out|lost|ECONNREFUSED|closed/.test(err.message))
        this.o.log(`metadata fetch failed: ${(err as Error).stack ?? err}`);
      await sleep(100);
    } finally {
      this.fetching = false;
    }
  }
}
