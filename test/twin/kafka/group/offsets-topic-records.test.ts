import { describe, expect, it } from 'vitest';
import {
  groupKey,
  groupValue,
  javaHashCode,
  offsetKey,
  offsetValue,
  partitionForGroup,
  readRecord,
} from '../../../../twin/kafka/group/offsets-topic-records.ts';

describe('__consumer_offsets records', () => {
  it('places a group as Kafka does: abs(String.hashCode) % partitions', () => {
    expect(javaHashCode('hello')).toBe(99162322);
    expect(javaHashCode('')).toBe(0);
    expect(javaHashCode('polygenelubricants')).toBe(-2147483648);
    expect(partitionForGroup('polygenelubricants', 50)).toBe(0);
    expect(partitionForGroup('hello', 50)).toBe(99162322 % 50);
  });

  it('round-trips offset commits and group metadata, and tombstones', () => {
    const key = offsetKey('g', 'orders', 3);
    expect([...key.subarray(0, 2)]).toEqual([0, 1]);
    expect(
      readRecord(key, offsetValue({ offset: 42, leaderEpoch: 5, metadata: 'm', commitTimestamp: 1000 })),
    ).toEqual({
      kind: 'offset',
      group: 'g',
      topic: 'orders',
      partition: 3,
      value: { offset: 42, leaderEpoch: 5, metadata: 'm', commitTimestamp: 1000 },
    });
    const member = {
      memberId: 'm-1',
      groupInstanceId: null,
      clientId: 'c',
      clientHost: '/127.0.0.1',
      rebalanceTimeoutMs: 60000,
      sessionTimeoutMs: 30000,
      subscription: Buffer.from([1, 2]),
      assignment: Buffer.from([3]),
    };
    const value = {
      protocolType: 'consumer',
      generation: 4,
      protocol: 'range',
      leader: 'm-1',
      currentStateTimestamp: 5,
      members: [member],
    };
    expect(readRecord(groupKey('g'), groupValue(value))).toEqual({ kind: 'group', group: 'g', value });
    expect(readRecord(groupKey('g'), null)).toEqual({ kind: 'group', group: 'g', value: null });
  });
});
