import type { KubeObject } from '../../../kube/object.ts';
import { parseTopology, topologyToNodes } from '../../../system/topology/topology.ts';

let uid = 0;

export interface PodOptions {
  namespace?: string;
  labels?: Record<string, string>;
  cpu?: string;
  memory?: string;
  gpu?: number;
  nodeName?: string;
  phase?: string;
  owner?: string;
  spec?: Record<string, unknown>;
}

export function pod(name: string, o: PodOptions = {}): KubeObject {
  const requests: Record<string, string> = {};
  if (o.cpu) requests['cpu'] = o.cpu;
  if (o.memory) requests['memory'] = o.memory;
  const limits: Record<string, string> = {};
  if (o.gpu) limits['nvidia.com/gpu'] = String(o.gpu);
  const p: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      uid: `uid-${name}-${++uid}`,
      labels: o.labels ?? {},
    },
    spec: {
      containers: [{ name: 'main', image: 'app:1', resources: { requests, limits } }],
      ...(o.spec ?? {}),
    },
    status: { phase: o.phase ?? (o.nodeName ? 'Running' : 'Pending') },
  };
  if (o.nodeName) p.spec.nodeName = o.nodeName;
  if (o.owner) {
    p.metadata.ownerReferences = [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: `rs-${o.owner}`, controller: true },
    ];
  }
  return p;
}

export function node(
  name: string,
  o: {
    zone?: string;
    cpu?: string;
    memory?: string;
    pods?: number;
    gpu?: number;
    labels?: Record<string, string>;
    taints?: unknown[];
    unschedulable?: boolean;
  } = {},
): KubeObject {
  const allocatable: Record<string, string> = {
    cpu: o.cpu ?? '4',
    memory: o.memory ?? '16Gi',
    pods: String(o.pods ?? 110),
    'ephemeral-storage': '20Gi',
  };
  if (o.gpu) allocatable['nvidia.com/gpu'] = String(o.gpu);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'topology.kubernetes.io/zone': o.zone ?? 'zone-a',
        ...(o.labels ?? {}),
      },
    },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: { allocatable, capacity: allocatable, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

/** The brief's production topology: 6 t3.large (3 per zone) and 2 g4dn.xlarge with the GPU taint, over 2 zones. */
export const PRODUCTION_TOPOLOGY = `apiVersion: twin.dev/v1alpha1
kind: Topology
metadata: { name: ai-platform-production }
region: ap-northeast-1
zones: [ap-northeast-1a, ap-northeast-1c]
nodePools:
  - name: general
    instanceType: t3.large
    nodesPerZone: 3
    labels: { workload-tier: app }
    taints: []
  - name: gpu
    instanceType: g4dn.xlarge
    nodesPerZone: 1
    taints: [{ key: nvidia.com/gpu, value: "true", effect: NoSchedule }]
`;

export function productionNodes(): KubeObject[] {
  return topologyToNodes(parseTopology(PRODUCTION_TOPOLOGY, 'topology.yaml'));
}
