import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonInstallSteps } from '../../../env/k3d/k3d-addons.ts';
import { k3dConfig } from '../../../env/k3d/k3d-plan.ts';
import { planK3dRun } from '../../../env/k3d/k3d-run-plan.ts';
import { loadAddons } from '../../../system/addons/addons-file.ts';
import { K3S_PROFILE } from '../../../system/profiles/profile-registry.ts';
import { loadSystem, REPO_ROOT, resolveSystem } from '../../../system/system.ts';
import { K3S_STORAGE } from '../../../system/topology/cluster-storage.ts';
import { loadTopology, topologyToNodes } from '../../../system/topology/topology.ts';

const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
const SYSTEMS = ['ai-platform', 'lambda-microservice', 'tonebridge'];

/**
 * The k3d plan and the twin's k3s profile (system/profiles/k3s-profile.ts) are one description of the
 * cluster: the plan must not drift from the profile that `twin up --profile k3s` and `twin check
 * --profile k3s` use to predict it.
 */
describe.skipIf(!hasKustomize)('the k3d plan is the k3s profile (needs kubectl or kustomize)', () => {
  it.each(SYSTEMS)(
    '%s: the same overlay, nodes and add-ons',
    async (system) => {
      const layout = await resolveSystem(system);
      const run = await planK3dRun(
        { system, stateDir: '/state', createCluster: true },
        { clusterName: `twin-${system}`, gpu: 'emulated' },
        REPO_ROOT,
      );
      // the overlay: the system's k3d overlay, which every seed system has
      expect(run.overlay).toBe(K3S_PROFILE.defaultOverlay(layout.overlays()));
      expect(run.overlay).toBe('k3d');
      // the nodes: one agent per node of the profile's (laptop-sized) topology, by name
      const topology = await loadTopology(layout.topologyFile);
      expect(run.cluster.agents.map((a) => a.topologyNode)).toEqual(
        topologyToNodes(K3S_PROFILE.nodes(topology).topology).map((n) => n.metadata.name),
      );
      // the add-ons: exactly those the profile installs from addons.yaml, in order, as the twin loads them
      const listed = await loadAddons(layout.addonsFile);
      const installed = K3S_PROFILE.addons(listed).installed;
      const twin = await loadSystem(layout, run.overlay, () => {}, K3S_PROFILE);
      expect(twin.addons.map((a) => a.name)).toEqual(installed.map((a) => a.name));
      const expected = addonInstallSteps(installed);
      const first = run.steps.findIndex((s) => JSON.stringify(s) === JSON.stringify(expected[0]));
      if (expected.length > 0) expect(first).toBeGreaterThanOrEqual(0);
      expect(run.steps.slice(first, first + expected.length)).toEqual(expected);
      const installedUrls = run.steps.flatMap((s) =>
        s.kind === 'apply-url' ? [s.url] : s.kind === 'run' && s.argv[0] === 'helm' ? [s.argv[3]!] : [],
      );
      for (const { addon } of K3S_PROFILE.addons(listed).leftOut) {
        const install = addon.release.install;
        expect(installedUrls).not.toContain(install.kind === 'manifest' ? install.url : install.release);
      }
    },
    60_000,
  );

  it('keeps what the profile says k3s provides: no packaged component is disabled', async () => {
    const topology = await loadTopology(path.join(REPO_ROOT, 'infra/ai-platform/topology.yaml'));
    const run = await planK3dRun(
      { system: 'ai-platform', stateDir: '/state', createCluster: true },
      { clusterName: 'twin-ai-platform', gpu: 'emulated' },
      REPO_ROOT,
    );
    const args = JSON.stringify(k3dConfig(run.cluster));
    // Traefik (the traefik IngressClass), local-storage (local-path) and metrics-server stay on
    for (const component of ['traefik', 'local-storage', 'metrics-server', 'servicelb'])
      expect(args).not.toContain(`--disable=${component}`);
    expect(args).not.toContain('--disable-network-policy');
    expect(K3S_PROFILE.storage(topology)).toBe(K3S_STORAGE);
    expect(K3S_PROFILE.ingressClasses.map((c) => [c.name, c.controller])).toEqual([
      ['traefik', 'traefik.io/ingress-controller'],
    ]);
  });
});
