import { describe, expect, it } from 'vitest';
import { chaosInjected, chaosTargets, chaosWaitingFor } from '../../../env/k3d/k3d-chaos-mesh.ts';
import { K3dFaults } from '../../../env/k3d/k3d-live.ts';
import { planK3dCluster } from '../../../env/k3d/k3d-plan.ts';
import type { ClientNodeKubeApi } from '../../../env/kube-client.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { parseTopology } from '../../../system/topology/topology.ts';

const injected: KubeObject = {
  apiVersion: 'chaos-mesh.org/v1alpha1',
  kind: 'NetworkChaos',
  metadata: { name: 'api-delay', namespace: 'production' },
  spec: {
    action: 'delay',
    mode: 'all',
    selector: { labelSelectors: { 'app.kubernetes.io/name': 'api' } },
    delay: { latency: '300ms' },
  },
  status: {
    conditions: [
      { type: 'Selected', status: 'True' },
      { type: 'AllInjected', status: 'True' },
      { type: 'AllRecovered', status: 'False' },
    ],
    experiment: {
      desiredPhase: 'Run',
      containerRecords: [
        { id: 'production/api-7d9-x', selectorKey: '.', phase: 'Injected' },
        { id: 'production/api-7d9-y', selectorKey: '.', phase: 'Injected' },
      ],
    },
  },
};

describe('Chaos Mesh on k3d', () => {
  it('reads the AllInjected condition and the records’ pods', () => {
    expect(chaosInjected(injected)).toBe(true);
    expect(chaosTargets(injected)).toEqual(['production/api-7d9-x', 'production/api-7d9-y']);
    const pending = structuredClone(injected);
    pending.status.conditions[1].status = 'False';
    pending.status.experiment.containerRecords[1].phase = 'Not Injected';
    expect(chaosInjected(pending)).toBe(false);
    expect(chaosWaitingFor(pending)).toBe('not injected yet: production/api-7d9-y');
    expect(
      chaosTargets({ ...injected, status: { experiment: { containerRecords: [{ id: 'ns/p/c' }] } } }),
    ).toEqual(['ns/p']);
  });

  it('applies the exact object, waits for Chaos Mesh to inject it, and deletes it to recover (also on down)', async () => {
    const calls: string[] = [];
    const kube = {
      async apply(o: KubeObject) {
        calls.push(`apply ${JSON.stringify(o)}`);
        return [o];
      },
      async waitFor(
        _ref: { name: string },
        predicate: (o: KubeObject | undefined) => boolean,
        opts: { what: string },
      ) {
        calls.push(`waitFor ${opts.what}`);
        const o = calls.some((c) => c.startsWith('delete')) ? undefined : injected;
        expect(predicate(o)).toBe(true);
        return o;
      },
      async delete(ref: { kind: string; name: string }) {
        calls.push(`delete ${ref.kind} ${ref.name}`);
      },
    } as unknown as ClientNodeKubeApi;
    const topology = parseTopology(
      'apiVersion: twin.dev/v1alpha1\nkind: Topology\nmetadata: { name: t }\nregion: ap-northeast-1\nzones: [ap-northeast-1a]\nnodePools:\n  - { name: general, instanceType: t3.large, nodesPerZone: 1 }\n',
      't.yaml',
    );
    const events: string[] = [];
    const faults = new K3dFaults(
      planK3dCluster(topology, { clusterName: 'z' }),
      kube,
      { exec: async () => '', cwd: '/' },
      (e) => events.push(`${e.kind} ${e.object}`),
    );
    const { status: _s, ...object } = injected;
    const injection = await faults.chaos(object as KubeObject);
    expect(calls[0]).toBe(`apply ${JSON.stringify(object)}`);
    expect(calls[1]).toBe(
      'waitFor NetworkChaos production/api-delay injected by Chaos Mesh (condition AllInjected)',
    );
    expect(injection.targets).toEqual(['production/api-7d9-x', 'production/api-7d9-y']);
    await faults.undo();
    await injection.recover();
    expect(calls.slice(2)).toEqual([
      'delete NetworkChaos api-delay',
      'waitFor NetworkChaos production/api-delay deleted (Chaos Mesh recovers its targets before removing its finalizer)',
    ]);
    expect(events).toEqual([
      'ChaosInjected NetworkChaos production/api-delay',
      'ChaosRecovered NetworkChaos production/api-delay',
    ]);
  });
});
