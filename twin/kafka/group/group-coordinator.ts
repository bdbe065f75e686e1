/**
 * The group coordinator of the classic consumer group protocol (KIP-62, KIP-345 member ids, KIP-394):
 * JoinGroup / SyncGroup / Heartbeat / LeaveGroup with rebalances on join, leave and session timeout
 * (`group.initial.rebalance.delay.ms`, the members' rebalance timeouts, `group.min/max.session.timeout.ms`),
 * and committed offsets. The coordinator of a group is the leader of its `__consumer_offsets`
 * partition; offsets and group metadata are written there with acks=all, and a broker that becomes the
 * leader of such a partition loads them from its log, so they survive a coordinator restart or move.
 *
 * Twin simplification: static membership (group.instance.id, KIP-345) is stored but a restarted static
 * member joins as a new one; committed offsets never expire (offsets.retention.minutes); the KIP-848
 * consumer protocol (ConsumerGroupHeartbeat) is not served.
 */
import { randomUUID } from 'node:crypto';
import type { PartitionLog } from '../log/partition-log.ts';
import { ErrorCode } from '../protocol/error-codes.ts';
import { decodeRecords, encodeBatch, splitBatches } from '../protocol/record-batch.ts';
import type { ReplicaManager } from '../replication/replica-manager.ts';
import { ConsumerGroup, type JoinResult, type Member } from './consumer-group.ts';
import {
  groupKey,
  groupValue,
  type OffsetCommitValue,
  offsetKey,
  offsetValue,
  partitionForGroup,
  readRecord,
} from './offsets-topic-records.ts';

export const OFFSETS_TOPIC = '__consumer_offsets';

export interface GroupCoordinatorOptions {
  offsetsPartitions: number;
  replicas: ReplicaManager;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  initialRebalanceDelayMs: number;
  commitTimeoutMs: number;
  log: (m: string) => void;
}

export interface JoinRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
}

const failJoin = (errorCode: number, memberId = ''): JoinResult => ({
  errorCode,
  generationId: -1,
  protocolType: null,
  protocolName: null,
  leader: '',
  memberId,
  members: [],
});

/** Maps a failed __consumer_offsets write to what the group APIs answer, as Kafka does. */
function writeError(code: number): number {
  if (
    code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ||
    code === ErrorCode.NOT_ENOUGH_REPLICAS ||
    code === ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND ||
    code === ErrorCode.REQUEST_TIMED_OUT
  )
    return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  if (code === ErrorCode.NOT_LEADER_OR_FOLLOWER || code === ErrorCode.KAFKA_STORAGE_ERROR)
    return ErrorCode.NOT_COORDINATOR;
  return code === ErrorCode.NONE ? code : ErrorCode.UNKNOWN_SERVER_ERROR;
}

