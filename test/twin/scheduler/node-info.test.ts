import { describe, expect, it } from 'vitest';
import { addPod, nodeInfo, removePod } from '../../../twin/scheduler/node-info.ts';
import { node, pod } from './fixtures.ts';

describe('NodeInfo kept up to date (the scheduler cache)', () => {
  it('adding and removing pods one by one gives what building it from its pods gives', () => {
    const n = node('n1', { cpu: '8', memory: '32Gi', pods: 110 });
    const pods = Array.from({ length: 40 }, (_, i) =>
      pod(`p${i}`, {
        nodeName: 'n1',
        cpu: `${100 + i}m`,
        memory: `${64 + i}Mi`,
        owner: i % 3 === 0 ? 'web' : 'api',
        ...(i % 7 === 0
          ? {
              spec: {
                affinity: {
                  podAntiAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: [
                      { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'x' } } },
                    ],
                  },
                },
              },
            }
          : {}),
      }),
    );
    const info = nodeInfo(n, []);
    for (const p of pods) addPod(info, p);
    const kept = pods.filter((_, i) => i % 4 !== 1);
    for (const [i, p] of pods.entries()) if (i % 4 === 1) expect(removePod(info, p)).toBe(true);
    expect(removePod(info, pods[1]!)).toBe(false);
    const rebuilt = nodeInfo(n, kept);
    expect(info.pods).toEqual(rebuilt.pods);
    expect(info.requested).toEqual(rebuilt.requested);
    expect(info.nonZeroRequested).toEqual(rebuilt.nonZeroRequested);
    expect(info.podsWithAffinity.map((p) => p.metadata.name)).toEqual(
      rebuilt.podsWithAffinity.map((p) => p.metadata.name),
    );
    expect(info.byController).toEqual(rebuilt.byController);
    expect(info.byController.get('rs-web')).toBe(
      kept.filter((p) => p.metadata.ownerReferences?.[0]?.name === 'web').length,
    );
  });
});
