import { describe, expect, it } from 'vitest';
import { clusterEnvironment } from '../../env/cluster/cluster-backend.ts';
import { assertFaultsSupported, FAULT_NAMES, FAULT_NEEDS, unsupportedFaults } from '../../env/fault-needs.ts';
import { k3dEnvironment } from '../../env/k3d/k3d-environment.ts';
import { localEnvironment } from '../../env/local/local-environment.ts';

describe('fault needs: what each fault needs, checked before anything starts', () => {
  it('every fault of the Environment API declares its needs; power and network of a node need node access', () => {
    expect([...FAULT_NAMES].sort()).toEqual(
      [
        'chaos',
        'cordon',
        'drain',
        'evict',
        'failZone',
        'killPod',
        'partitionNode',
        'restoreZone',
        'startNode',
        'stopNode',
        'uncordon',
      ].sort(),
    );
    for (const f of ['stopNode', 'startNode', 'failZone', 'restoreZone', 'partitionNode'] as const)
      expect(FAULT_NEEDS[f]).toEqual(['node-access']);
    for (const f of ['killPod', 'cordon', 'uncordon', 'drain', 'evict'] as const)
      expect(FAULT_NEEDS[f]).toEqual(['kubernetes-api']);
  });

  it('the twin and k3d can inject every fault; an existing cluster only those through the Kubernetes API', () => {
    expect(unsupportedFaults(localEnvironment.faultSupport, FAULT_NAMES)).toEqual([]);
    expect(unsupportedFaults(k3dEnvironment.faultSupport, FAULT_NAMES)).toEqual([]);
    expect(unsupportedFaults(clusterEnvironment.faultSupport, FAULT_NAMES).map((m) => m.fault)).toEqual([
      'stopNode',
      'startNode',
      'failZone',
      'restoreZone',
      'partitionNode',
    ]);
    expect(() =>
      assertFaultsSupported(clusterEnvironment, 'scenario x', ['killPod', 'cordon', 'drain', 'chaos']),
    ).not.toThrow();
  });

  it('a scenario that powers nodes off, on a cluster: an input error naming each fault and why there is no node access', () => {
    let err: any;
    try {
      assertFaultsSupported(clusterEnvironment, 'scenario node-loss', ['stopNode', 'startNode', 'killPod']);
    } catch (e) {
      err = e;
    }
    expect(err?.code).toBe('TWIN_ENV_UNAVAILABLE');
    expect(err.isInputError).toBe(true);
    expect(err.message).toMatch(/^scenario node-loss cannot run on the cluster environment: /);
    expect(err.message).toContain(
      'faults.stopNode needs node-access: a cluster reached through a kubeconfig',
    );
    expect(err.message).toContain('faults.startNode needs node-access');
    expect(err.message).toContain('a managed cluster such as EKS');
    expect(err.message).not.toContain('killPod');
  });

  it('an unknown fault name is an error naming the faults there are', () => {
    expect(() => assertFaultsSupported(localEnvironment, 'scenario x', ['meltNode'])).toThrow(
      /faults: "meltNode" is not a fault of the Environment API \(faults: killPod, stopNode/,
    );
  });
});
