import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { stringify } from 'yaml';
import { k3dConfig, planK3dCluster } from '../../../env/k3d/k3d-plan.ts';
import { k3dDryRun, k3dSettings } from '../../../env/k3d/k3d-run-plan.ts';
import { loadTopology } from '../../../system/topology/topology.ts';
import { expectGolden } from '../../golden/golden.ts';

const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
// The settings come from the environment; golden files hold the defaults.
const k3dVariables = Object.keys(process.env).filter((k) => /^TWIN_K3D_|^TWIN_K3S_|^TWIN_IMAGE_/.test(k));
const golden = (name: string) => fileURLToPath(new URL(`./__golden__/${name}`, import.meta.url));

describe.skipIf(k3dVariables.length > 0)(
  `k3d output (golden files, UPDATE_GOLDEN=1 rewrites them)${k3dVariables.length ? ` (skipped: ${k3dVariables.join(', ')} set)` : ''}`,
  () => {
    it.each(['ai-platform', 'tonebridge', 'lambda-microservice'])('the k3d config of %s', async (system) => {
      const topology = await loadTopology(`infra/${system}/topology.yaml`);
      const plan = planK3dCluster(topology, k3dSettings(system, {}));
      expectGolden(golden(`${system}.k3d-config.yaml`), stringify(k3dConfig(plan), { lineWidth: 0 }));
    });

    it.skipIf(!hasKustomize)(
      'the --dry-run text of ai-platform (every command and object, in order; needs kubectl or kustomize)',
      async () => {
        expectGolden(golden('ai-platform.dry-run.txt'), await k3dDryRun({ system: 'ai-platform' }));
      },
      60_000,
    );
  },
);
