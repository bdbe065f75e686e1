import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyOrder, deploymentPlanText } from '../../../env/cluster/index.ts';
import {
  addonInstallSteps,
  gpuStatusPatch,
  gpusToRepatch,
  nvidiaDevicePluginObjects,
} from '../../../env/k3d/k3d-addons.ts';
import {
  agentsInZone,
  K3S_CUDA_IMAGE,
  K3S_IMAGE,
  k3dConfig,
  k3dCreateFlags,
  laptopTopology,
  planK3dCluster,
} from '../../../env/k3d/k3d-plan.ts';
import { k3dSettings, planK3dRun } from '../../../env/k3d/k3d-run-plan.ts';
import { formatStep } from '../../../env/k3d/k3d-steps.ts';
import { imagesOf, k3dDownSteps, k3dUpSteps, withNvidiaRuntime } from '../../../env/k3d/k3d-up-plan.ts';
import { catalogueAddon } from '../../../system/addons/addons-file.ts';
import { K3S_PROFILE } from '../../../system/profiles/profile-registry.ts';
import { loadTopology, parseTopology } from '../../../system/topology/topology.ts';

const root = path.resolve(import.meta.dirname, '../../..');

const small = parseTopology(
  `apiVersion: twin.dev/v1alpha1
kind: Topology
metadata: { name: small }
region: ap-northeast-1
zones: [ap-northeast-1a, ap-northeast-1c]
nodePools:
  - { name: general, instanceType: t3.large, nodesPerZone: 2, labels: { workload-tier: app } }
  - name: gpu
    instanceType: g4dn.xlarge
    nodes: 1
    labels: { workload-tier: gpu }
    taints: [{ key: nvidia.com/gpu, value: "true", effect: NoSchedule }]
`,
  'small.yaml',
);

const generalLabels = (zone: string, node: string) => ({
  'topology.kubernetes.io/region': 'ap-northeast-1',
  'topology.kubernetes.io/zone': zone,
  'node.kubernetes.io/instance-type': 't3.large',
  'eks.amazonaws.com/nodegroup': 'general',
  'eks.amazonaws.com/capacityType': 'ON_DEMAND',
  'workload-tier': 'app',
  'twin.dev/topology-node': node,
});

describe('laptop-sized topology', () => {
  it('keeps every pool in every zone with one node per pool and zone, and says what it shrank', () => {
    const { topology, shrunk } = laptopTopology(small);
    expect(topology.nodePools.map((p) => [p.name, p.nodesPerZone, p.nodes])).toEqual([
      ['general', 1, undefined],
      ['gpu', undefined, 1],
    ]);
    expect(shrunk).toEqual(['general: 2 → 1 per zone (2 zones)']);
  });

  it('the AI platform: 8 agents, every pool in both zones, general shrunk from 3 per zone', async () => {
    const topology = await loadTopology(path.join(root, 'infra/ai-platform/topology.yaml'));
    const plan = planK3dCluster(topology, { clusterName: 'twin-ai-platform' });
    expect(plan.shrunk).toEqual(['general: 3 → 1 per zone (2 zones)']);
    expect(plan.agents.map((a) => `${a.nodeName} ${a.topologyNode} ${a.zone}`)).toEqual([
      'k3d-twin-ai-platform-agent-0 general-1a-1 ap-northeast-1a',
      'k3d-twin-ai-platform-agent-1 general-1c-1 ap-northeast-1c',
      'k3d-twin-ai-platform-agent-2 compute-1a-1 ap-northeast-1a',
      'k3d-twin-ai-platform-agent-3 compute-1c-1 ap-northeast-1c',
      'k3d-twin-ai-platform-agent-4 system-1a-1 ap-northeast-1a',
      'k3d-twin-ai-platform-agent-5 system-1c-1 ap-northeast-1c',
      'k3d-twin-ai-platform-agent-6 gpu-1a-1 ap-northeast-1a',
      'k3d-twin-ai-platform-agent-7 gpu-1c-1 ap-northeast-1c',
    ]);
    expect(agentsInZone(plan, 'ap-northeast-1c').map((a) => a.index)).toEqual([1, 3, 5, 7]);
    const gpu = plan.agents[6]!;
    expect(gpu.gpus).toBe(1);
    expect(gpu.labels).toMatchObject({
      'nvidia.com/gpu.present': 'true',
      'nvidia.com/gpu.count': '1',
      'eks.amazonaws.com/nodegroup': 'gpu',
      'node.kubernetes.io/instance-type': 'g4dn.xlarge',
    });
    expect(gpu.taints).toEqual([{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }]);
    for (const a of plan.agents) {
      expect(a.labels['kubernetes.io/hostname']).toBeUndefined(); // k3s sets it to the container's name
      expect(a.labels['topology.kubernetes.io/zone']).toBe(a.zone);
      expect(a.labels['topology.kubernetes.io/region']).toBe('ap-northeast-1');
    }
  });
});

