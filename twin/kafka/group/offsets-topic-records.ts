/**
 * The records the group coordinator writes to `__consumer_offsets`, in Kafka's formats
 * (OffsetCommitKey v1 / OffsetCommitValue v3, GroupMetadataKey v2 / GroupMetadataValue v3), so the
 * committed offsets and each group's generation survive a coordinator restart or move, and the
 * partition for a group is Kafka's: abs(groupId.hashCode()) % offsets.topic.num.partitions.
 */
import { Reader, Writer } from '../protocol/primitives.ts';

export interface OffsetCommitValue {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
}

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupMetadataValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: number;
  members: StoredMember[];
}

/** Java's String.hashCode, which Kafka uses to place a group. */
export function javaHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

export function partitionForGroup(groupId: string, partitions: number): number {
  const h = javaHashCode(groupId);
  // Kafka's Utils.abs: Integer.MIN_VALUE maps to 0.
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}

export function offsetKey(group: string, topic: string, partition: number): Buffer {
  return new Writer(64).int16(1).string(group).string(topic).int32(partition).finish();
}

export function offsetValue(v: OffsetCommitValue): Buffer {
  return new Writer(64)
    .int16(3)
    .int64(v.offset)
    .int32(v.leaderEpoch)
    .string(v.metadata)
    .int64(v.commitTimestamp)
    .finish();
}

export function groupKey(group: string): Buffer {
  return new Writer(32).int16(2).string(group).finish();
}

export function groupValue(v: GroupMetadataValue): Buffer {
  const w = new Writer(256)
    .int16(3)
    .string(v.protocolType)
    .int32(v.generation)
    .string(v.protocol)
    .string(v.leader)
    .int64(v.currentStateTimestamp)
    .int32(v.members.length);
  for (const m of v.members)
    w.string(m.memberId)
      .string(m.groupInstanceId)
      .string(m.clientId)
      .string(m.clientHost)
      .int32(m.rebalanceTimeoutMs)
      .int32(m.sessionTimeoutMs)
      .bytes(m.subscription)
      .bytes(m.assignment);
  return w.finish();
}

export type OffsetsTopicRecord =
  | { kind: 'offset'; group: string; topic: string; partition: number; value: OffsetCommitValue | null }
  | { kind: 'group'; group: string; value: GroupMetadataValue | null };

export function readRecord(key: Buffer, value: Buffer | null): OffsetsTopicRecord | undefined {
  const k = new Reader(key);
  const version = k.int16();
  if (version === 0 || version === 1) {
    const group = k.string()!;
    const topic = k.string()!;
    const partition = k.int32();
    if (!value) return { kind: 'offset', group, topic, partition, value: null };
    const r = new Reader(value);
    const v = r.int16();
    const offset = r.int64();
    const leaderEpoch = v >= 3 ? r.int32() : -1;
    const metadata = r.string() ?? '';
    const commitTimestamp = r.int64();
    return {
      kind: 'offset',
      group,
      topic,
      partition,
      value: { offset, leaderEpoch, metadata, commitTimestamp },
    };
  }
  if (version === 2) {
    const group = k.string()!;
    if (!value) return { kind: 'group', group, value: null };
    const r = new Reader(value);
    const v = r.int16();
    const protocolType = r.string() ?? '';
    const generation = r.int32();
    const protocol = r.string();
    const leader = r.string();
    const currentStateTimestamp = v >= 2 ? r.int64() : -1;
    const n = r.int32();
    const members: StoredMember[] = [];
    for (let i = 0; i < n; i++) {
      const memberId = r.string()!;
      const groupInstanceId = v >= 3 ? r.string() : null;
      const clientId = r.string() ?? '';
      const clientHost = r.string() ?? '';
      const rebalanceTimeoutMs = v >= 1 ? r.int32() : 0;
      const sessionTimeoutMs = r.int32();
      const subscription = Buffer.from(r.bytes() ?? Buffer.alloc(0));
      const assignment = Buffer.from(r.bytes() ?? Buffer.alloc(0));
      members.push({
        memberId,
        groupInstanceId,
        clientId,
        clientHost,
        rebalanceTimeoutMs,
        sessionTimeoutMs,
        subscription,
        assignment,
      });
    }
    return {
      kind: 'group',
      group,
      value: { protocolType, generation, protocol, leader, currentStateTimestamp, members },
    };
  }
  return undefined;
}
