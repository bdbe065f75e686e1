import type { KubeObject } from '../../kube/object.ts';
import { fitErrorMessage } from './fit-error.ts';
import type { CycleState, Plugin, Rejection, VolumeLister } from './framework.ts';
import { interPodAffinity } from './inter-pod-affinity.ts';
import { nodeAffinity } from './node-affinity.ts';
import { type NodeInfo, nodeInfos } from './node-info.ts';
import { nodeName } from './node-name.ts';
import { nodeResourcesBalancedAllocation } from './node-resources-balanced-allocation.ts';
import { nodeResourcesFit } from './node-resources-fit.ts';
import { nodeUnschedulable } from './node-unschedulable.ts';
import { podTopologySpread } from './pod-topology-spread.ts';
import { taintToleration } from './taint-toleration.ts';
import { volumeBinding } from './volume-binding.ts';
import { volumeRestrictions } from './volume-restrictions.ts';
import { volumeZone } from './volume-zone.ts';

export type ScheduleResult = { nodeName: string } | { unschedulable: string };

export interface ScheduleOptions {
  /** Namespace objects, for namespaceSelector in pod affinity terms (each namespace also has its kubernetes.io/metadata.name label). */
  namespaces?: KubeObject[];
  /** PersistentVolumeClaims, PersistentVolumes and StorageClasses, for the volume plugins. */
  claims?: KubeObject[];
  persistentVolumes?: KubeObject[];
  storageClasses?: KubeObject[];
  /**
   * The scheduler cache's snapshot: every node with the pods assigned to it, in node-name order, the
   * pod itself not among them. When given, `nodes` and `pods` are not looked at.
   */
  nodeInfos?: NodeInfo[];
  /** Where the node search starts (kube-scheduler's nextStartNodeIndex); 0 when not given. */
  nextStartNodeIndex?: number;
}

/** minFeasibleNodesToFind and minFeasibleNodesPercentageToFind of kube-scheduler. */
const MIN_FEASIBLE_NODES_TO_FIND = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/**
 * numFeasibleNodesToFind with the default (adaptive) percentageOfNodesToScore: every node of a
 * cluster under 100 nodes; otherwise 50 % less 1 % per 125 nodes (at least 5 %), and at least 100.
 */
export function numFeasibleNodesToFind(numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  const percentage = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND, 50 - Math.trunc(numAllNodes / 125));
  return Math.max(MIN_FEASIBLE_NODES_TO_FIND, Math.trunc((numAllNodes * percentage) / 100));
}

/** Lookups over the storage objects, as the scheduler's informer listers give them. */
export function volumeLister(
  claims: KubeObject[] = [],
  volumes: KubeObject[] = [],
  classes: KubeObject[] = [],
): VolumeLister {
  const claimsByKey = new Map(
    claims.map((c) => [`${c.metadata.namespace ?? 'default'}/${c.metadata.name}`, c]),
  );
  const volumesByName = new Map(volumes.map((v) => [v.metadata.name, v]));
  const classesByName = new Map(classes.map((c) => [c.metadata.name, c]));
  return {
    claim: (namespace, name) => claimsByKey.get(`${namespace}/${name}`),
    volume: (name) => volumesByName.get(name),
    storageClass: (name) => classesByName.get(name),
    volumes: () => volumes,
  };
}

/** The default profile's plugins, filters in kube-scheduler's order. */
const PROFILE: Array<(state: CycleState) => Plugin> = [
  nodeUnschedulable,
  nodeName,
  taintToleration,
  nodeAffinity,
  nodeResourcesFit,
  volumeRestrictions,
  volumeBinding,
  volumeZone,
  podTopologySpread,
  interPodAffinity,
  nodeResourcesBalancedAllocation,
];

export interface NodeScore {
  nodeName: string;
  total: number;
  byPlugin: Record<string, number>;
}

export interface ScheduleDiagnosis {
  result: ScheduleResult;
  /** Why each infeasible node was filtered out, by node name. */
  rejections: Map<string, Rejection>;
  /** Weighted scores of the feasible nodes, best first. */
  scores: NodeScore[];
  /** How many nodes were looked at (feasible and rejected): the next search starts that much further. */
  processed: number;
}

