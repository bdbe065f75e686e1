import { existsSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { KubeObject } from '../../kube/object.ts';
import type { LoadedAddon } from '../../system/addons/addons-file.ts';
import { splitImage, type TwinBindings } from '../../system/twin-bindings.ts';
import { terraformApplyCommands } from '../containers/terraform.ts';
import { forApply } from '../kube-client.ts';
import { addonInstallSteps, gpuStatusPatch, nvidiaDevicePluginObjects } from './k3d-addons.ts';
import { type K3dClusterPlan, K3S_CUDA_IMAGE, k3dConfig, TOPOLOGY_NODE_LABEL } from './k3d-plan.ts';
import type { K3dStep } from './k3d-steps.ts';

/** A reference workload image built from its Dockerfile (workloads/<name>/Dockerfile, context: the repo root). */
export interface ImageBuild {
  image: string;
  dockerfile: string;
  tag: string;
}

/** Every container image of the objects, in order of first use. */
export function imagesOf(objects: KubeObject[]): string[] {
  const seen = new Set<string>();
  const visit = (spec: any) => {
    for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])])
      if (typeof c?.image === 'string') seen.add(c.image);
  };
  for (const o of objects) {
    visit(o.spec?.template?.spec);
    visit(o.spec?.jobTemplate?.spec?.template?.spec);
    if (o.kind === 'Pod') visit(o.spec);
  }
  return [...seen];
}

/**
 * The images to build: those the twin bindings tie to a workload entry whose folder has a Dockerfile.
 * Paths are relative to `root` (the build context).
 */
export function referenceImageBuilds(
  objects: KubeObject[],
  bindings: TwinBindings,
  root: string,
): ImageBuild[] {
  const builds: ImageBuild[] = [];
  for (const image of imagesOf(objects)) {
    const entry = bindings.resolve(image)?.entry;
    if (!entry) continue;
    const dockerfile = path.join(path.dirname(entry), 'Dockerfile');
    if (!existsSync(dockerfile)) continue;
    builds.push({ image, dockerfile: path.relative(root, dockerfile), tag: splitImage(image).tag });
  }
  return builds;
}

export function dockerBuildArgv(b: ImageBuild): string[] {
  return ['docker', 'build', '-f', b.dockerfile, '--build-arg', `BUILD_VERSION=${b.tag}`, '-t', b.image, '.'];
}

export function k3dImageImportArgv(clusterName: string, images: string[]): string[] {
  return ['k3d', 'image', 'import', ...images, '--cluster', clusterName, '--mode', 'auto'];
}

/**
 * GPU passthrough: pod templates that ask for nvidia.com/gpu run with `runtimeClassName: nvidia`
 * (k3s keeps runc as the default runtime; only the nvidia runtime exposes the granted devices).
 */
export function withNvidiaRuntime(objects: KubeObject[]): KubeObject[] {
  const wantsGpu = (spec: any) =>
    [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].some(
      (c: any) => c?.resources?.limits?.['nvidia.com/gpu'] ?? c?.resources?.requests?.['nvidia.com/gpu'],
    );
  return objects.map((o) => {
    const copy = structuredClone(o);
    for (const spec of [
      copy.spec?.template?.spec,
      copy.spec?.jobTemplate?.spec?.template?.spec,
      copy.kind === 'Pod' ? copy.spec : undefined,
    ])
      if (spec && wantsGpu(spec) && !spec.runtimeClassName) spec.runtimeClassName = 'nvidia';
    return copy;
  });
}

/** CRDs, then Namespaces, then everything else in manifest order (what `kubectl apply` users arrange). */
export function applyOrder(objects: KubeObject[]): KubeObject[] {
  const rank = (o: KubeObject) =>
    o.kind === 'CustomResourceDefinition' ? 0 : o.kind === 'Namespace' ? 1 : 2;
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
    .map(({ o }) => forApply(o));
}

export interface K3dUpInput {
  plan: K3dClusterPlan;
  /** The rendered system, in manifest order. */
  objects: KubeObject[];
  /** The system's add-ons (addons.yaml), installed before its objects at the same releases as on the twin. */
  addons?: LoadedAddon[];
  images: ImageBuild[];
  /** This run's state directory (k3d config, kubeconfig). */
  stateDir: string;
  /** False when the cluster exists already (`twin up` started it): it is reused, not created. */
  createCluster: boolean;
  /** The system's Terraform for LocalStack (infra/<system>/terraform/environments/local), when it has one. */
  terraform?: { dir: string; localstackImage: string };
}

export const LOCALSTACK_ENDPOINT_VAR = 'LOCALSTACK_ENDPOINT';

export const configFile = (stateDir: string) => path.join(stateDir, 'k3d-config.yaml');
export const kubeconfigFile = (stateDir: string) => path.join(stateDir, 'kubeconfig');

