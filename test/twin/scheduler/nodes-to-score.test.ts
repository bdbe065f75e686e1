import { describe, expect, it } from 'vitest';
import { diagnose, numFeasibleNodesToFind } from '../../../twin/scheduler/schedule.ts';
import { node, pod } from './fixtures.ts';

describe('percentageOfNodesToScore (adaptive default)', () => {
  it('looks at every node below 100, then 50 % less 1 % per 125 nodes, at least 5 % and 100 nodes', () => {
    expect(numFeasibleNodesToFind(8)).toBe(8);
    expect(numFeasibleNodesToFind(99)).toBe(99);
    expect(numFeasibleNodesToFind(100)).toBe(100);
    expect(numFeasibleNodesToFind(300)).toBe(144); // 48 %
    expect(numFeasibleNodesToFind(1000)).toBe(420); // 42 %
    expect(numFeasibleNodesToFind(5000)).toBe(500); // 10 %
    expect(numFeasibleNodesToFind(6000)).toBe(300); // 5 %
  });

  it('stops the search once enough feasible nodes are found, starting where the last one stopped', () => {
    const nodes = Array.from({ length: 300 }, (_, i) => node(`n${String(i).padStart(3, '0')}`));
    const p = pod('web', { cpu: '100m', memory: '64Mi' });
    const first = diagnose(p, nodes, []);
    expect(first.processed).toBe(144);
    expect(first.scores).toHaveLength(144);
    expect(first.scores.map((s) => s.nodeName).sort()[0]).toBe('n000');
    const next = diagnose(p, nodes, [], { nextStartNodeIndex: 200 });
    const looked = next.scores.map((s) => s.nodeName).sort();
    // From n200 to n299, then around to n000…n043.
    expect(looked[0]).toBe('n000');
    expect(looked.at(-1)).toBe('n299');
    expect(looked).not.toContain('n044');
    expect(looked).not.toContain('n199');
  });
});
