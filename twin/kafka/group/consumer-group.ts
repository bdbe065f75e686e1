/**
 * One consumer group of the classic rebalance protocol, as Kafka's GroupMetadata keeps it: the state
 * (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead), the generation, the members with
 * their supported protocols (range, roundrobin, cooperative-sticky, … chosen by the members' votes
 * among those every member supports), the leader, and the members' pending JoinGroup / SyncGroup
 * answers.
 */
import type { StoredMember } from './offsets-topic-records.ts';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
  assignment: Buffer;
  lastHeartbeat: number;
  awaitingJoin?: (r: JoinResult) => void;
  awaitingSync?: (r: { errorCode: number; assignment: Buffer }) => void;
}

export class ConsumerGroup {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  /** Members given an id by MEMBER_ID_REQUIRED that have not joined with it yet (KIP-394). */
  readonly pendingMembers = new Set<string>();
  rebalanceDeadline = 0;

  constructor(readonly groupId: string) {}

  /** Whether every member supports one of the candidate's protocols and its type matches. */
  supports(protocolType: string, protocols: { name: string }[]): boolean {
    if (this.members.size === 0) return protocols.length > 0;
    if (protocolType !== this.protocolType) return false;
    const names = new Set(protocols.map((p) => p.name));
    return this.candidates().some((c) => names.has(c));
  }

  /** Protocols every member supports. */
  candidates(): string[] {
    const lists = [...this.members.values()].map((m) => m.protocols.map((p) => p.name));
    if (!lists.length) return [];
    return lists[0]!.filter((n) => lists.every((l) => l.includes(n)));
  }

  /** The protocol with most votes, each member voting for the first candidate it lists (Kafka's selectProtocol). */
  selectProtocol(): string {
    const candidates = this.candidates();
    const votes = new Map<string, number>(candidates.map((c) => [c, 0]));
    for (const m of this.members.values()) {
      const vote = m.protocols.find((p) => candidates.includes(p.name))!.name;
      votes.set(vote, votes.get(vote)! + 1);
    }
    return [...votes].sort((a, b) => b[1] - a[1])[0]![0];
  }

  allJoined(): boolean {
    return (
      [...this.members.values()].every((m) => m.awaitingJoin !== undefined) && this.pendingMembers.size === 0
    );
  }

  maxRebalanceTimeout(): number {
    return Math.max(0, ...[...this.members.values()].map((m) => m.rebalanceTimeoutMs));
  }

  metadataOf(m: Member): Buffer {
    return m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? Buffer.alloc(0);
  }

  toStored(): StoredMember[] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      sessionTimeoutMs: m.sessionTimeoutMs,
      subscription: this.metadataOf(m),
      assignment: m.assignment,
    }));
  }
}
