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
  /** The pods with pod affinity or anti-affinity terms (NodeInfo.PodsWithAffinity of kube-scheduler's cache). */
  podsWithAffinity: KubeObject[];
  /** Pods not being deleted, counted by the uid of their controller (what the default spread constraints select). */
  byController: Map<string, number>;
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
  const info: NodeInfo = {
    node,
    name: node.metadata.name,
    labels: node.metadata.labels ?? {},
    pods: [],
    allocatable,
    requested: {},
    nonZeroRequested: {},
    podsWithAffinity: [],
    byController: new Map(),
  };
  for (const p of pods) addPod(info, p);
  return info;
}

function hasPodAffinity(pod: KubeObject): boolean {
  const a = pod.spec?.affinity;
  return Boolean(a?.podAffinity || a?.podAntiAffinity);
}

function controllerUid(pod: KubeObject): string | undefined {
  return (pod.metadata.ownerReferences ?? []).find((o) => o.controller)?.uid;
}

function addTo(sums: Resources, add: Resources, sign: 1 | -1): void {
  for (const [k, v] of Object.entries(add)) sums[k] = (sums[k] ?? 0) + sign * v;
}

/** Counts a pod on the node (NodeInfo.AddPod), as the scheduler's cache does when a pod is bound there. */
export function addPod(info: NodeInfo, pod: KubeObject): void {
  info.pods.push(pod);
  addTo(info.requested, podRequests(pod), 1);
  addTo(info.nonZeroRequested, podRequests(pod, true), 1);
  if (hasPodAffinity(pod)) info.podsWithAffinity.push(pod);
  const owner = controllerUid(pod);
  if (owner && !pod.metadata.deletionTimestamp)
    info.byController.set(owner, (info.byController.get(owner) ?? 0) + 1);
}

/** Takes a pod counted with addPod off the node again (NodeInfo.RemovePod); false when it was not there. */
export function removePod(info: NodeInfo, pod: KubeObject): boolean {
  const at = info.pods.indexOf(pod);
  if (at < 0) return false;
  info.pods.splice(at, 1);
  addTo(info.requested, podRequests(pod), -1);
  addTo(info.nonZeroRequested, podRequests(pod, true), -1);
  const withAffinity = info.podsWithAffinity.indexOf(pod);
  if (withAffinity >= 0) info.podsWithAffinity.splice(withAffinity, 1);
  const owner = controllerUid(pod);
  if (owner && !pod.metadata.deletionTimestamp) {
    const n = (info.byController.get(owner) ?? 0) - 1;
    if (n > 0) info.byController.set(owner, n);
    else info.byController.delete(owner);
  }
  return true;
}

/** NodeInfos for every node, with the assigned pods of `pods` (in node-name order). */
export function nodeInfos(nodes: KubeObject[], pods: KubeObject[]): NodeInfo[] {
  const byNode = podsByNode(pods);
  return [...nodes]
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0))
    .map((n) => nodeInfo(n, byNode.get(n.metadata.name) ?? []));
}
