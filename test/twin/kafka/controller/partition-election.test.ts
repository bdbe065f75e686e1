import { describe, expect, it } from 'vitest';
import type { PartitionState } from '../../../../twin/kafka/controller/metadata-image.ts';
import {
  onBrokerFenced,
  onBrokerUnfenced,
  placeReplicas,
} from '../../../../twin/kafka/controller/partition-election.ts';

const p = (over: Partial<PartitionState>): PartitionState => ({
  topicId: 'x',
  topic: 't',
  partition: 0,
  replicas: [1, 2, 3],
  isr: [1, 2, 3],
  leader: 1,
  leaderEpoch: 0,
  partitionEpoch: 0,
  ...over,
});
const live =
  (...ids: number[]) =>
  (id: number) =>
    ids.includes(id);

describe('partition leader election (clean from the ISR, unclean only when enabled)', () => {
  it('moves leadership to the next ISR member in replica order and drops the fenced broker from the ISR', () => {
    expect(onBrokerFenced(p({}), 1, live(2, 3), false)).toEqual({ isr: [2, 3], leader: 2 });
    expect(onBrokerFenced(p({ isr: [1, 3] }), 1, live(2, 3), false)).toEqual({ isr: [3], leader: 3 });
    expect(onBrokerFenced(p({}), 2, live(1, 3), false)).toEqual({ isr: [1, 3] });
    expect(onBrokerFenced(p({ isr: [1] }), 2, live(1, 3), false)).toBeUndefined();
  });

  it('leaves a partition offline, keeping its last ISR member, rather than elect an out-of-sync replica', () => {
    expect(onBrokerFenced(p({ isr: [1] }), 1, live(2, 3), false)).toEqual({ leader: -1 });
    expect(onBrokerUnfenced(p({ isr: [1], leader: -1 }), 2, live(2, 3), false)).toBeUndefined();
    expect(onBrokerUnfenced(p({ isr: [1], leader: -1 }), 1, live(1, 2, 3), false)).toEqual({ leader: 1 });
  });

  it('elects any live replica with unclean.leader.election.enable', () => {
    expect(onBrokerFenced(p({ isr: [1] }), 1, live(2, 3), true)).toEqual({ isr: [2], leader: 2 });
    expect(onBrokerUnfenced(p({ isr: [1], leader: -1 }), 3, live(3), true)).toEqual({ leader: 3, isr: [3] });
  });

  it('stripes replicas over the live brokers', () => {
    expect(placeReplicas([0, 1, 2], 3, 3, 0)).toEqual([
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
    ]);
    expect(placeReplicas([0, 1, 2], 2, 2, 1)).toEqual([
      [1, 2],
      [2, 0],
    ]);
  });
});
