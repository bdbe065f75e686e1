import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { k3dSettings, missingTools, planK3dRun } from '../../env/k3d/k3d-run-plan.ts';
import { upEnvironment } from '../../env/registry.ts';
import { loadSystem, resolveSystem } from '../../system/system.ts';
import { topologyToNodes } from '../../system/topology/topology.ts';
import { CONFORMANCE_CASES } from './cases/index.ts';
import {
  CONFORMANCE_OVERLAY,
  CONFORMANCE_SYSTEM,
  conformanceEnvironmentOptions,
} from './conformance-system.ts';
import { imagesFor } from './images.ts';
import { registerConformance } from './run-conformance.ts';

const missing = await missingTools();

/**
 * The same cases on a real k3s cluster: k3d creates it from the conformance topology, as
 * `--env k3d` does for any system. Real time: a case waits minutes where the twin takes seconds.
 */
describe.skipIf(missing.length > 0)(
  `conformance on k3d${missing.length > 0 ? ` (skipped: needs ${missing.join(' and ')})` : ''}`,
  () => {
    registerConformance({
      environment: 'k3d',
      up: () => upEnvironment('k3d', conformanceEnvironmentOptions('k3d')),
      cases: CONFORMANCE_CASES,
      caseTimeoutMs: 20 * 60_000,
      waits: { minMs: 60_000, factor: 2 },
      unavailable: {
        networkPolicyDrop:
          'k3s enforces NetworkPolicy with kube-router, which rejects a denied connection (REJECT, ICMP port unreachable: refused at once) where the twin, the EKS VPC CNI, Calico and Cilium drop it (timed out); the other NetworkPolicy cases accept either',
      },
    });
  },
);

describe('the k3d entry, checked without Docker', () => {
  it('brings the environment up the way the local entry does: the same system and overlay, no time scale', () => {
    const local = conformanceEnvironmentOptions('local', {});
    const k3d = conformanceEnvironmentOptions('k3d', {});
    expect({ system: k3d.system, overlay: k3d.overlay }).toEqual({
      system: local.system,
      overlay: local.overlay,
    });
    expect(local.timeScale).toBe(100);
    expect(k3d.timeScale).toBeUndefined();
    expect(k3d.workDir).not.toBe(local.workDir);
  });

  it("plans one agent per topology node (nothing shrunk), with the pools' labels and taints, so the cases find the nodes they find on the twin", async () => {
    const settings = k3dSettings(CONFORMANCE_SYSTEM, {});
    const run = await planK3dRun(
      {
        system: CONFORMANCE_SYSTEM,
        overlay: CONFORMANCE_OVERLAY,
        stateDir: path.join(os.tmpdir(), 'k3d-plan'),
        createCluster: true,
      },
      settings,
    );
    expect(run.overlay).toBe(CONFORMANCE_OVERLAY);
    expect(run.cluster.clusterName).toBe('twin-conformance');
    expect(run.cluster.shrunk).toEqual([]);
    const { topology } = await loadSystem(await resolveSystem(CONFORMANCE_SYSTEM), CONFORMANCE_OVERLAY);
    const twinNodes = topologyToNodes(topology);
    expect(run.cluster.agents.map((a) => a.topologyNode)).toEqual(twinNodes.map((n) => n.metadata.name));
    for (const node of twinNodes) {
      const agent = run.cluster.agents.find((a) => a.topologyNode === node.metadata.name)!;
      expect(agent.taints).toEqual(node.spec?.taints ?? []);
      for (const key of ['topology.kubernetes.io/zone', 'eks.amazonaws.com/nodegroup', 'workload-tier'])
        expect(agent.labels[key], `${node.metadata.name} ${key}`).toBe(node.metadata.labels?.[key]);
    }
    expect(run.cluster.gpu).toBe('emulated');
    expect(run.cluster.agents.filter((a) => a.gpus > 0).map((a) => a.topologyNode)).toEqual(['gpu-1a-1']);
  });

  it('installs Argo Rollouts (the Rollout cases need it) but not metrics-server (k3s packages it), advertises the emulated GPU, and builds no image', async () => {
    const run = await planK3dRun(
      {
        system: CONFORMANCE_SYSTEM,
        overlay: CONFORMANCE_OVERLAY,
        stateDir: path.join(os.tmpdir(), 'k3d-plan'),
        createCluster: true,
      },
      k3dSettings(CONFORMANCE_SYSTEM, {}),
    );
    const urls = run.steps.flatMap((s) => (s.kind === 'apply-url' ? [s.url] : []));
    expect(urls.some((u) => u.includes('argoproj/argo-rollouts/releases/download/'))).toBe(true);
    expect(urls.some((u) => u.includes('metrics-server'))).toBe(false);
    expect(run.steps.some((s) => s.kind === 'patch-node-status')).toBe(true);
    expect(run.steps.some((s) => s.kind === 'run' && s.argv[0] === 'docker' && s.argv[1] === 'build')).toBe(
      false,
    );
  });

  it('runs public images a cluster pulls (a mirror may prefix them), where the twin emulates pause and binds busybox and agnhost', () => {
    const k3d = imagesFor('k3d', {});
    expect(k3d).toEqual(imagesFor('local', {}));
    expect(k3d.longRunning).toMatch(/^registry\.k8s\.io\/pause:/);
    expect(k3d.shell).toMatch(/^busybox:/);
    expect(k3d.netexec).toMatch(/^registry\.k8s\.io\/e2e-test-images\/agnhost:/);
    expect(imagesFor('k3d', { TWIN_CONFORMANCE_IMAGE_MIRROR: 'mirror.corp/hub' })).toEqual({
      longRunning: `mirror.corp/hub/${k3d.longRunning.replace('registry.k8s.io/', '')}`,
      shell: `mirror.corp/hub/${k3d.shell}`,
      netexec: `mirror.corp/hub/${k3d.netexec.replace('registry.k8s.io/', '')}`,
    });
  });

  it('has every case: the same list the local entry runs', () => {
    expect(CONFORMANCE_CASES.length).toBeGreaterThanOrEqual(60);
  });
});
