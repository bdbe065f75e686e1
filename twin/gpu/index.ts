export {
  assignGpuDevices,
  GPU_DEVICES_ANNOTATION,
  GPU_RESOURCE,
  GpuAllocator,
  type GpuMode,
  podGpuRequest,
} from './gpu-allocator.ts';
export { type GpuDevice, listHostGpus, parseNvidiaSmiList } from './nvidia-smi.ts';
