import { createHash } from 'node:crypto';
import type { KubeObject } from '../../kube/object.ts';
import type { GpuDevice } from './nvidia-smi.ts';

export const GPU_RESOURCE = 'nvidia.com/gpu';
/** Node annotation listing the device IDs a twin node's device plugin advertises. */
export const GPU_DEVICES_ANNOTATION = 'twin.dev/gpu-devices';

export type GpuMode = 'emulated' | 'passthrough';

/** GPUs a pod asks for: the nvidia.com/gpu limit of its containers (extended resources are set as limits). */
export function podGpuRequest(pod: KubeObject): number {
  let n = 0;
  for (const c of pod.spec?.containers ?? []) {
    const v = c.resources?.limits?.[GPU_RESOURCE] ?? c.resources?.requests?.[GPU_RESOURCE];
    if (v !== undefined) n += Number(v) || 0;
  }
  return n;
}

/** Stable fake device IDs for an emulated node's GPUs, in NVIDIA's GPU-<uuid> form; they match no real device. */
function emulatedIds(node: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const h = createHash('sha256').update(`${node}/${i}`).digest('hex');
    return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  });
}

/**
 * Gives the GPU nodes of the topology their devices, as the NVIDIA device plugin advertises them.
 * Emulated: each node keeps its instance type's GPU count with fake device IDs. Passthrough: the
 * host's devices are dealt to the GPU nodes in order, each up to its instance type's count, and each
 * node's nvidia.com/gpu capacity becomes the number it got (0 for GPU nodes left without one).
 */
export function assignGpuDevices(nodes: KubeObject[], mode: GpuMode, host: GpuDevice[] = []): KubeObject[] {
  let next = 0;
  return nodes.map((node) => {
    const capacity = Number(node.status?.capacity?.[GPU_RESOURCE] ?? 0);
    if (capacity <= 0) return node;
    const name = node.metadata.name;
    const ids =
      mode === 'emulated'
        ? emulatedIds(name, capacity)
        : host.slice(next, next + capacity).map((d) => d.uuid);
    if (mode === 'passthrough') next += capacity;
    const out = structuredClone(node);
    out.metadata.annotations = {
      ...(out.metadata.annotations ?? {}),
      [GPU_DEVICES_ANNOTATION]: ids.join(','),
    };
    if (mode === 'passthrough') {
      out.status.capacity[GPU_RESOURCE] = String(ids.length);
      out.status.allocatable[GPU_RESOURCE] = String(ids.length);
      out.metadata.labels = { ...(out.metadata.labels ?? {}), 'nvidia.com/gpu.count': String(ids.length) };
      const product = host.find((d) => d.uuid === ids[0])?.name;
      if (product) out.metadata.labels['nvidia.com/gpu.product'] = product.replace(/\s+/g, '-');
    }
    return out;
  });
}

/**
 * The device plugin's exclusive assignment: a pod granted n GPUs gets n devices of its node that no
 * other pod holds, until the pod's containers stop.
 */
export class GpuAllocator {
  private readonly held = new Map<string, { node: string; devices: string[] }>();

  constructor(
    private readonly mode: GpuMode,
    /** Host device index by ID (passthrough), for CUDA_VISIBLE_DEVICES. */
    private readonly hostIndex: Map<string, number> = new Map(),
  ) {}

  /** Devices for the pod on its node; throws when the node has too few free (UnexpectedAdmissionError). */
  allocate(podUid: string, node: KubeObject, count: number): string[] {
    const existing = this.held.get(podUid);
    if (existing) return existing.devices;
    if (count <= 0) return [];
    const name = node.metadata.name;
    const all = String(node.metadata.annotations?.[GPU_DEVICES_ANNOTATION] ?? '')
      .split(',')
      .filter(Boolean);
    const taken = new Set([...this.held.values()].filter((h) => h.node === name).flatMap((h) => h.devices));
    const free = all.filter((d) => !taken.has(d));
    if (free.length < count)
      throw new Error(
        `Allocate failed due to requested number of devices unavailable for ${GPU_RESOURCE}. Requested: ${count}, Available: ${free.length}`,
      );
    const devices = free.slice(0, count);
    this.held.set(podUid, { node: name, devices });
    return devices;
  }

  release(podUid: string): void {
    this.held.delete(podUid);
  }

  /**
   * The environment a container of the pod gets: NVIDIA_VISIBLE_DEVICES as the device plugin sets it
   * and CUDA_VISIBLE_DEVICES so that a process on the host sees only its own devices (host indices in
   * passthrough; the fake IDs, which match nothing, when emulated). Pods without GPUs see none.
   */
  environment(devices: string[]): Record<string, string> {
    if (devices.length === 0) return { NVIDIA_VISIBLE_DEVICES: 'void', CUDA_VISIBLE_DEVICES: '' };
    const cuda =
      this.mode === 'passthrough'
        ? devices.map((d) => String(this.hostIndex.get(d) ?? d)).join(',')
        : devices.join(',');
    return { NVIDIA_VISIBLE_DEVICES: devices.join(','), CUDA_VISIBLE_DEVICES: cuda };
  }
}