/** Every step of bringing a system up on k3d, in order. */
export function k3dUpSteps(input: K3dUpInput): K3dStep[] {
  const { plan, stateDir } = input;
  const steps: K3dStep[] = [];
  for (const b of input.images)
    steps.push({ kind: 'run', argv: dockerBuildArgv(b), why: `build ${b.image} from ${b.dockerfile}` });
  if (input.terraform) {
    steps.push({
      kind: 'container',
      service: 'localstack',
      image: input.terraform.localstackImage,
      endpointVar: LOCALSTACK_ENDPOINT_VAR,
      why: 'LocalStack for the AWS side (reachable from pods at host.k3d.internal)',
    });
    for (const c of terraformApplyCommands(
      input.terraform.dir,
      `{${LOCALSTACK_ENDPOINT_VAR}}`,
      path.join(stateDir, 'terraform'),
    ))
      steps.push({
        kind: 'run',
        argv: c.argv,
        env: c.env,
        why: `terraform ${c.argv[2]} of ${input.terraform.dir} against LocalStack (the twin's endpoint override)`,
      });
  }
  if (input.createCluster && plan.image === K3S_CUDA_IMAGE) {
    steps.push({
      kind: 'run',
      argv: ['docker', 'buildx', 'build', '--load', '-t', K3S_CUDA_IMAGE, 'docker/k3s-cuda'],
      why: "GPU passthrough: the CUDA-capable k3s node image (k3d's CUDA recipe, docker/k3s-cuda/Dockerfile)",
    });
  }
  if (input.createCluster) {
    steps.push({
      kind: 'write',
      file: configFile(stateDir),
      content: stringify(k3dConfig(plan), { lineWidth: 0 }),
      why: `k3d config: ${plan.agents.length} agents for ${plan.zones.length} zones${plan.shrunk.length ? ` (laptop-sized: ${plan.shrunk.join('; ')})` : ''}`,
    });
    steps.push({
      kind: 'run',
      argv: ['k3d', 'cluster', 'create', '--config', configFile(stateDir)],
      why: `create the k3d cluster ${plan.clusterName}`,
    });
  }
  steps.push({
    kind: 'run',
    argv: ['k3d', 'kubeconfig', 'get', plan.clusterName],
    stdoutTo: kubeconfigFile(stateDir),
    why: "the cluster's kubeconfig, for this run only (the user's ~/.kube/config is not touched)",
  });
  steps.push({ kind: 'wait', what: 'nodes-ready', why: 'every agent registered and Ready' });
  if (input.images.length > 0)
    steps.push({
      kind: 'run',
      argv: k3dImageImportArgv(
        plan.clusterName,
        input.images.map((b) => b.image),
      ),
      why: "load the reference workloads' images into every node (no registry)",
    });
  steps.push({
    kind: 'apply',
    objects: plan.agents.map((a) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: a.nodeName, labels: a.labels },
    })),
    why: `node labels per agent (zone, region, pool; ${TOPOLOGY_NODE_LABEL} names the production node), re-asserted after registration`,
  });
  const gpuAgents = plan.agents.filter((a) => a.gpus > 0);
  if (plan.gpu === 'emulated') {
    for (const a of gpuAgents)
      steps.push({
        kind: 'patch-node-status',
        node: a.nodeName,
        patch: gpuStatusPatch(a.gpus),
        why: `emulated GPU: advertise ${a.gpus} nvidia.com/gpu on ${a.nodeName} (${a.topologyNode}); re-patched after a node restart`,
      });
  } else if (plan.gpu === 'passthrough' && gpuAgents.length > 0) {
    steps.push({
      kind: 'apply',
      objects: nvidiaDevicePluginObjects(),
      why: 'GPU passthrough: RuntimeClass nvidia and the NVIDIA device plugin',
    });
  }
  steps.push(...addonInstallSteps(input.addons ?? []));
  steps.push({
    kind: 'apply',
    objects: applyOrder(plan.gpu === 'passthrough' ? withNvidiaRuntime(input.objects) : input.objects),
    why: `the system's ${input.objects.length} objects (CRDs and Namespaces first)`,
  });
  const namespaces = [
    ...new Set(
      input.objects
        .filter((o) => ['Deployment', 'Rollout', 'StatefulSet'].includes(o.kind))
        .map((o) => o.metadata.namespace ?? 'default'),
    ),
  ];
  for (const ns of namespaces)
    steps.push({
      kind: 'wait',
      what: 'deployments-available',
      namespace: ns,
      why: `workloads in ${ns} available`,
    });
  return steps;
}

/** What `down` removes: the cluster when this run created it (its containers, network and volumes go with it). */
export function k3dDownSteps(plan: K3dClusterPlan, createdCluster: boolean): K3dStep[] {
  return createdCluster
    ? [
        {
          kind: 'run',
          argv: ['k3d', 'cluster', 'delete', plan.clusterName],
          why: `delete the k3d cluster ${plan.clusterName} (its node containers, network and image volume)`,
        },
      ]
    : [];
}
