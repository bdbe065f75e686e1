import { createHash } from 'node:crypto';
import { TwinError } from '../../core/errors.ts';
import type { KubeObject } from '../../kube/object.ts';
import {
  allocatableOf,
  capacityOf,
  DEFAULT_ROOT_VOLUME_GIB,
  instanceType,
  type NodeResources,
} from './instance-types.ts';
import { nodeAddress, nodeAddressCapacity, nodeSubnet } from './node-subnets.ts';
import type { NodePool, Topology } from './topology-schema.ts';

export const KUBELET_VERSION = 'v1.28.15-eks-1552ad0';
const OS_IMAGE = 'Amazon Linux 2';
const KERNEL_VERSION = '5.10.227-219.884.amzn2.x86_64';
const CONTAINER_RUNTIME_VERSION = 'containerd://1.7.22';

/** "ap-northeast-1a" → "1a": the part of a zone name used in node names. */
export function zoneSuffix(zone: string): string {
  return zone.slice(zone.lastIndexOf('-') + 1);
}

/** The zone of each node of a pool, in node order: nodesPerZone per zone, or `nodes` round-robin over the zones. */
function poolZones(pool: NodePool, topologyZones: string[]): string[] {
  const zones = pool.zones ?? topologyZones;
  if (pool.nodesPerZone !== undefined)
    return zones.flatMap((z) => Array.from({ length: pool.nodesPerZone! }, () => z));
  return Array.from({ length: pool.nodes ?? 0 }, (_, i) => zones[i % zones.length]!);
}

/** v1 Node objects for a topology, as EKS managed node groups would register them. */
export function topologyToNodes(topology: Topology): KubeObject[] {
  const nodes: KubeObject[] = [];
  const hostsInZone = new Map<string, number>();
  for (const pool of topology.nodePools) {
    const perZoneIndex = new Map<string, number>();
    const zones = poolZones(pool, topology.zones);
    const ordered = [...zones.entries()].sort(
      (a, b) => topology.zones.indexOf(a[1]) - topology.zones.indexOf(b[1]) || a[0] - b[0],
    );
    for (const [, zone] of ordered) {
      const index = (perZoneIndex.get(zone) ?? 0) + 1;
      perZoneIndex.set(zone, index);
      const host = (hostsInZone.get(zone) ?? 0) + 1;
      hostsInZone.set(zone, host);
      const subnet = nodeSubnet(topology, zone);
      if (host > nodeAddressCapacity(subnet)) {
        throw new TwinError(
          'TWIN_TOPOLOGY_INVALID',
          `topology ${topology.metadata.name}: node pool ${pool.name} brings zone ${zone} to more than ${nodeAddressCapacity(subnet)} nodes, more than its subnet ${subnet.text} holds; widen network.nodeSubnets.${zone} or lower the pool`,
        );
      }
      const ip = nodeAddress(subnet, host);
      nodes.push(nodeObject(topology, pool, zone, `${pool.name}-${zoneSuffix(zone)}-${index}`, ip));
    }
  }
  return nodes;
}

function nodeObject(topology: Topology, pool: NodePool, zone: string, name: string, ip: string): KubeObject {
  const type = instanceType(pool.instanceType);
  const disk = pool.diskSizeGiB ?? DEFAULT_ROOT_VOLUME_GIB;
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': 'amd64',
    'topology.kubernetes.io/region': topology.region,
    'topology.kubernetes.io/zone': zone,
    'node.kubernetes.io/instance-type': type.name,
    'eks.amazonaws.com/nodegroup': pool.name,
    'eks.amazonaws.com/capacityType': 'ON_DEMAND',
  };
  if (type.gpus > 0) {
    labels['nvidia.com/gpu.present'] = 'true';
    labels['nvidia.com/gpu.count'] = String(type.gpus);
    labels['nvidia.com/gpu.product'] = type.gpuProduct ?? 'NVIDIA-GPU';
  }
  Object.assign(labels, pool.labels ?? {});
  const instanceId = `i-${createHash('sha256').update(`${topology.metadata.name}/${name}`).digest('hex').slice(0, 17)}`;
  const spec: Record<string, unknown> = { providerID: `aws:///${zone}/${instanceId}` };
  if (pool.taints && pool.taints.length > 0) spec['taints'] = pool.taints.map((t) => ({ ...t }));
  const conditions = [
    condition(
      'MemoryPressure',
      'False',
      'KubeletHasSufficientMemory',
      'kubelet has sufficient memory available',
    ),
    condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels, annotations: { 'alpha.kubernetes.io/provided-node-ip': ip } },
    spec,
    status: {
      capacity: resourceList(capacityOf(type, disk)),
      allocatable: resourceList(allocatableOf(type, disk)),
      conditions,
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        machineID: instanceId,
        systemUUID: instanceId,
        bootID: instanceId,
        kernelVersion: KERNEL_VERSION,
        osImage: OS_IMAGE,
        containerRuntimeVersion: CONTAINER_RUNTIME_VERSION,
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

function condition(type: string, status: string, reason: string, message: string) {
  return { type, status, reason, message };
}

function resourceList(r: NodeResources): Record<string, string> {
  const list: Record<string, string> = {
    cpu: r.cpuMillis % 1000 === 0 ? String(r.cpuMillis / 1000) : `${r.cpuMillis}m`,
    memory: `${Math.floor(r.memoryBytes / 1024)}Ki`,
    pods: String(r.pods),
    'ephemeral-storage': `${Math.floor(r.ephemeralStorageBytes / 1024)}Ki`,
  };
  if (r.gpus > 0) list['nvidia.com/gpu'] = String(r.gpus);
  return list;
}
