import { TwinError } from '../../core/errors.ts';

/** An EC2 instance type as an EKS node sees it. */
export interface InstanceType {
  name: string;
  vcpu: number;
  memoryGiB: number;
  gpus: number;
  /** GPU product as NVIDIA GPU feature discovery labels it (nvidia.com/gpu.product). */
  gpuProduct?: string;
  /** Pods per node from the EKS AMI's eni-max-pods.txt (VPC CNI without prefix delegation). */
  maxPods: number;
}

const T4 = 'Tesla-T4';
const A10G = 'NVIDIA-A10G';

const TABLE: InstanceType[] = [
  { name: 't3.medium', vcpu: 2, memoryGiB: 4, gpus: 0, maxPods: 17 },
  { name: 't3.large', vcpu: 2, memoryGiB: 8, gpus: 0, maxPods: 35 },
  { name: 't3.xlarge', vcpu: 4, memoryGiB: 16, gpus: 0, maxPods: 58 },
  { name: 't3.2xlarge', vcpu: 8, memoryGiB: 32, gpus: 0, maxPods: 58 },
  { name: 'm5.large', vcpu: 2, memoryGiB: 8, gpus: 0, maxPods: 29 },
  { name: 'm5.xlarge', vcpu: 4, memoryGiB: 16, gpus: 0, maxPods: 58 },
  { name: 'm5.2xlarge', vcpu: 8, memoryGiB: 32, gpus: 0, maxPods: 58 },
  { name: 'm5.4xlarge', vcpu: 16, memoryGiB: 64, gpus: 0, maxPods: 234 },
  { name: 'm5.8xlarge', vcpu: 32, memoryGiB: 128, gpus: 0, maxPods: 234 },
  { name: 'c5.large', vcpu: 2, memoryGiB: 4, gpus: 0, maxPods: 29 },
  { name: 'c5.xlarge', vcpu: 4, memoryGiB: 8, gpus: 0, maxPods: 58 },
  { name: 'c5.2xlarge', vcpu: 8, memoryGiB: 16, gpus: 0, maxPods: 58 },
  { name: 'c5.4xlarge', vcpu: 16, memoryGiB: 32, gpus: 0, maxPods: 234 },
  { name: 'r5.large', vcpu: 2, memoryGiB: 16, gpus: 0, maxPods: 29 },
  { name: 'r5.xlarge', vcpu: 4, memoryGiB: 32, gpus: 0, maxPods: 58 },
  { name: 'r5.2xlarge', vcpu: 8, memoryGiB: 64, gpus: 0, maxPods: 58 },
  { name: 'g4dn.xlarge', vcpu: 4, memoryGiB: 16, gpus: 1, gpuProduct: T4, maxPods: 29 },
  { name: 'g4dn.2xlarge', vcpu: 8, memoryGiB: 32, gpus: 1, gpuProduct: T4, maxPods: 29 },
  { name: 'g4dn.4xlarge', vcpu: 16, memoryGiB: 64, gpus: 1, gpuProduct: T4, maxPods: 29 },
  { name: 'g4dn.12xlarge', vcpu: 48, memoryGiB: 192, gpus: 4, gpuProduct: T4, maxPods: 234 },
  { name: 'g5.xlarge', vcpu: 4, memoryGiB: 16, gpus: 1, gpuProduct: A10G, maxPods: 58 },
  { name: 'g5.2xlarge', vcpu: 8, memoryGiB: 32, gpus: 1, gpuProduct: A10G, maxPods: 58 },
  { name: 'g5.4xlarge', vcpu: 16, memoryGiB: 64, gpus: 1, gpuProduct: A10G, maxPods: 234 },
  { name: 'g5.12xlarge', vcpu: 48, memoryGiB: 192, gpus: 4, gpuProduct: A10G, maxPods: 234 },
  { name: 'p3.2xlarge', vcpu: 8, memoryGiB: 61, gpus: 1, gpuProduct: 'Tesla-V100-SXM2-16GB', maxPods: 58 },
  {
    name: 'p4d.24xlarge',
    vcpu: 96,
    memoryGiB: 1152,
    gpus: 8,
    gpuProduct: 'NVIDIA-A100-SXM4-40GB',
    maxPods: 737,
  },
];

