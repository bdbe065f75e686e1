import path from 'node:path';
import { execa } from 'execa';
import { TwinError } from '../../core/errors.ts';
import type { KubeObject } from '../../kube/object.ts';
import { K3S_PROFILE } from '../../system/profiles/profile-registry.ts';
import { loadSystem, REPO_ROOT, resolveSystem, type SystemLayout } from '../../system/system.ts';
import { deploymentPlanText } from '../cluster/index.ts';
import { imageFor } from '../containers/images.ts';
import { type GpuMode, type K3dClusterPlan, planK3dCluster } from './k3d-plan.ts';
import { dryRunText } from './k3d-runner.ts';
import type { K3dStep } from './k3d-steps.ts';
import {
  type ImageBuild,
  k3dDownSteps,
  k3dUpSteps,
  referenceImageBuilds,
  withNvidiaRuntime,
} from './k3d-up-plan.ts';

export { REPO_ROOT };

/** Which of docker (a reachable engine) and k3d are missing here; empty when k3d can run. */
export async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  const docker = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], {
    reject: false,
    timeout: 20_000,
  });
  if (docker.failed)
    missing.push(
      (docker as { code?: string }).code === 'ENOENT'
        ? 'docker (not found on the PATH)'
        : 'a running Docker engine (`docker info` failed)',
    );
  const k3d = await execa('k3d', ['version'], { reject: false, timeout: 20_000 });
  if (k3d.failed) missing.push('k3d (not found on the PATH; https://k3d.io/#installation)');
  return missing;
}

export interface K3dSettings {
  clusterName: string;
  gpu: GpuMode;
  ingressHostPort?: number;
  k3sImage?: string;
}

/**
 * Settings: `--gpu` (the environment options' gpu) and the variables TWIN_K3D_CLUSTER, TWIN_K3D_GPU
 * (emulated|passthrough|none: it wins over --gpu; none gives GPU nodes no resource at all),
 * TWIN_K3D_INGRESS_PORT, TWIN_K3S_IMAGE.
 */
export function k3dSettings(
  system: string,
  env: NodeJS.ProcessEnv = process.env,
  asked: GpuMode = 'emulated',
): K3dSettings {
  const gpu = (env['TWIN_K3D_GPU'] ?? asked) as GpuMode;
  if (!['emulated', 'passthrough', 'none'].includes(gpu))
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `TWIN_K3D_GPU must be emulated, passthrough or none, got "${gpu}"`,
    );
  const port = env['TWIN_K3D_INGRESS_PORT'];
  if (port !== undefined && !/^\d+$/.test(port))
    throw new TwinError('TWIN_OPTION_INVALID', `TWIN_K3D_INGRESS_PORT must be a port number, got "${port}"`);
  const name = env['TWIN_K3D_CLUSTER'] ?? `twin-${path.basename(system)}`;
  return {
    clusterName: name,
    gpu,
    ...(port ? { ingressHostPort: Number(port) } : {}),
    ...(env['TWIN_K3S_IMAGE'] ? { k3sImage: env['TWIN_K3S_IMAGE'] } : {}),
  };
}

/**
 * The overlay k3d renders: the one asked for, except that the twin's default `local` (which points the
 * canary analysis at the twin's own metrics API) gives way to the k3s profile's (the system's `k3d`
 * overlay when it has one).
 */
export function k3dOverlay(layout: SystemLayout, asked: string | undefined): string {
  if (asked && asked !== 'local') return asked;
  return K3S_PROFILE.defaultOverlay(layout.overlays());
}

export interface K3dRunPlan {
  cluster: K3dClusterPlan;
  /** The build of a reference workload image (any tag of a bound repository with a Dockerfile). */
  buildFor(image: string): ImageBuild | undefined;
  /** Making the cluster: images, LocalStack, the cluster, node labels, GPUs, add-ons. */
  steps: K3dStep[];
  /** The system's objects, deployed on the cluster as on any existing one (GPU passthrough: runtimeClassName nvidia). */
  objects: KubeObject[];
  downSteps: K3dStep[];
  stateDir: string;
  overlay: string;
}

/** Everything `up` would do for a system, from its topology, manifests and bindings. */
export async function planK3dRun(
  options: { system: string; overlay?: string; stateDir: string; createCluster: boolean },
  settings: K3dSettings,
  root = REPO_ROOT,
): Promise<K3dRunPlan> {
  const layout = await resolveSystem(options.system, root);
  const overlay = k3dOverlay(layout, options.overlay);
  // k3d is a k3s cluster: the add-ons it installs are those the k3s profile keeps (system/profiles).
  const { rendered, topology, bindings, addons } = await loadSystem(layout, overlay, () => {}, K3S_PROFILE);
  const objects = rendered.map((r) => r.object);
  const cluster = planK3dCluster(topology, settings);
  const terraformDir = layout.localTerraformDir;
  const steps = k3dUpSteps({
    plan: cluster,
    addons,
    images: referenceImageBuilds(objects, bindings, root),
    stateDir: options.stateDir,
    createCluster: options.createCluster,
    ...(terraformDir
      ? { terraform: { dir: path.relative(root, terraformDir), localstackImage: imageFor('localstack') } }
      : {}),
  });
  const buildFor = (image: string) =>
    referenceImageBuilds(
      [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: image },
          spec: { containers: [{ name: 'c', image }] },
        },
      ],
      bindings,
      root,
    )[0];
  return {
    cluster,
    buildFor,
    steps,
    objects: cluster.gpu === 'passthrough' ? withNvidiaRuntime(objects) : objects,
    downSteps: k3dDownSteps(cluster, options.createCluster),
    stateDir: options.stateDir,
    overlay,
  };
}

/** `--dry-run`: the text of every step up and down would run, without Docker. */
export async function k3dDryRun(
  options: { system: string; overlay?: string; gpu?: 'emulated' | 'passthrough' },
  root = REPO_ROOT,
): Promise<string> {
  const settings = k3dSettings(options.system, process.env, options.gpu);
  const stateDir = path.join(root, '.twin', 'k3d', settings.clusterName);
  const run = await planK3dRun(
    {
      system: options.system,
      ...(options.overlay ? { overlay: options.overlay } : {}),
      stateDir,
      createCluster: true,
    },
    settings,
    root,
  );
  const header = [
    `# k3d dry run: ${options.system} (overlay ${run.overlay}) on cluster ${settings.clusterName}, GPU ${settings.gpu}`,
    `# ${run.cluster.agents.length} agents: ${run.cluster.agents.map((a) => `${a.index}=${a.topologyNode}`).join(', ')}`,
  ];
  const up = dryRunText(run.steps, root);
  const deploy = deploymentPlanText(run.objects, run.steps.length + 1);
  const down = dryRunText(run.downSteps, root, run.steps.length + 1 + deploy.steps);
  return `${header.join('\n')}\n\n${up}\n\n# then the system is deployed as on any existing cluster (env/cluster):\n\n${deploy.text}\n\n# then the scenario runs; on down:\n\n${down}\n`;
}