/**
 * One scheduling cycle of kube-scheduler's default profile over plain objects: filter every node,
 * score the feasible ones, and pick the best. `pods` are all pods; those bound to a node and not
 * terminal count against it.
 *
 * Twin simplification: ties go to the first node by name, where kube-scheduler picks one of the best at random.
 * Twin simplification: every node is filtered; kube-scheduler's PreFilter narrows matchFields-pinned (DaemonSet) pods to their node first.
 * As kube-scheduler does, the search for feasible nodes stops once numFeasibleNodesToFind are found
 * (every node below 100 nodes), starting where the last search stopped (nextStartNodeIndex).
 */
export function schedule(
  pod: KubeObject,
  nodes: KubeObject[],
  pods: KubeObject[],
  options: ScheduleOptions = {},
): ScheduleResult {
  return diagnose(pod, nodes, pods, options).result;
}

/** schedule(), with the per-node reasons and scores behind its answer. */
export function diagnose(
  pod: KubeObject,
  nodes: KubeObject[],
  pods: KubeObject[],
  options: ScheduleOptions = {},
): ScheduleDiagnosis {
  const infos =
    options.nodeInfos ??
    nodeInfos(
      nodes,
      pods.filter((p) => !samePod(p, pod)),
    );
  const nsLabels = new Map<string, Record<string, string>>();
  for (const ns of options.namespaces ?? []) nsLabels.set(ns.metadata.name, ns.metadata.labels ?? {});
  const state: CycleState = {
    pod,
    nodes: infos,
    namespaceLabels: (ns) => ({ ...(nsLabels.get(ns) ?? {}), 'kubernetes.io/metadata.name': ns }),
    volumes: volumeLister(options.claims, options.persistentVolumes, options.storageClasses),
  };
  const plugins = PROFILE.map((make) => make(state));

  const rejections = new Map<string, Rejection>();
  if (infos.length === 0)
    return {
      result: { unschedulable: fitErrorMessage(0, [], pod.spec?.preemptionPolicy) },
      rejections,
      scores: [],
      processed: 0,
    };
  // PreFilter: the first plugin to reject makes every node fail with its status.
  for (const p of plugins) {
    const rejection = p.preFilter?.();
    if (!rejection) continue;
    for (const node of infos) rejections.set(node.name, rejection);
    const message = fitErrorMessage(
      infos.length,
      [...rejections.values()],
      pod.spec?.preemptionPolicy,
      rejection.reasons.join(', '),
    );
    return { result: { unschedulable: message }, rejections, scores: [], processed: infos.length };
  }
  const feasible: NodeInfo[] = [];
  const toFind = numFeasibleNodesToFind(infos.length);
  const start = (options.nextStartNodeIndex ?? 0) % infos.length;
  for (let i = 0; i < infos.length && feasible.length < toFind; i++) {
    const node = infos[(start + i) % infos.length]!;
    let rejection: Rejection | undefined;
    for (const p of plugins) {
      rejection = p.filter?.(node);
      if (rejection) break;
    }
    if (rejection) rejections.set(node.name, rejection);
    else feasible.push(node);
  }
  if (feasible.length === 0) {
    const message = fitErrorMessage(infos.length, [...rejections.values()], pod.spec?.preemptionPolicy);
    return { result: { unschedulable: message }, rejections, scores: [], processed: infos.length };
  }
  const processed = feasible.length + rejections.size;

  const scores: NodeScore[] = feasible.map((n) => ({ nodeName: n.name, total: 0, byPlugin: {} }));
  for (const p of plugins) {
    if (!p.score) continue;
    const s = p.score(feasible);
    s.forEach((v, i) => {
      scores[i]!.byPlugin[p.name] = v;
      scores[i]!.total += v * (p.weight ?? 1);
    });
  }
  const ranked = scores
    .map((s, i) => ({ s, i }))
    .sort((a, b) => b.s.total - a.s.total || a.i - b.i)
    .map((x) => x.s);
  return { result: { nodeName: ranked[0]!.nodeName }, rejections, scores: ranked, processed };
}

function samePod(a: KubeObject, b: KubeObject): boolean {
  if (a.metadata.uid !== undefined && b.metadata.uid !== undefined) return a.metadata.uid === b.metadata.uid;
  return (
    a.metadata.name === b.metadata.name && a.metadata.namespace === b.metadata.namespace && a.kind === b.kind
  );
}
