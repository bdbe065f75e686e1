import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBase, SYSTEM_DIR } from './manifests.ts';
import { nodesOfTopology, placePods, podsOf } from './resource-fit.ts';

const TOPOLOGY = join(SYSTEM_DIR, 'topology.yaml');

describe('ai-platform topology fits its manifests', () => {
  const objects = readBase();

  it('has the seed cluster: two zones of ap-northeast-1 and the four pools', () => {
    const nodes = nodesOfTopology(TOPOLOGY);
    const count = (pool: string) =>
      nodes.filter((n) => n.labels['eks.amazonaws.com/nodegroup'] === pool).length;
    expect(new Set(nodes.map((n) => n.zone))).toEqual(new Set(['ap-northeast-1a', 'ap-northeast-1c']));
    expect([count('general'), count('compute'), count('system'), count('gpu')]).toEqual([6, 2, 2, 2]);
    expect(nodes.find((n) => n.labels['eks.amazonaws.com/nodegroup'] === 'gpu')!.taints).toEqual([
      { key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' },
    ]);
  });

  it('places every pod, with a full api canary and Fluent Bit on every node', () => {
    const nodes = nodesOfTopology(TOPOLOGY);
    const pods = podsOf(objects);
    expect(pods.filter((p) => p.name.startsWith('Rollout production/api'))).toHaveLength(6);
    const { unplaced, placement } = placePods(pods, nodes);
    expect(unplaced).toEqual([]);
    for (const [node, names] of placement) {
      expect(
        names.filter((n) => n.includes('fluent-bit')),
        node,
      ).toHaveLength(1);
    }
    for (const node of nodes) {
      expect(node.free.cpu, node.name).toBeGreaterThanOrEqual(0);
      expect(node.free.memory, node.name).toBeGreaterThanOrEqual(0);
    }
  });

  it('keeps web and the stable api running on the general pool of one zone alone', () => {
    const survivors = nodesOfTopology(TOPOLOGY).filter((n) => n.zone === 'ap-northeast-1a');
    const pods = podsOf(objects).filter(
      (p) =>
        p.daemon ||
        p.name.startsWith('Deployment production/web#') ||
        /^Rollout production\/api#[012]$/.test(p.name),
    );
    const appPods = pods.filter((p) => !p.daemon);
    expect(appPods).toHaveLength(6);
    expect(placePods(pods, survivors).unplaced).toEqual([]);
  });
});
