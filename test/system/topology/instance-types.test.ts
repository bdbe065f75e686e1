import { describe, expect, it } from 'vitest';
import { isTwinError } from '../../../core/errors.ts';
import {
  allocatableOf,
  INSTANCE_TYPES,
  instanceType,
  kubeReservedCpuMillis,
  kubeReservedMemoryBytes,
} from '../../../system/topology/instance-types.ts';

const MI = 2 ** 20;

describe('instance types', () => {
  it('covers the types the topologies use', () => {
    for (const name of [
      't3.medium',
      't3.large',
      't3.xlarge',
      't3.2xlarge',
      'm5.large',
      'm5.xlarge',
      'm5.2xlarge',
      'm5.4xlarge',
      'c5.large',
      'c5.xlarge',
      'c5.2xlarge',
      'c5.4xlarge',
      'r5.large',
      'r5.xlarge',
      'r5.2xlarge',
      'g4dn.xlarge',
      'g4dn.2xlarge',
      'g4dn.12xlarge',
      'g5.xlarge',
      'g5.2xlarge',
      'g5.12xlarge',
      'p3.2xlarge',
      'p4d.24xlarge',
    ]) {
      expect(INSTANCE_TYPES.has(name), name).toBe(true);
    }
  });

  it('uses the EKS eni-max-pods values', () => {
    expect(instanceType('t3.medium').maxPods).toBe(17);
    expect(instanceType('t3.large').maxPods).toBe(35);
    expect(instanceType('m5.large').maxPods).toBe(29);
    expect(instanceType('g4dn.xlarge').maxPods).toBe(29);
    expect(instanceType('m5.4xlarge').maxPods).toBe(234);
    expect(instanceType('p4d.24xlarge').maxPods).toBe(737);
  });

  it('reserves CPU by the EKS AMI steps', () => {
    expect(kubeReservedCpuMillis(1)).toBe(60);
    expect(kubeReservedCpuMillis(2)).toBe(70);
    expect(kubeReservedCpuMillis(4)).toBe(80);
    expect(kubeReservedCpuMillis(8)).toBe(90);
    expect(kubeReservedCpuMillis(96)).toBe(310);
    expect(kubeReservedMemoryBytes(35)).toBe(640 * MI);
  });

  it('computes allocatable of t3.large', () => {
    const a = allocatableOf(instanceType('t3.large'));
    expect(a.cpuMillis).toBe(1930);
    expect(a.memoryBytes).toBe((8192 - 255 - 11 * 35 - 100) * MI);
    expect(a.pods).toBe(35);
    expect(a.gpus).toBe(0);
  });

  it('computes allocatable of g4dn.xlarge', () => {
    const a = allocatableOf(instanceType('g4dn.xlarge'));
    expect(a.cpuMillis).toBe(3920);
    expect(a.memoryBytes).toBe((16384 - 255 - 11 * 29 - 100) * MI);
    expect(a.gpus).toBe(1);
    expect(instanceType('g4dn.xlarge').gpuProduct).toBe('Tesla-T4');
    expect(instanceType('g5.xlarge').gpuProduct).toBe('NVIDIA-A10G');
  });

  it('throws on an unknown type, naming known ones', () => {
    try {
      instanceType('g4dn.huge');
      expect.unreachable();
    } catch (e) {
      expect(isTwinError(e, 'TWIN_TOPOLOGY_INVALID')).toBe(true);
      expect((e as Error).message).toContain('unknown instance type "g4dn.huge"');
      expect((e as Error).message).toContain('g4dn.xlarge');
    }
  });
});
