import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { KubeObject } from '../../kube/object.ts';
import { bytes, cpuMillis } from '../../kube/quantity.ts';
import { podTemplateOf } from './manifests.ts';

export interface Capacity {
  cpu: number;
  memory: number;
  gpu: number;
  pods: number;
}

/** Allocatable per instance type on EKS (kubelet and system reserved already taken off). */
export const ALLOCATABLE: Record<string, Capacity> = {
  't3.large': { cpu: 1930, memory: bytes('7.2Gi'), gpu: 0, pods: 35 },
  'c5.xlarge': { cpu: 3920, memory: bytes('6.9Gi'), gpu: 0, pods: 58 },
  'g4dn.xlarge': { cpu: 3920, memory: bytes('14.8Gi'), gpu: 1, pods: 29 },
};

interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface FitNode {
  name: string;
  zone: string;
  labels: Record<string, string>;
  taints: Taint[];
  free: Capacity;
}

export interface FitPod {
  name: string;
  request: Capacity;
  nodeSelector: Record<string, string>;
  tolerations: { key?: string; operator?: string; value?: string; effect?: string }[];
  daemon: boolean;
}

export function nodesOfTopology(path: string): FitNode[] {
  const topology = parse(readFileSync(path, 'utf8')) as {
    zones: string[];
    nodePools: {
      name: string;
      instanceType: string;
      nodesPerZone: number;
      labels?: Record<string, string>;
      taints?: Taint[];
    }[];
  };
  const nodes: FitNode[] = [];
  for (const pool of topology.nodePools) {
    const capacity = ALLOCATABLE[pool.instanceType];
    if (!capacity)
      throw new Error(`${path}: nodePools ${pool.name}: no allocatable figures for ${pool.instanceType}`);
    for (const zone of topology.zones) {
      for (let i = 0; i < pool.nodesPerZone; i++) {
        nodes.push({
          name: `${pool.name}-${zone}-${i}`,
          zone,
          labels: {
            ...pool.labels,
            'eks.amazonaws.com/nodegroup': pool.name,
            'topology.kubernetes.io/zone': zone,
            'node.kubernetes.io/instance-type': pool.instanceType,
          },
          taints: pool.taints ?? [],
          free: { ...capacity },
        });
      }
    }
  }
  return nodes;
}

function requestOf(spec: any): Capacity {
  const sum: Capacity = { cpu: 0, memory: 0, gpu: 0, pods: 1 };
  for (const c of spec.containers) {
    const r = c.resources?.requests ?? {};
    const l = c.resources?.limits ?? {};
    sum.cpu += cpuMillis(r.cpu);
    sum.memory += bytes(r.memory);
    sum.gpu += Number(r['nvidia.com/gpu'] ?? l['nvidia.com/gpu'] ?? 0);
  }
  return sum;
}

/**
 * The pods the manifests ask for at once in the worst planned moment: every workload at its replica
 * count, a Rollout at full canary (stable and canary ReplicaSets both at full size, as Argo keeps the
 * stable one scaled up under traffic routing), one pod per CronJob, suspended ones included.
 */
export function podsOf(objects: KubeObject[]): FitPod[] {
  const pods: FitPod[] = [];
  for (const o of objects) {
    const template = podTemplateOf(o);
    if (
      !template ||
      !['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Job', 'Rollout'].includes(o.kind)
    )
      continue;
    const copies =
      o.kind === 'DaemonSet'
        ? 1
        : o.kind === 'Rollout'
          ? 2 * (o.spec.replicas ?? 1)
          : o.kind === 'CronJob'
            ? 1
            : (o.spec.replicas ?? 1);
    for (let i = 0; i < copies; i++) {
      pods.push({
        name: `${o.kind} ${o.metadata.namespace}/${o.metadata.name}#${i}`,
        request: requestOf(template.spec),
        nodeSelector: template.spec.nodeSelector ?? {},
        tolerations: template.spec.tolerations ?? [],
        daemon: o.kind === 'DaemonSet',
      });
    }
  }
  return pods;
}

function tolerates(pod: FitPod, node: FitNode): boolean {
  return node.taints
    .filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
    .every((t) =>
      pod.tolerations.some(
        (tol) =>
          (tol.key === undefined && tol.operator === 'Exists') ||
          (tol.key === t.key &&
            (tol.operator === 'Exists' || tol.value === t.value) &&
            (tol.effect === undefined || tol.effect === t.effect)),
      ),
    );
}

function fits(pod: FitPod, node: FitNode): boolean {
  const f = node.free;
  const r = pod.request;
  return f.cpu >= r.cpu && f.memory >= r.memory && f.gpu >= r.gpu && f.pods >= r.pods;
}

function take(pod: FitPod, node: FitNode): void {
  node.free.cpu -= pod.request.cpu;
  node.free.memory -= pod.request.memory;
  node.free.gpu -= pod.request.gpu;
  node.free.pods -= pod.request.pods;
}

/**
 * Places DaemonSet pods on every eligible node first, then the rest largest-first on the eligible node
 * with the least CPU left that still fits (best fit decreasing). Returns what could not be placed.
 */
export function placePods(
  pods: FitPod[],
  nodes: FitNode[],
): { unplaced: string[]; placement: Map<string, string[]> } {
  const placement = new Map<string, string[]>(nodes.map((n) => [n.name, []]));
  const unplaced: string[] = [];
  const eligible = (pod: FitPod, node: FitNode) =>
    Object.entries(pod.nodeSelector).every(([k, v]) => node.labels[k] === v) && tolerates(pod, node);
  for (const pod of pods.filter((p) => p.daemon)) {
    for (const node of nodes.filter((n) => eligible(pod, n))) {
      if (fits(pod, node)) {
        take(pod, node);
        placement.get(node.name)!.push(pod.name);
      } else unplaced.push(`${pod.name} on ${node.name}`);
    }
  }
  const rest = pods
    .filter((p) => !p.daemon)
    .sort((a, b) => b.request.cpu - a.request.cpu || b.request.memory - a.request.memory);
  for (const pod of rest) {
    const candidates = nodes
      .filter((n) => eligible(pod, n) && fits(pod, n))
      .sort((a, b) => a.free.cpu - b.free.cpu);
    const node = candidates[0];
    if (!node) {
      unplaced.push(pod.name);
      continue;
    }
    take(pod, node);
    placement.get(node.name)!.push(pod.name);
  }
  return { unplaced, placement };
}