describe('k3d config (k3d.io/v1alpha5, kind Simple)', () => {
  it('one agent per node with zone, region and pool labels and taints by node filter; ingress on a host port', () => {
    const plan = planK3dCluster(small, { clusterName: 'twin-small', gpu: 'emulated' });
    const lbl = (i: number, labels: Record<string, string>) =>
      Object.entries(labels).map(([k, v]) => ({ label: `${k}=${v}`, nodeFilters: [`agent:${i}`] }));
    expect(k3dConfig(plan)).toEqual({
      apiVersion: 'k3d.io/v1alpha5',
      kind: 'Simple',
      metadata: { name: 'twin-small' },
      servers: 1,
      agents: 3,
      image: K3S_IMAGE,
      ports: [{ port: '8081:80', nodeFilters: ['loadbalancer'] }],
      options: {
        k3d: { wait: true, timeout: '300s' },
        k3s: {
          extraArgs: [
            {
              arg: '--node-taint=node-role.kubernetes.io/control-plane:NoSchedule',
              nodeFilters: ['server:0'],
            },
            { arg: '--node-taint=nvidia.com/gpu=true:NoSchedule', nodeFilters: ['agent:2'] },
          ],
          nodeLabels: [
            ...lbl(0, generalLabels('ap-northeast-1a', 'general-1a-1')),
            ...lbl(1, generalLabels('ap-northeast-1c', 'general-1c-1')),
            ...lbl(2, {
              'topology.kubernetes.io/region': 'ap-northeast-1',
              'topology.kubernetes.io/zone': 'ap-northeast-1a',
              'node.kubernetes.io/instance-type': 'g4dn.xlarge',
              'eks.amazonaws.com/nodegroup': 'gpu',
              'eks.amazonaws.com/capacityType': 'ON_DEMAND',
              'nvidia.com/gpu.present': 'true',
              'nvidia.com/gpu.count': '1',
              'nvidia.com/gpu.product': plan.agents[2]!.labels['nvidia.com/gpu.product']!,
              'workload-tier': 'gpu',
              'twin.dev/topology-node': 'gpu-1a-1',
            }),
          ],
        },
        kubeconfig: { updateDefaultKubeconfig: false, switchCurrentContext: false },
      },
    });
  });

  it('the same cluster as flags: --k3s-node-label key=value@agent:N and --k3s-arg taints', () => {
    const plan = planK3dCluster(small, { clusterName: 'twin-small', ingressHostPort: 9000 });
    const args = k3dCreateFlags(plan);
    expect(args.slice(0, 13)).toEqual([
      'cluster',
      'create',
      'twin-small',
      '--servers',
      '1',
      '--agents',
      '3',
      '--image',
      K3S_IMAGE,
      '--port',
      '9000:80@loadbalancer',
      '--k3s-arg',
      '--node-taint=node-role.kubernetes.io/control-plane:NoSchedule@server:0',
    ]);
    expect(args).toContain('topology.kubernetes.io/zone=ap-northeast-1c@agent:1');
    const i = args.indexOf('--node-taint=nvidia.com/gpu=true:NoSchedule@agent:2');
    expect(args[i - 1]).toBe('--k3s-arg');
    expect(args).not.toContain('--gpus');
    expect(args.at(-1)).toBe('--wait');
  });

  it('GPU passthrough: the CUDA k3s image, --gpus / gpuRequest, the device plugin with runtimeClassName nvidia, no status patch', () => {
    const plan = planK3dCluster(small, { clusterName: 'twin-small', gpu: 'passthrough' });
    expect(plan.image).toBe(K3S_CUDA_IMAGE);
    expect((k3dConfig(plan)['options'] as any).runtime).toEqual({ gpuRequest: 'all' });
    expect(k3dCreateFlags(plan)).toEqual(expect.arrayContaining(['--gpus', 'all']));
    const steps = k3dUpSteps({ plan, images: [], stateDir: '/s', createCluster: true });
    expect(steps[0]).toMatchObject({
      argv: ['docker', 'buildx', 'build', '--load', '-t', K3S_CUDA_IMAGE, 'docker/k3s-cuda'],
    });
    expect(steps.some((s) => s.kind === 'patch-node-status')).toBe(false);
    const plugin = steps.find((s) => s.kind === 'apply' && s.why.startsWith('GPU passthrough'));
    expect(plugin).toMatchObject({ objects: nvidiaDevicePluginObjects() });
    const ds = nvidiaDevicePluginObjects()[1]!;
    expect(ds.spec.template.spec.runtimeClassName).toBe('nvidia');
    expect(ds.spec.template.spec.tolerations).toEqual([
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    expect(nvidiaDevicePluginObjects()[0]).toEqual({
      apiVersion: 'node.k8s.io/v1',
      kind: 'RuntimeClass',
      metadata: { name: 'nvidia' },
      handler: 'nvidia',
    });
  });

  it('emulated GPU: a node whose status lost nvidia.com/gpu (restarted kubelet) is re-patched; others are left alone', () => {
    const agents = [
      { nodeName: 'k3d-z-agent-0', gpus: 0 },
      { nodeName: 'k3d-z-agent-1', gpus: 1 },
    ];
    const node = (name: string, capacity: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name },
      status: { capacity },
    });
    expect(gpusToRepatch(agents, node('k3d-z-agent-1', { cpu: '2' }))).toBe(1);
    expect(gpusToRepatch(agents, node('k3d-z-agent-1', { cpu: '2', 'nvidia.com/gpu': '1' }))).toBe(0);
    expect(gpusToRepatch(agents, node('k3d-z-agent-0', { cpu: '2' }))).toBe(0);
    expect(gpusToRepatch(agents, node('k3d-z-server-0', {}))).toBe(0);
  });

  it('GPU passthrough: templates that request nvidia.com/gpu get runtimeClassName nvidia; others are untouched', () => {
    const training = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'train', namespace: 'ml' },
      spec: {
        jobTemplate: {
          spec: {
            template: {
              spec: {
                containers: [{ name: 't', image: 'x', resources: { limits: { 'nvidia.com/gpu': 1 } } }],
              },
            },
          },
        },
      },
    };
    const web = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { template: { spec: { containers: [{ name: 'w', image: 'y' }] } } },
    };
    const [t, w] = withNvidiaRuntime([training, web]);
    expect(t!.spec.jobTemplate.spec.template.spec.runtimeClassName).toBe('nvidia');
    expect(w).toEqual(web);
    expect((training.spec.jobTemplate.spec.template.spec as any).runtimeClassName).toBeUndefined();
  });

  it('GPU passthrough: the objects k3d deploys on its cluster ask for the nvidia runtime where they request GPUs', async () => {
    const stateDir = '/s';
    const run = await planK3dRun(
      { system: 'ai-platform', stateDir, createCluster: true },
      { clusterName: 'x', gpu: 'passthrough' },
      root,
    );
    const gpuTemplates = run.objects.flatMap((o) => {
      const spec = o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec;
      const wants = (spec?.containers ?? []).some((c: any) => c.resources?.limits?.['nvidia.com/gpu']);
      return wants ? [spec.runtimeClassName] : [];
    });
    expect(gpuTemplates.length).toBeGreaterThan(0);
    expect(new Set(gpuTemplates)).toEqual(new Set(['nvidia']));
  });

  it('--gpu reaches k3d through the environment options; TWIN_K3D_GPU wins', () => {
    expect(k3dSettings('ai-platform', {}, 'passthrough').gpu).toBe('passthrough');
    expect(k3dSettings('ai-platform', { TWIN_K3D_GPU: 'none' }, 'passthrough').gpu).toBe('none');
    expect(k3dSettings('ai-platform', {})).toEqual({ clusterName: 'twin-ai-platform', gpu: 'emulated' });
    expect(() => k3dSettings('x', { TWIN_K3D_GPU: 'fake' })).toThrow(
      /TWIN_K3D_GPU must be emulated, passthrough or none/,
    );
  });

  it('emulated GPU: a JSON Patch of the node status advertising nvidia.com/gpu (capacity and allocatable)', () => {
    expect(gpuStatusPatch(1)).toEqual([
      { op: 'add', path: '/status/capacity/nvidia.com~1gpu', value: '1' },
      { op: 'add', path: '/status/allocatable/nvidia.com~1gpu', value: '1' },
    ]);
    const plan = planK3dCluster(small, { clusterName: 'twin-small' });
    const steps = k3dUpSteps({ plan, images: [], stateDir: '/s', createCluster: true });
    const patches = steps.filter((s) => s.kind === 'patch-node-status');
    expect(patches).toEqual([
      expect.objectContaining({ node: 'k3d-twin-small-agent-2', patch: gpuStatusPatch(1) }),
    ]);
    expect(formatStep(patches[0]!, 1)).toContain(
      'PATCH /api/v1/nodes/k3d-twin-small-agent-2/status (application/json-patch+json):',
    );
  });
});

