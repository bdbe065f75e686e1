import type { KubeObject } from '../../kube/object.ts';
import type { NodeInfo } from './node-info.ts';

/** The framework's failure codes: only Unschedulable failures may be resolved by preemption. */
export type RejectionCode = 'Unschedulable' | 'UnschedulableAndUnresolvable';

export interface Rejection {
  code: RejectionCode;
  reasons: string[];
}

/** Highest score a score plugin gives a node after normalization (framework.MaxNodeScore). */
export const MAX_NODE_SCORE = 100;

/** The storage objects the volume plugins read (the scheduler's PVC, PV and StorageClass listers). */
export interface VolumeLister {
  claim(namespace: string, name: string): KubeObject | undefined;
  volume(name: string): KubeObject | undefined;
  storageClass(name: string): KubeObject | undefined;
  volumes(): KubeObject[];
}

/** What every plugin sees in one scheduling cycle: the pod and every node with its pods. */
export interface CycleState {
  pod: KubeObject;
  nodes: NodeInfo[];
  /** Labels of a namespace, for namespaceSelector. */
  namespaceLabels(namespace: string): Record<string, string>;
  volumes: VolumeLister;
}

/** One plugin instance for one pod; preFilter, filter and score are each optional. */
export interface Plugin {
  readonly name: string;
  /** Runs once before any node is filtered; a rejection makes the pod unschedulable on every node. */
  preFilter?(): Rejection | undefined;
  filter?(node: NodeInfo): Rejection | undefined;
  /** Normalized scores (0..MAX_NODE_SCORE), one per feasible node, in the order given. */
  score?(feasible: NodeInfo[]): number[];
  /** Weight of the score in the default profile. */
  readonly weight?: number;
}

export function unschedulable(...reasons: string[]): Rejection {
  return { code: 'Unschedulable', reasons };
}

export function unresolvable(...reasons: string[]): Rejection {
  return { code: 'UnschedulableAndUnresolvable', reasons };
}

/** Scales raw scores so that the largest becomes MAX_NODE_SCORE (helper.DefaultNormalizeScore), reversed if asked. */
export function defaultNormalizeScore(scores: number[], reverse: boolean): number[] {
  const maxCount = Math.max(0, ...scores);
  if (maxCount === 0) return scores.map(() => (reverse ? MAX_NODE_SCORE : 0));
  return scores.map((s) => {
    const n = Math.trunc((MAX_NODE_SCORE * s) / maxCount);
    return reverse ? MAX_NODE_SCORE - n : n;
  });
}
