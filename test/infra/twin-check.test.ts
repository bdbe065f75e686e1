import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkedPairs, checkSystem, formatFinding } from '../../system/check/index.ts';
import { REPO_ROOT, resolveSystem } from '../../system/system.ts';

const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);

const systems = readdirSync(path.join(REPO_ROOT, 'infra'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const pairs = await Promise.all(
  systems.map(async (system) =>
    checkedPairs(await resolveSystem(system)).map(({ overlay, profile }) => ({ system, overlay, profile })),
  ),
);

/**
 * CI: `twin check` is clean (no error) for every system under infra/ and every overlay, under the
 * profile each overlay is written for: eks for local, production and the other twin overlays, k3s for
 * k3d (docs/twin-check.md). A new defect in a seed system fails here with its file, line and what a
 * cluster would do.
 */
describe.skipIf(!hasKustomize)(
  'twin check is clean on every system and overlay (needs kubectl or kustomize)',
  () => {
    it.each(pairs.flat().map((p) => ({ ...p, name: p.profile.name })))(
      '$system, overlay $overlay, profile $name',
      async ({ system, overlay, profile }) => {
        const report = await checkSystem(await resolveSystem(system), { overlay, profile });
        expect(report.findings.filter((f) => f.severity === 'error').map(formatFinding)).toEqual([]);
      },
      60_000,
    );

    it('every system has a k3d overlay, checked under k3s', () => {
      for (const system of systems)
        expect(
          pairs.flat().some((p) => p.system === system && p.overlay === 'k3d' && p.profile.name === 'k3s'),
          system,
        ).toBe(true);
    });
  },
);
