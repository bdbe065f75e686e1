import { describe, expect, it } from 'vitest';
import { podPlacement } from '../../../twin/cnpg/cluster-controller.ts';

const cluster = (affinity?: Record<string, unknown>) => ({
  apiVersion: 'postgresql.cnpg.io/v1',
  kind: 'Cluster',
  metadata: { name: 'pg', namespace: 'db' },
  spec: { instances: 3, ...(affinity ? { affinity } : {}) },
});

const term = (topologyKey: string) => ({
  topologyKey,
  labelSelector: { matchLabels: { 'cnpg.io/cluster': 'pg', 'cnpg.io/podRole': 'instance' } },
});

describe('CloudNativePG AffinityConfiguration on the instance pods', () => {
  it('defaults to preferred anti-affinity by host and nothing else', () => {
    expect(podPlacement(cluster())).toEqual({
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 100, podAffinityTerm: term('kubernetes.io/hostname') },
          ],
        },
      },
    });
  });

  it('carries nodeSelector, tolerations and nodeAffinity, and the anti-affinity settings', () => {
    const tolerations = [{ key: 'database', operator: 'Equal', value: 'true', effect: 'NoSchedule' }];
    const nodeAffinity = { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } };
    expect(
      podPlacement(
        cluster({
          nodeSelector: { workload: 'database' },
          tolerations,
          nodeAffinity,
          topologyKey: 'topology.kubernetes.io/zone',
          podAntiAffinityType: 'required',
        }),
      ),
    ).toEqual({
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [term('topology.kubernetes.io/zone')],
        },
        nodeAffinity,
      },
      nodeSelector: { workload: 'database' },
      tolerations,
    });
    expect(podPlacement(cluster({ enablePodAntiAffinity: false, nodeSelector: { a: 'b' } }))).toEqual({
      nodeSelector: { a: 'b' },
    });
  });
});
