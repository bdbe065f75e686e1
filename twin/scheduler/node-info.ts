import type { KubeObject } from '../../kube/object.ts';
import { resourceValue } from '../../kube/quantity.ts';
import { podRequests, type Resources } from './resource-requests.ts';

/** A node with the pods bound to it and what they request, as the scheduler's cache holds it. */
export interface NodeInfo {
  node: KubeObject;
  name: string;
  labels: Record<string, string>;
  pods: KubeObject[];
  allocatable: Resources;
  requested: Resources;
  /** Requests with the scheduler's defaults for containers that state none (for scoring). */
  nonZeroRequested: Resources;
}

/** Pods that hold a node's resources: bound (spec.nodeName) and not terminal. */
export function isAssigned(pod: KubeObject): boolean {
  return Boolean(pod.spec?.nodeName) && !isTerminal(pod);
}

export function isTerminal(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

export function podsByNode(pods: KubeObject[]): Map<string, KubeObject[]> {
  const byNode = new Map<string, KubeObject[]>();
  for (const p of pods) {
    if (!isAssigned(p)) continue;
    const list = byNode.get(p.spec.nodeName) ?? [];
    list.push(p);
    byNode.set(p.spec.nodeName, list);
  }
  return byNode;
}

export function nodeInfo(node: KubeObject, pods: KubeObject[]): NodeInfo {
  const allocatable: Resources = {};
  for (const [name, q] of Object.entries((node.status?.allocatable ?? {}) as Record<string, string>)) {
    allocatable[name] = resourceValue(name, q);
  }
  const requested: Resources = {};
  const nonZeroRequested: Resources = {};
  for (const p of pods) {
    for (const [k, v] of Object.entries(podRequests(p))) requested[k] = (requested[k] ?? 0) + v;
    for (const [k, v] of Object.entries(podRequests(p, true)))
      nonZeroRequested[k] = (nonZeroRequested[k] ?? 0) + v;
  }
  return {
    node,
    name: node.metadata.name,
    labels: node.metadata.labels ?? {},
    pods,
    allocatable,
    requested,
    nonZeroRequested,
  };
}

/** NodeInfos for every node, with the assigned pods of `pods` (in node-name order). */
export function nodeInfos(nodes: KubeObject[], pods: KubeObject[]): NodeInfo[] {
  const byNode = podsByNode(pods);
  return [...nodes]
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0))
    .map((n) => nodeInfo(n, byNode.get(n.metadata.name) ?? []));
}
