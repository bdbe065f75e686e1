import type { KubeObject } from '../../kube/object.ts';
import { K3S_PROFILE } from '../../system/profiles/profile-registry.ts';
import { laptopTopology } from '../../system/topology/laptop-topology.ts';
import { type Topology, topologyToNodes } from '../../system/topology/topology.ts';

export { laptopTopology };

/** k3s image of the cluster's nodes: the Kubernetes minor the twin serves (kube/api, v1.36); override with TWIN_K3S_IMAGE. */
export const K3S_IMAGE = 'rancher/k3s:v1.36.4-k3s1';
/** The CUDA-capable k3s image built from docker/k3s-cuda/Dockerfile (k3d's "Running CUDA workloads" recipe). */
export const K3S_CUDA_IMAGE = 'local/k3s-cuda:v1.36.4-k3s1-cuda-12.4.1';
/** Host port of the cluster's ingress (k3d's load balancer → Traefik on port 80 of every node). */
export const DEFAULT_INGRESS_PORT = 8081;
/** Labels k3s/kubelet set themselves (or must match the container's hostname): never passed as node labels. */
const KUBELET_OWNED = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
]);
/** The topology node an agent stands for. */
export const TOPOLOGY_NODE_LABEL = 'twin.dev/topology-node';

export type GpuMode = 'emulated' | 'passthrough' | 'none';

export interface K3dAgent {
  /** k3d's agent index (node filter `agent:N`). */
  index: number;
  /** The Kubernetes node name: k3d names agent containers and their nodes k3d-<cluster>-agent-<N>. */
  nodeName: string;
  /** The production node this agent stands for (e.g. general-1a-1). */
  topologyNode: string;
  pool: string;
  zone: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  gpus: number;
}

export interface K3dPlanOptions {
  /** k3d cluster name (a hostname; k3d prefixes its containers with k3d-). */
  clusterName: string;
  gpu?: GpuMode;
  /** Agents per node pool and zone on a laptop (default: the k3s profile's, 1). */
  nodesPerPoolZone?: number;
  ingressHostPort?: number;
  k3sImage?: string;
}

export interface K3dClusterPlan {
  clusterName: string;
  region: string;
  zones: string[];
  agents: K3dAgent[];
  gpu: GpuMode;
  ingressHostPort: number;
  image: string;
  /** How the production topology was shrunk, one line per pool that lost nodes. */
  shrunk: string[];
}

/** One k3d agent per node of the laptop-sized topology, with the labels and taints EKS would give it. */
export function planK3dCluster(topology: Topology, options: K3dPlanOptions): K3dClusterPlan {
  const { topology: small, shrunk } =
    options.nodesPerPoolZone === undefined
      ? K3S_PROFILE.nodes(topology)
      : laptopTopology(topology, options.nodesPerPoolZone);
  const gpu = options.gpu ?? 'emulated';
  const agents = topologyToNodes(small).map((node: KubeObject, index): K3dAgent => {
    const all = node.metadata.labels as Record<string, string>;
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(all)) if (!KUBELET_OWNED.has(k)) labels[k] = v;
    labels[TOPOLOGY_NODE_LABEL] = node.metadata.name;
    const gpus = Number(node.status?.capacity?.['nvidia.com/gpu'] ?? 0);
    return {
      index,
      nodeName: `k3d-${options.clusterName}-agent-${index}`,
      topologyNode: node.metadata.name,
      pool: all['eks.amazonaws.com/nodegroup']!,
      zone: all['topology.kubernetes.io/zone']!,
      labels,
      taints: (node.spec?.taints ?? []).map((t: any) => ({ ...t })),
      gpus,
    };
  });
  const wantsGpu = gpu === 'passthrough' && agents.some((a) => a.gpus > 0);
  return {
    clusterName: options.clusterName,
    region: topology.region,
    zones: topology.zones,
    agents,
    gpu,
    ingressHostPort: options.ingressHostPort ?? DEFAULT_INGRESS_PORT,
    image: options.k3sImage ?? (wantsGpu ? K3S_CUDA_IMAGE : K3S_IMAGE),
    shrunk,
  };
}

function taintArg(t: { key: string; value?: string; effect: string }): string {
  return `--node-taint=${t.key}${t.value !== undefined ? `=${t.value}` : ''}:${t.effect}`;
}

/**
 * The k3d config file (k3d.io/v1alpha5, kind Simple): one server that runs no workloads (tainted like
 * EKS's managed control plane, which has no nodes at all), the agents with their labels and taints
 * (`--k3s-node-label`/`--k3s-arg` in flag form), the ingress on a host port, and the user's kubeconfig
 * left alone (the harness writes its own).
 */
export function k3dConfig(plan: K3dClusterPlan): Record<string, unknown> {
  const nodeLabels: { label: string; nodeFilters: string[] }[] = [];
  const extraArgs: { arg: string; nodeFilters: string[] }[] = [
    { arg: '--node-taint=node-role.kubernetes.io/control-plane:NoSchedule', nodeFilters: ['server:0'] },
  ];
  for (const a of plan.agents) {
    for (const [k, v] of Object.entries(a.labels))
      nodeLabels.push({ label: `${k}=${v}`, nodeFilters: [`agent:${a.index}`] });
    for (const t of a.taints) extraArgs.push({ arg: taintArg(t), nodeFilters: [`agent:${a.index}`] });
  }
  const runtime: Record<string, unknown> = {};
  if (plan.gpu === 'passthrough' && plan.agents.some((a) => a.gpus > 0)) runtime['gpuRequest'] = 'all';
  return {
    apiVersion: 'k3d.io/v1alpha5',
    kind: 'Simple',
    metadata: { name: plan.clusterName },
    servers: 1,
    agents: plan.agents.length,
    image: plan.image,
    ports: [{ port: `${plan.ingressHostPort}:80`, nodeFilters: ['loadbalancer'] }],
    options: {
      k3d: { wait: true, timeout: '300s' },
      k3s: { extraArgs, nodeLabels },
      kubeconfig: { updateDefaultKubeconfig: false, switchCurrentContext: false },
      ...(Object.keys(runtime).length > 0 ? { runtime } : {}),
    },
  };
}

/** The same cluster as `k3d cluster create` flags (what the docs show; the harness uses the file). */
export function k3dCreateFlags(plan: K3dClusterPlan): string[] {
  const args = [
    'cluster',
    'create',
    plan.clusterName,
    '--servers',
    '1',
    '--agents',
    String(plan.agents.length),
    '--image',
    plan.image,
    '--port',
    `${plan.ingressHostPort}:80@loadbalancer`,
    '--k3s-arg',
    '--node-taint=node-role.kubernetes.io/control-plane:NoSchedule@server:0',
  ];
  for (const a of plan.agents) {
    for (const [k, v] of Object.entries(a.labels))
      args.push('--k3s-node-label', `${k}=${v}@agent:${a.index}`);
    for (const t of a.taints) args.push('--k3s-arg', `${taintArg(t)}@agent:${a.index}`);
  }
  if (plan.gpu === 'passthrough' && plan.agents.some((a) => a.gpus > 0)) args.push('--gpus', 'all');
  args.push('--kubeconfig-update-default=false', '--kubeconfig-switch-context=false', '--wait');
  return args;
}

/** Agents of a zone, for a zone outage. */
export function agentsInZone(plan: K3dClusterPlan, zone: string): K3dAgent[] {
  return plan.agents.filter((a) => a.zone === zone);
}