export class GroupCoordinator {
  private readonly loaded = new Set<number>();
  readonly groups = new Map<string, ConsumerGroup>();
  private readonly offsets = new Map<string, Map<string, OffsetCommitValue>>();
  private readonly delayUntil = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: GroupCoordinatorOptions) {
    this.timer = setInterval(() => this.tick(), 100);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.o.offsetsPartitions);
  }

  /** Follows leadership of the offsets topic's partitions: loads the groups of those it now leads. */
  onMetadata(): void {
    for (let p = 0; p < this.o.offsetsPartitions; p++) {
      const part = this.o.replicas.get(OFFSETS_TOPIC, p);
      const leads = part?.role === 'leader';
      if (leads && !this.loaded.has(p)) this.load(p);
      else if (!leads && this.loaded.has(p)) this.unload(p);
    }
  }

  private load(p: number): void {
    const part = this.o.replicas.get(OFFSETS_TOPIC, p)!;
    const log = part.log as PartitionLog;
    const t0 = Date.now();
    const { batches } = splitBatches(log.read(0, Number.MAX_SAFE_INTEGER, log.endOffset()));
    let n = 0;
    for (const b of batches)
      for (const rec of decodeRecords(b)) {
        if (!rec.key) continue;
        const r = readRecord(rec.key, rec.value);
        if (!r || this.partitionFor(r.group) !== p) continue;
        n++;
        if (r.kind === 'offset') {
          const k = `${r.topic}\u0000${r.partition}`;
          if (r.value) this.offsetsOf(r.group).set(k, r.value);
          else this.offsets.get(r.group)?.delete(k);
        } else if (r.value?.members.length) {
          const g = new ConsumerGroup(r.group);
          g.state = 'Stable';
          g.generationId = r.value.generation;
          g.protocolType = r.value.protocolType;
          g.protocolName = r.value.protocol;
          g.leaderId = r.value.leader;
          for (const m of r.value.members)
            g.members.set(m.memberId, {
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              sessionTimeoutMs: m.sessionTimeoutMs,
              rebalanceTimeoutMs: m.rebalanceTimeoutMs,
              protocolType: r.value.protocolType,
              protocols: [{ name: r.value.protocol ?? '', metadata: m.subscription }],
              assignment: m.assignment,
              lastHeartbeat: Date.now(),
            });
          this.groups.set(r.group, g);
        } else {
          const g = new ConsumerGroup(r.group);
          g.generationId = r.value?.generation ?? 0;
          g.protocolType = r.value?.protocolType ?? null;
          this.groups.set(r.group, g);
        }
      }
    this.loaded.add(p);
    this.o.log(`group coordinator: loaded ${OFFSETS_TOPIC}-${p} (${n} records) in ${Date.now() - t0} ms`);
  }

  private unload(p: number): void {
    this.loaded.delete(p);
    for (const [id, g] of this.groups) {
      if (this.partitionFor(id) !== p) continue;
      for (const m of g.members.values()) {
        m.awaitingJoin?.(failJoin(ErrorCode.NOT_COORDINATOR, m.memberId));
        m.awaitingSync?.({ errorCode: ErrorCode.NOT_COORDINATOR, assignment: Buffer.alloc(0) });
      }
      this.groups.delete(id);
      this.offsets.delete(id);
    }
    this.o.log(`group coordinator: no longer leads ${OFFSETS_TOPIC}-${p}`);
  }

  /** NONE when this broker coordinates the group now. */
  coordinatorError(groupId: string): number {
    const p = this.partitionFor(groupId);
    if (this.loaded.has(p)) return ErrorCode.NONE;
    return ErrorCode.NOT_COORDINATOR;
  }

  private offsetsOf(group: string): Map<string, OffsetCommitValue> {
    let m = this.offsets.get(group);
    if (!m) {
      m = new Map();
      this.offsets.set(group, m);
    }
    return m;
  }

  private async write(groupId: string, records: { key: Buffer; value: Buffer | null }[]): Promise<number> {
    const r = await this.o.replicas.produce(
      OFFSETS_TOPIC,
      this.partitionFor(groupId),
      encodeBatch(records.map((x) => ({ key: x.key, value: x.value }))),
      -1,
      this.o.commitTimeoutMs,
    );
    return writeError(r.errorCode);
  }

  private persistGroup(g: ConsumerGroup): Promise<number> {
    return this.write(g.groupId, [
      {
        key: groupKey(g.groupId),
        value: groupValue({
          protocolType: g.protocolType ?? '',
          generation: g.generationId,
          protocol: g.protocolName,
          leader: g.leaderId,
          currentStateTimestamp: Date.now(),
          members: g.toStored(),
        }),
      },
    ]);
  }

  join(req: JoinRequest, clientId: string, clientHost: string, version: number): Promise<JoinResult> {
    if (!req.groupId) return Promise.resolve(failJoin(ErrorCode.INVALID_GROUP_ID));
    const coord = this.coordinatorError(req.groupId);
    if (coord !== ErrorCode.NONE) return Promise.resolve(failJoin(coord));
    if (
      req.sessionTimeoutMs < this.o.minSessionTimeoutMs ||
      req.sessionTimeoutMs > this.o.maxSessionTimeoutMs
    )
      return Promise.resolve(failJoin(ErrorCode.INVALID_SESSION_TIMEOUT, req.memberId));
    let g = this.groups.get(req.groupId);
    if (!g) {
      if (req.memberId) return Promise.resolve(failJoin(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
      g = new ConsumerGroup(req.groupId);
      this.groups.set(req.groupId, g);
    }
    if (!g.supports(req.protocolType, req.protocols))
      return Promise.resolve(failJoin(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId));
    const group = g;
    return new Promise<JoinResult>((resolve) => {
      if (!req.memberId) {
        const memberId = `${clientId}-${randomUUID()}`;
        if (version >= 4) {
          group.pendingMembers.add(memberId);
          resolve(failJoin(ErrorCode.MEMBER_ID_REQUIRED, memberId));
          return;
        }
        this.addMember(group, memberId, req, clientId, clientHost, resolve);
        return;
      }
      if (group.pendingMembers.has(req.memberId)) {
        group.pendingMembers.delete(req.memberId);
        this.addMember(group, req.memberId, req, clientId, clientHost, resolve);
        return;
      }
      const m = group.members.get(req.memberId);
      if (!m) {
        resolve(failJoin(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
        return;
      }
      const same =
        m.protocols.length === req.protocols.length &&
        m.protocols.every(
          (p, i) => p.name === req.protocols[i]!.name && p.metadata.equals(req.protocols[i]!.metadata),
        );
      m.lastHeartbeat = Date.now();
      if (group.state === 'CompletingRebalance' && same) {
        resolve(this.joinResult(group, m));
        return;
      }
      if (group.state === 'Stable' && same && group.leaderId !== m.memberId) {
        resolve(this.joinResult(group, m));
        return;
      }
      m.protocols = req.protocols;
      m.sessionTimeoutMs = req.sessionTimeoutMs;
      m.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
      m.awaitingJoin = resolve;
      if (group.state !== 'PreparingRebalance') this.prepareRebalance(group, `member ${m.memberId} rejoined`);
      this.maybeCompleteJoin(group);
    });
  }

  private addMember(
    g: ConsumerGroup,
    memberId: string,
    req: JoinRequest,
    clientId: string,
    clientHost: string,
    resolve: (r: JoinResult) => void,
  ): void {
    const wasEmpty = g.state === 'Empty';
    if (g.members.size === 0) g.protocolType = req.protocolType;
    g.members.set(memberId, {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId,
      clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      assignment: Buffer.alloc(0),
      lastHeartbeat: Date.now(),
      awaitingJoin: resolve,
    });
    if (g.state !== 'PreparingRebalance') this.prepareRebalance(g, `member ${memberId} joined`);
    if (wasEmpty) this.delayUntil.set(g.groupId, Date.now() + this.o.initialRebalanceDelayMs);
    this.maybeCompleteJoin(g);
  }

  private prepareRebalance(g: ConsumerGroup, reason: string): void {
    if (g.state === 'CompletingRebalance')
      for (const m of g.members.values()) {
        m.awaitingSync?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) });
        m.awaitingSync = undefined;
      }
    g.state = 'PreparingRebalance';
    g.rebalanceDeadline = Date.now() + g.maxRebalanceTimeout();
    this.o.log(`group ${g.groupId}: preparing to rebalance in generation ${g.generationId} (${reason})`);
  }

  private completeJoin(g: ConsumerGroup): void {
    for (const [id, m] of g.members)
      if (!m.awaitingJoin) {
        g.members.delete(id);
        this.o.log(`group ${g.groupId}: member ${id} did not rejoin within the rebalance timeout; removed`);
      }
    g.pendingMembers.clear();
    this.delayUntil.delete(g.groupId);
    g.generationId++;
    if (g.members.size === 0) {
      g.state = 'Empty';
      g.protocolName = null;
      g.leaderId = null;
      void this.persistGroup(g);
      this.o.log(`group ${g.groupId}: empty in generation ${g.generationId}`);
      return;
    }
    g.protocolName = g.selectProtocol();
    if (!g.leaderId || !g.members.has(g.leaderId)) g.leaderId = g.members.keys().next().value!;
    g.state = 'CompletingRebalance';
    this.o.log(
      `group ${g.groupId}: generation ${g.generationId} with ${g.members.size} members, protocol ${g.protocolName}, leader ${g.leaderId}`,
    );
    const now = Date.now();
    for (const m of g.members.values()) {
      const resolve = m.awaitingJoin!;
      m.awaitingJoin = undefined;
      m.lastHeartbeat = now;
      resolve(this.joinResult(g, m));
    }
  }

  private joinResult(g: ConsumerGroup, m: Member): JoinResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: g.generationId,
      protocolType: g.protocolType,
      protocolName: g.protocolName,
      leader: g.leaderId ?? '',
      memberId: m.memberId,
      members:
        g.leaderId === m.memberId
          ? [...g.members.values()].map((x) => ({
              memberId: x.memberId,
              groupInstanceId: x.groupInstanceId,
              metadata: g.metadataOf(x),
            }))
          : [],
    };
  }

  sync(req: {
    groupId: string;
    generationId: number;
    memberId: string;
    protocolType: string | null;
    protocolName: string | null;
    assignments: { memberId: string; assignment: Buffer }[];
  }): Promise<{ errorCode: number; assignment: Buffer }> {
    const none = (errorCode: number) => Promise.resolve({ errorCode, assignment: Buffer.alloc(0) });
    const coord = this.coordinatorError(req.groupId);
    if (coord !== ErrorCode.NONE) return none(coord);
    const g = this.groups.get(req.groupId);
    const m = g?.members.get(req.memberId);
    if (!g || !m) return none(ErrorCode.UNKNOWN_MEMBER_ID);
    if (
      (req.protocolType !== null && req.protocolType !== g.protocolType) ||
      (req.protocolName !== null && req.protocolName !== g.protocolName)
    )
      return none(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    if (req.generationId !== g.generationId) return none(ErrorCode.ILLEGAL_GENERATION);
    if (g.state === 'PreparingRebalance') return none(ErrorCode.REBALANCE_IN_PROGRESS);
    m.lastHeartbeat = Date.now();
    if (g.state === 'Stable') return Promise.resolve({ errorCode: ErrorCode.NONE, assignment: m.assignment });
    return new Promise((resolve) => {
      m.awaitingSync = resolve;
      if (g.leaderId !== req.memberId) return;
      const byMember = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
      for (const x of g.members.values())
        x.assignment = Buffer.from(byMember.get(x.memberId) ?? Buffer.alloc(0));
      const generation = g.generationId;
      void this.persistGroup(g).then((code) => {
        if (g.generationId !== generation || g.state !== 'CompletingRebalance') return;
        if (code !== ErrorCode.NONE) {
          for (const x of g.members.values()) {
            x.assignment = Buffer.alloc(0);
            x.awaitingSync?.({ errorCode: code, assignment: Buffer.alloc(0) });
            x.awaitingSync = undefined;
          }
          this.prepareRebalance(g, `storing the assignment failed with error ${code}`);
          return;
        }
        g.state = 'Stable';
        for (const x of g.members.values()) {
          x.awaitingSync?.({ errorCode: ErrorCode.NONE, assignment: x.assignment });
          x.awaitingSync = undefined;
        }
      });
    });
  }

  heartbeat(groupId: string, generationId: number, memberId: string): number {
    const coord = this.coordinatorError(groupId);
    if (coord !== ErrorCode.NONE) return coord;
    const g = this.groups.get(groupId);
    const m = g?.members.get(memberId);
    if (!g || !m) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
    m.lastHeartbeat = Date.now();
    if (g.state === 'PreparingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  leave(
    groupId: string,
    memberIds: string[],
  ): { errorCode: number; members: { memberId: string; errorCode: number }[] } {
    const coord = this.coordinatorError(groupId);
    if (coord !== ErrorCode.NONE) return { errorCode: coord, members: [] };
    const g = this.groups.get(groupId);
    if (!g)
      return {
        errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
        members: memberIds.map((memberId) => ({ memberId, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })),
      };
    const members = memberIds.map((memberId) => {
      const m = g.members.get(memberId);
      if (!m) return { memberId, errorCode: ErrorCode.UNKNOWN_MEMBER_ID };
      this.removeMember(g, m, 'left the group');
      return { memberId, errorCode: ErrorCode.NONE };
    });
    const errorCode = members.length === 1 ? members[0]!.errorCode : ErrorCode.NONE;
    return { errorCode, members };
  }

  private removeMember(g: ConsumerGroup, m: Member, why: string): void {
    g.members.delete(m.memberId);
    m.awaitingJoin?.(failJoin(ErrorCode.UNKNOWN_MEMBER_ID, m.memberId));
    m.awaitingSync?.({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, assignment: Buffer.alloc(0) });
    if (g.state === 'Stable' || g.state === 'CompletingRebalance')
      this.prepareRebalance(g, `member ${m.memberId} ${why}`);
    this.maybeCompleteJoin(g);
  }

  private tick(): void {
    const now = Date.now();
    for (const g of this.groups.values()) {
      for (const m of [...g.members.values()])
        if (!m.awaitingJoin && now - m.lastHeartbeat > m.sessionTimeoutMs)
          this.removeMember(g, m, `missed heartbeats for ${m.sessionTimeoutMs} ms (session timeout)`);
      this.maybeCompleteJoin(g);
    }
  }

  /** Completes a rebalance once every member rejoined (after the initial delay), or at the rebalance timeout. */
  private maybeCompleteJoin(g: ConsumerGroup): void {
    if (g.state !== 'PreparingRebalance') return;
    const now = Date.now();
    const delayed = (this.delayUntil.get(g.groupId) ?? 0) > now;
    if ((g.allJoined() && !delayed) || now >= g.rebalanceDeadline) this.completeJoin(g);
  }

  async commitOffsets(req: {
    groupId: string;
    generationId: number;
    memberId: string;
    topics: {
      name: string;
      partitions: {
        partitionIndex: number;
        committedOffset: number;
        committedLeaderEpoch: number;
        committedMetadata: string | null;
      }[];
    }[];
  }): Promise<{ name: string; partitions: { partitionIndex: number; errorCode: number }[] }[]> {
    const all = (code: number) =>
      req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })),
      }));
    const coord = this.coordinatorError(req.groupId);
    if (coord !== ErrorCode.NONE) return all(coord);
    const g = this.groups.get(req.groupId);
    if (req.generationId < 0 && (!g || g.state === 'Empty')) {
      // A consumer outside any generation (assign(), or an admin) commits to an empty group.
    } else if (!g) return all(ErrorCode.UNKNOWN_MEMBER_ID);
    else if (g.state === 'CompletingRebalance') return all(ErrorCode.REBALANCE_IN_PROGRESS);
    else if (!g.members.has(req.memberId)) return all(ErrorCode.UNKNOWN_MEMBER_ID);
    else if (req.generationId !== g.generationId) return all(ErrorCode.ILLEGAL_GENERATION);
    if (!this.groups.has(req.groupId)) this.groups.set(req.groupId, new ConsumerGroup(req.groupId));
    const now = Date.now();
    const records: { key: Buffer; value: Buffer }[] = [];
    const values: [string, OffsetCommitValue][] = [];
    for (const t of req.topics)
      for (const p of t.partitions) {
        const v = {
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch,
          metadata: p.committedMetadata ?? '',
          commitTimestamp: now,
        };
        records.push({ key: offsetKey(req.groupId, t.name, p.partitionIndex), value: offsetValue(v) });
        values.push([`${t.name}\u0000${p.partitionIndex}`, v]);
      }
    if (!records.length) return [];
    const code = await this.write(req.groupId, records);
    if (code === ErrorCode.NONE) for (const [k, v] of values) this.offsetsOf(req.groupId).set(k, v);
    return all(code);
  }

  fetchOffsets(groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null) {
    const stored = this.offsets.get(groupId) ?? new Map<string, OffsetCommitValue>();
    const wanted =
      topics ??
      [...new Set([...stored.keys()].map((k) => k.split('\u0000')[0]!))].map((name) => ({
        name,
        partitionIndexes: [...stored.keys()]
          .filter((k) => k.startsWith(`${name}\u0000`))
          .map((k) => Number(k.split('\u0000')[1])),
      }));
    return wanted.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => {
        const v = stored.get(`${t.name}\u0000${p}`);
        return {
          partitionIndex: p,
          committedOffset: v?.offset ?? -1,
          committedLeaderEpoch: v?.leaderEpoch ?? -1,
          metadata: v?.metadata ?? '',
          errorCode: ErrorCode.NONE,
        };
      }),
    }));
  }
}