export const INSTANCE_TYPES: ReadonlyMap<string, InstanceType> = new Map(TABLE.map((t) => [t.name, t]));

/** The instance type by name; throws TWIN_TOPOLOGY_INVALID naming a few known types when unknown. */
export function instanceType(name: string): InstanceType {
  const t = INSTANCE_TYPES.get(name);
  if (!t) throw new TwinError('TWIN_TOPOLOGY_INVALID', unknownInstanceTypeMessage(name));
  return t;
}

export function unknownInstanceTypeMessage(name: string): string {
  const family = name.split('.')[0] ?? '';
  const sameFamily = TABLE.filter((t) => t.name.startsWith(`${family}.`)).map((t) => t.name);
  const examples = (
    sameFamily.length > 0 ? sameFamily : ['t3.large', 'm5.xlarge', 'c5.2xlarge', 'g4dn.xlarge', 'g5.xlarge']
  ).slice(0, 6);
  return `unknown instance type "${name}"; known types include ${examples.join(', ')} (${TABLE.length} in system/topology/instance-types.ts)`;
}

export interface NodeResources {
  /** Millicores. */
  cpuMillis: number;
  memoryBytes: number;
  pods: number;
  gpus: number;
  ephemeralStorageBytes: number;
}

const MI = 2 ** 20;
const GI = 2 ** 30;
/** Root volume of an EKS managed node group when the launch template does not set one. */
export const DEFAULT_ROOT_VOLUME_GIB = 20;

/** What the kubelet reports as capacity for an instance type. */
export function capacityOf(t: InstanceType, rootVolumeGiB = DEFAULT_ROOT_VOLUME_GIB): NodeResources {
  // Twin simplification: capacity memory is the nominal instance memory; real nodes report a little less (kernel, firmware).
  return {
    cpuMillis: t.vcpu * 1000,
    memoryBytes: t.memoryGiB * GI,
    pods: t.maxPods,
    gpus: t.gpus,
    ephemeralStorageBytes: rootVolumeGiB * GI,
  };
}

/** kube-reserved CPU of the EKS AMI bootstrap: 6% of the first core, 1% of the second, 0.5% of cores 3–4, 0.25% above. */
export function kubeReservedCpuMillis(vcpu: number): number {
  const cores = vcpu;
  let reserved = 0;
  reserved += Math.min(cores, 1) * 60;
  reserved += Math.min(Math.max(cores - 1, 0), 1) * 10;
  reserved += Math.min(Math.max(cores - 2, 0), 2) * 5;
  reserved += Math.max(cores - 4, 0) * 2.5;
  return Math.floor(reserved);
}

/** kube-reserved memory of the EKS AMI bootstrap: 255Mi + 11Mi per pod the node can run. */
export function kubeReservedMemoryBytes(maxPods: number): number {
  return (255 + 11 * maxPods) * MI;
}

/** evictionHard memory.available of the EKS AMI kubelet config. */
export const EVICTION_HARD_MEMORY_BYTES = 100 * MI;

/** Allocatable = capacity − kube-reserved − eviction threshold, as the EKS AMI bootstrap configures the kubelet. */
export function allocatableOf(t: InstanceType, rootVolumeGiB = DEFAULT_ROOT_VOLUME_GIB): NodeResources {
  const cap = capacityOf(t, rootVolumeGiB);
  return {
    cpuMillis: cap.cpuMillis - kubeReservedCpuMillis(t.vcpu),
    memoryBytes: cap.memoryBytes - kubeReservedMemoryBytes(t.maxPods) - EVICTION_HARD_MEMORY_BYTES,
    pods: cap.pods,
    gpus: cap.gpus,
    // kube-reserved ephemeral-storage 1Gi and evictionHard nodefs.available 10%.
    ephemeralStorageBytes: Math.floor(cap.ephemeralStorageBytes * 0.9) - GI,
  };
}
