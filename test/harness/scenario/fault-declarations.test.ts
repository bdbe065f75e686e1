import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { clusterEnvironment } from '../../../env/cluster/cluster-backend.ts';
import { unsupportedFaults } from '../../../env/fault-needs.ts';
import { captureScenario } from '../../../harness/cli/run-scenario.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const files = readdirSync(path.join(root, 'scenarios'))
  .filter((f) => f.endsWith('.scenario.ts'))
  .sort();

describe('scenarios declare the faults they inject (checked against the environment before it comes up)', () => {
  // A module runs once per process: each scenario file is loaded (and its declaration captured) once.
  const declared = new Map<string, string[]>();
  beforeAll(async () => {
    for (const file of files)
      declared.set(file, (await captureScenario(root, path.join(root, 'scenarios', file))).faults ?? []);
  }, 60_000);

  it.each(files)('%s: its faults option lists exactly the env.faults it calls', (file) => {
    const full = path.join(root, 'scenarios', file);
    const used = [...readFileSync(full, 'utf8').matchAll(/faults\.([a-zA-Z]+)\(/g)].map((m) => m[1]!);
    expect([...declared.get(file)!].sort()).toEqual([...new Set(used)].sort());
  });

  it('on an existing cluster, the scenarios that power nodes off or cut their network are refused; the others can run', () => {
    const refused: string[] = [];
    for (const file of files) {
      if (unsupportedFaults(clusterEnvironment.faultSupport, declared.get(file)!).length > 0)
        refused.push(file.replace('.scenario.ts', ''));
    }
    expect(refused).toEqual(['az-outage', 'gpu-node-loss', 'gpu-worker-loss', 'node-loss', 'redis-failover']);
  });
});
