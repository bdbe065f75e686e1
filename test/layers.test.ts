import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const biome = path.join(root, 'node_modules', '.bin', 'biome');

// A scratch tree with the project's biome.json: each case lints one file holding one import.
const dir = mkdtempSync(path.join(tmpdir(), 'twin-layers-'));
cpSync(path.join(root, 'biome.json'), path.join(dir, 'biome.json'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function lintImport(from: string, to: string): Promise<{ ok: boolean; output: string }> {
  const file = path.join(dir, from);
  mkdirSync(path.dirname(file), { recursive: true });
  let spec = path.relative(path.dirname(from), to);
  if (!spec.startsWith('.')) spec = `./${spec}`;
  writeFileSync(file, `import * as m from '${spec}';\n\nexport const x = m;\n`);
  const r = await execa(biome, ['lint', from], { cwd: dir, reject: false });
  rmSync(file);
  return { ok: r.exitCode === 0, output: `${r.stdout}\n${r.stderr}` };
}

describe('layers (biome noRestrictedImports)', () => {
  it.each([
    ['env/k3d/k3d-live.ts', 'twin/twin.ts'],
    ['env/environment.ts', 'twin/nodes/eviction.ts'],
    ['env/kube-client.ts', 'twin/apiserver/api-server.ts'],
    ['env/containers/services.ts', 'twin/data/binaries.ts'],
    ['twin/network/twin-network.ts', 'env/environment.ts'],
    ['twin/twin.ts', 'harness/scenario/scenario.ts'],
    ['kube/object.ts', 'twin/store/object-store.ts'],
    ['system/system.ts', 'env/registry.ts'],
    ['scenarios/az-outage.scenario.ts', 'env/local/local-environment.ts'],
    ['scenarios/az-outage.scenario.ts', 'env/k3d/k3d-live.ts'],
    ['scenarios/az-outage.scenario.ts', 'twin/twin.ts'],
    ['test/conformance/cases/scheduling.ts', 'twin/scheduler/schedule.ts'],
    ['test/conformance/case-context.ts', 'env/local/local-environment.ts'],
    ['test/conformance/objects.ts', 'env/kube-client.ts'],
    ['env/cluster/cluster-live.ts', 'twin/twin.ts'],
    ['env/cluster/cluster-live.ts', 'env/k3d/k3d-live.ts'],
    ['env/cluster/cluster-environment.ts', 'env/local/local-environment.ts'],
    ['env/k3d/k3d-live.ts', 'env/cluster/cluster-live.ts'],
    ['env/k3d/k3d-live.ts', 'env/cluster/system-deployment.ts'],
    ['scenarios/az-outage.scenario.ts', 'env/cluster/index.ts'],
    ['scenarios/az-outage.scenario.ts', 'harness/scenario/scenario.ts'],
    ['scenarios/support/cluster-state.ts', 'harness/data/pg-writer.ts'],
  ])('%s may not import %s', async (from, to) => {
    const r = await lintImport(from, to);
    expect(r.ok).toBe(false);
    expect(r.output).toContain('noRestrictedImports');
  });

  it.each([
    ['env/local/local-environment.ts', 'twin/twin.ts'],
    ['env/local/local-environment.ts', 'env/kube-client.ts'],
    ['env/k3d/k3d-live.ts', 'env/kube-client.ts'],
    ['env/k3d/k3d-live.ts', 'kube/clock.ts'],
    ['env/k3d/k3d-run-plan.ts', 'system/system.ts'],
    ['twin/twin.ts', 'system/system.ts'],
    ['scenarios/az-outage.scenario.ts', 'env/environment.ts'],
    ['scenarios/az-outage.scenario.ts', 'harness/index.ts'],
    ['harness/data/redis-writer.ts', 'twin/data/redis/redis-call.ts'],
    ['test/conformance/cases/scheduling.ts', 'env/environment.ts'],
    ['test/conformance/k3d.test.ts', 'env/k3d/k3d-run-plan.ts'],
    ['env/k3d/k3d-live.ts', 'env/cluster/index.ts'],
    ['env/cluster/cluster-live.ts', 'env/kube-client.ts'],
    ['env/cluster/cluster-live.ts', 'system/system.ts'],
  ])('%s may import %s', async (from, to) => {
    const r = await lintImport(from, to);
    expect(r.output).not.toContain('noRestrictedImports');
    expect(r.ok).toBe(true);
  });
});
