import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSystem, REPO_ROOT, resolveSystem } from '../../system/system.ts';

const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
const systems = readdirSync(path.join(REPO_ROOT, 'infra'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(path.join(REPO_ROOT, 'infra', d.name, 'k8s', 'overlays'), { withFileTypes: true })
      .filter((o) => o.isDirectory())
      .map((o) => [d.name, o.name] as const),
  );

describe.skipIf(!hasKustomize)(
  'every system and overlay under infra/ loads as a cluster with its add-ons takes it (needs kubectl or kustomize)',
  () => {
    it.each(systems)(
      '%s, overlay %s',
      async (system, overlay) => {
        const loaded = await loadSystem(await resolveSystem(system), overlay);
        expect(loaded.rendered.length).toBeGreaterThan(0);
        // A system that lists add-ons gets their CRDs (imageflowcanvas lists none: Istio is not catalogued).
        if (loaded.addons.length > 0) expect(loaded.addonCrds.length).toBeGreaterThan(0);
      },
      60_000,
    );
  },
);
