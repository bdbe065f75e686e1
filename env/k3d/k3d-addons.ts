import type { KubeObject } from '../../kube/object.ts';
import type { AddonInstall } from '../../system/addons/addon-catalogue.ts';
import type { LoadedAddon } from '../../system/addons/addons-file.ts';
import type { K3dStep } from './k3d-steps.ts';

/**
 * The k3d steps that install a system's add-ons (infra/<system>/addons.yaml) at their pinned releases:
 * the release manifest (server-side apply) or Helm chart of each, or only its CRDs when the system's
 * manifests deploy the controller themselves; then the CRDs established and the controller available.
 */
export function addonInstallSteps(addons: LoadedAddon[]): K3dStep[] {
  const steps: K3dStep[] = [];
  for (const addon of addons) {
    const label = `${addon.title} ${addon.version}`;
    const install = addon.controller === 'addon' ? addon.release.install : addon.release.crdsOnly!;
    const what =
      addon.controller === 'addon'
        ? `install ${label}`
        : `${label}'s CRDs (the system's manifests deploy its controller)`;
    if (install.kind === 'manifest') {
      if (install.namespace)
        steps.push({
          kind: 'apply',
          objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: install.namespace } }],
          why: `namespace for ${label}`,
        });
      steps.push({
        kind: 'apply-url',
        url: install.url,
        ...(install.namespace ? { namespace: install.namespace } : {}),
        why: `${what} (pinned release manifest)`,
      });
    } else {
      steps.push({
        kind: 'run',
        argv: helmInstallArgv(install, addon.values),
        why: `${what} (pinned Helm chart ${install.chart} ${install.version})`,
      });
    }
    steps.push({ kind: 'wait', what: 'crds-established', why: `${label}'s CRDs established` });
    if (addon.controller === 'addon')
      steps.push({
        kind: 'wait',
        what: 'deployments-available',
        namespace: addon.release.controllerNamespace,
        why: `${label}'s controller available`,
      });
  }
  return steps;
}

export function helmInstallArgv(
  install: Extract<AddonInstall, { kind: 'helm' }>,
  values: Record<string, string> = {},
): string[] {
  return [
    'helm',
    'upgrade',
    '--install',
    install.release,
    install.chart,
    '--repo',
    install.repo,
    '--version',
    install.version,
    '--namespace',
    install.namespace,
    '--create-namespace',
    '--wait',
    ...Object.entries({ ...install.set, ...values }).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
  ];
}

/** Whether the add-on steps need helm on the PATH. */
export function needsHelm(addons: LoadedAddon[]): boolean {
  return addons.some(
    (a) => (a.controller === 'addon' ? a.release.install : a.release.crdsOnly)?.kind === 'helm',
  );
}

/** NVIDIA's device plugin, pinned, with runtimeClassName nvidia: k3s keeps runc as the default runtime. */
export const NVIDIA_DEVICE_PLUGIN_IMAGE = 'nvcr.io/nvidia/k8s-device-plugin:v0.17.0';

/** RuntimeClass and device-plugin DaemonSet for GPU passthrough (k3d's CUDA recipe). */
export function nvidiaDevicePluginObjects(): KubeObject[] {
  const labels = { 'app.kubernetes.io/name': 'nvidia-device-plugin' };
  return [
    { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'nvidia' }, handler: 'nvidia' },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'nvidia-device-plugin-daemonset', namespace: 'kube-system', labels },
      spec: {
        selector: { matchLabels: labels },
        updateStrategy: { type: 'RollingUpdate' },
        template: {
          metadata: { labels },
          spec: {
            runtimeClassName: 'nvidia',
            priorityClassName: 'system-node-critical',
            nodeSelector: { 'nvidia.com/gpu.present': 'true' },
            tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
            containers: [
              {
                name: 'nvidia-device-plugin-ctr',
                image: NVIDIA_DEVICE_PLUGIN_IMAGE,
                env: [{ name: 'FAIL_ON_INIT_ERROR', value: 'false' }],
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
                volumeMounts: [{ name: 'device-plugin', mountPath: '/var/lib/kubelet/device-plugins' }],
              },
            ],
            volumes: [{ name: 'device-plugin', hostPath: { path: '/var/lib/kubelet/device-plugins' } }],
          },
        },
      },
    },
  ];
}

/**
 * Emulated GPUs: the extended resource advertised on the node's status as the Kubernetes task
 * "Advertise Extended Resources for a Node" does (JSON Patch on /status; `~1` escapes the `/`).
 * The kubelet does not know the resource, so it is re-sent after every restart of the node.
 */
export function gpuStatusPatch(gpus: number): { op: 'add'; path: string; value: string }[] {
  return [
    { op: 'add', path: '/status/capacity/nvidia.com~1gpu', value: String(gpus) },
    { op: 'add', path: '/status/allocatable/nvidia.com~1gpu', value: String(gpus) },
  ];
}

/** The emulated GPU count to re-advertise on a node whose status lost it (a restarted kubelet), or 0. */
export function gpusToRepatch(agents: { nodeName: string; gpus: number }[], node: KubeObject): number {
  const agent = agents.find((a) => a.nodeName === node.metadata.name);
  if (!agent || agent.gpus === 0) return 0;
  const have = node.status?.capacity?.['nvidia.com/gpu'];
  return have === String(agent.gpus) ? 0 : agent.gpus;
}