describe('up steps', () => {
  const rollout = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'api', namespace: 'production' },
    spec: { template: { spec: { containers: [{ name: 'api', image: 'ghcr.io/ai-platform/api:1.0.0' }] } } },
  };
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'production' } };

  it('builds, creates, imports, labels, installs addons (the system is then deployed as on any cluster); down deletes only what it created', () => {
    const plan = planK3dCluster(small, { clusterName: 'twin-small' });
    const steps = k3dUpSteps({
      plan,
      images: [
        { image: 'ghcr.io/ai-platform/api:1.0.0', dockerfile: 'workloads/api/Dockerfile', tag: '1.0.0' },
      ],
      stateDir: '/state',
      createCluster: true,
      addons: [catalogueAddon('argo-rollouts', 'v1.8.3')],
    });
    expect(steps.map((s) => (s.kind === 'run' ? s.argv.slice(0, 3).join(' ') : s.kind))).toEqual([
      'docker build -f',
      'write',
      'k3d cluster create',
      'k3d kubeconfig get',
      'wait',
      'k3d image import',
      'apply',
      'patch-node-status',
      'apply',
      'apply-url',
      'wait',
      'wait',
    ]);
    expect(steps[0]).toMatchObject({
      argv: [
        'docker',
        'build',
        '-f',
        'workloads/api/Dockerfile',
        '--build-arg',
        'BUILD_VERSION=1.0.0',
        '-t',
        'ghcr.io/ai-platform/api:1.0.0',
        '.',
      ],
    });
    expect(steps[2]).toMatchObject({
      argv: ['k3d', 'cluster', 'create', '--config', '/state/k3d-config.yaml'],
    });
    expect(steps[3]).toMatchObject({
      argv: ['k3d', 'kubeconfig', 'get', 'twin-small'],
      stdoutTo: '/state/kubeconfig',
    });
    expect(steps[5]).toMatchObject({
      argv: [
        'k3d',
        'image',
        'import',
        'ghcr.io/ai-platform/api:1.0.0',
        '--cluster',
        'twin-small',
        '--mode',
        'auto',
      ],
    });
    expect(steps[9]).toMatchObject({
      url: 'https://github.com/argoproj/argo-rollouts/releases/download/v1.8.3/install.yaml',
      namespace: 'argo-rollouts',
    });
    const deploy = deploymentPlanText([rollout, ns], steps.length + 1);
    expect(deploy.steps).toBe(2);
    expect(deploy.text).toContain("# 13. the system's 2 objects (CRDs and Namespaces first)");
    expect(deploy.text.indexOf('# Namespace production')).toBeLessThan(
      deploy.text.indexOf('# Rollout production/api'),
    );
    expect(deploy.text).toContain('# 14. workloads in production available');
    expect(k3dDownSteps(plan, true)).toEqual([
      expect.objectContaining({ argv: ['k3d', 'cluster', 'delete', 'twin-small'] }),
    ]);
    expect(k3dDownSteps(plan, false)).toEqual([]);
  });

  it('a system with Terraform: LocalStack first, then terraform init/apply with the endpoint override filled in at run time', () => {
    const plan = planK3dCluster(small, { clusterName: 'twin-small' });
    const steps = k3dUpSteps({
      plan,
      images: [],
      stateDir: '/state',
      createCluster: true,
      terraform: {
        dir: 'infra/x/terraform/environments/local',
        localstackImage: 'localstack/localstack:4.14.0',
      },
    });
    expect(steps.slice(0, 3)).toEqual([
      expect.objectContaining({
        kind: 'container',
        service: 'localstack',
        image: 'localstack/localstack:4.14.0',
        endpointVar: 'LOCALSTACK_ENDPOINT',
      }),
      expect.objectContaining({
        argv: [
          'terraform',
          '-chdir=infra/x/terraform/environments/local',
          'init',
          '-input=false',
          '-no-color',
        ],
        env: { TF_DATA_DIR: '/state/terraform/.terraform', TF_IN_AUTOMATION: '1' },
      }),
      expect.objectContaining({
        argv: expect.arrayContaining(['apply', '-auto-approve', '-var=aws_endpoint={LOCALSTACK_ENDPOINT}']),
      }),
    ]);
    expect(formatStep(steps[2]!, 3)).toContain(
      '$ TF_DATA_DIR=/state/terraform/.terraform TF_IN_AUTOMATION=1 terraform -chdir=infra/x/terraform/environments/local apply',
    );
  });

  it('reusing a running cluster (twin up): no config, no create, nothing to delete', () => {
    const plan = planK3dCluster(small, { clusterName: 'twin-small' });
    const steps = k3dUpSteps({ plan, images: [], stateDir: '/s', createCluster: false });
    expect(steps.some((s) => s.kind === 'run' && s.argv[2] === 'create')).toBe(false);
    expect(steps[0]).toMatchObject({ argv: ['k3d', 'kubeconfig', 'get', 'twin-small'] });
  });

  it('installs the add-ons of addons.yaml at their pinned releases: manifest, Helm chart, or only the CRDs', () => {
    const steps = addonInstallSteps([
      catalogueAddon('cloudnative-pg', '1.30.0'),
      catalogueAddon('redis-operator', 'v0.23.0'),
      catalogueAddon('cert-manager', 'v1.15.3', 'manifests'),
    ]);
    expect(steps.map((s) => formatStep(s, 0).split('\n').slice(1).join('\n'))).toEqual([
      'apply --server-side --field-manager=infra-twin --force-conflicts -f https://raw.githubusercontent.com/cloudnative-pg/cloudnative-pg/release-1.30/releases/cnpg-1.30.0.yaml',
      'wait crds-established',
      'wait deployments-available -n cnpg-system',
      '$ helm upgrade --install redis-operator redis-operator --repo https://ot-container-kit.github.io/helm-charts --version 0.23.0 --namespace ot-operators --create-namespace --wait',
      'wait crds-established',
      'wait deployments-available -n ot-operators',
      'apply --server-side --field-manager=infra-twin --force-conflicts -f https://github.com/cert-manager/cert-manager/releases/download/v1.15.3/cert-manager.crds.yaml',
      'wait crds-established',
    ]);
    expect(addonInstallSteps([])).toEqual([]);
  });

  it('the systems: the add-on releases the k3s profile keeps, the same the twin installs with --profile k3s', async () => {
    const { loadAddons } = await import('../../../system/addons/addons-file.ts');
    const urls = async (system: string) =>
      addonInstallSteps(
        K3S_PROFILE.addons(await loadAddons(path.join(root, 'infra', system, 'addons.yaml'))).installed,
      )
        .filter((s) => s.kind === 'apply-url' || s.kind === 'run')
        .map((s) => (s.kind === 'apply-url' ? s.url : s.kind === 'run' ? s.argv.join(' ') : ''));
    // no AWS Load Balancer Controller (no AWS on k3s), no metrics-server (k3s packages it)
    expect(await urls('ai-platform')).toEqual([
      'https://github.com/argoproj/argo-rollouts/releases/download/v1.8.3/install.yaml',
      'https://github.com/cert-manager/cert-manager/releases/download/v1.15.3/cert-manager.yaml',
      'helm upgrade --install external-secrets external-secrets --repo https://charts.external-secrets.io --version 0.10.3 --namespace external-secrets --create-namespace --wait',
      'helm upgrade --install chaos-mesh chaos-mesh --repo https://charts.chaos-mesh.org --version 2.8.2 --namespace chaos-mesh --create-namespace --wait --set chaosDaemon.runtime=containerd --set chaosDaemon.socketPath=/run/k3s/containerd/containerd.sock --set dashboard.create=false',
    ]);
    expect(await urls('lambda-microservice')).toEqual([
      'https://raw.githubusercontent.com/cloudnative-pg/cloudnative-pg/release-1.30/releases/cnpg-1.30.0.yaml',
    ]);
    expect(await urls('tonebridge')).toEqual([
      'https://raw.githubusercontent.com/cloudnative-pg/cloudnative-pg/release-1.30/releases/cnpg-1.30.0.yaml',
      'helm upgrade --install redis-operator redis-operator --repo https://ot-container-kit.github.io/helm-charts --version 0.23.0 --namespace ot-operators --create-namespace --wait',
    ]);
  });

  it('Helm values of addons.yaml go to the chart as --set', () => {
    const alb = {
      ...catalogueAddon('aws-load-balancer-controller', 'v2.8.2'),
      values: { clusterName: 'prod', 'serviceAccount.create': 'false' },
    };
    expect(addonInstallSteps([alb])[0]).toMatchObject({
      kind: 'run',
      argv: expect.arrayContaining(['--set', 'clusterName=prod', '--set', 'serviceAccount.create=false']),
    });
  });

  it('images of pods, pod templates and CronJob job templates; server-side apply bodies carry no status or server metadata', () => {
    const cron = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'etl', namespace: 'x', resourceVersion: '7', uid: 'u' },
      spec: {
        jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'etl:1' }] } } } },
      },
      status: { lastScheduleTime: 'x' },
    };
    expect(imagesOf([rollout, cron])).toEqual(['ghcr.io/ai-platform/api:1.0.0', 'etl:1']);
    expect(applyOrder([cron])[0]).toEqual({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'etl', namespace: 'x' },
      spec: cron.spec,
    });
  });
});
