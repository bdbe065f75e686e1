/**
 * Partition leader election as KRaft's controller does it (PartitionChangeBuilder): a new leader only
 * from the ISR, in replica order, among unfenced brokers (clean election). With
 * unclean.leader.election.enable, a partition with no eligible ISR member takes any live replica and
 * its ISR becomes that replica alone. The ISR never becomes empty: when its last member is fenced the
 * partition goes offline (leader -1) and keeps that member, which may lead again when it comes back.
 */
import type { PartitionState } from './metadata-image.ts';

export interface PartitionChange {
  isr?: number[];
  leader?: number;
}

export function onBrokerFenced(
  p: PartitionState,
  broker: number,
  isLive: (id: number) => boolean,
  unclean: boolean,
): PartitionChange | undefined {
  if (!p.isr.includes(broker) && p.leader !== broker) return undefined;
  let isr = p.isr.filter((r) => r !== broker);
  if (isr.length === 0) isr = [broker];
  let leader = p.leader;
  if (p.leader === broker || p.leader === -1) {
    leader = p.replicas.find((r) => isr.includes(r) && r !== broker && isLive(r)) ?? -1;
    if (leader === -1 && unclean) {
      const any = p.replicas.find((r) => r !== broker && isLive(r));
      if (any !== undefined) {
        leader = any;
        isr = [any];
      }
    }
  }
  const change: PartitionChange = {};
  if (isr.join() !== p.isr.join()) change.isr = isr;
  if (leader !== p.leader) change.leader = leader;
  return change.isr || change.leader !== undefined ? change : undefined;
}

export function onBrokerUnfenced(
  p: PartitionState,
  broker: number,
  isLive: (id: number) => boolean,
  unclean: boolean,
): PartitionChange | undefined {
  if (p.leader !== -1 || !p.replicas.includes(broker)) return undefined;
  const leader = p.replicas.find((r) => p.isr.includes(r) && isLive(r));
  if (leader !== undefined) return { leader };
  if (unclean) return { leader: broker, isr: [broker] };
  return undefined;
}

/**
 * Replica placement for a new topic: partition p gets brokers start+p, start+p+1, … of the live
 * brokers sorted by id (Kafka's striped placement without racks).
 */
export function placeReplicas(
  live: number[],
  partitions: number,
  replicationFactor: number,
  start: number,
): number[][] {
  const out: number[][] = [];
  for (let p = 0; p < partitions; p++) {
    const replicas: number[] = [];
    for (let j = 0; j < replicationFactor; j++) replicas.push(live[(start + p + j) % live.length]!);
    out.push(replicas);
  }
  return out;
}
