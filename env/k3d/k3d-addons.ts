import type { KubeObject } from '../../kube/object.ts';
import { groupOf } from '../../kube/object.ts';

/** An upstream install manifest, pinned to a release, applied when the system's objects use its API group. */
export interface Addon {
  name: string;
  /** API groups whose objects need this addon's CRDs and controller. */
  groups: string[];
  url: string;
  /** Namespace for namespaced objects that name none (as `kubectl apply -n`). */
  namespace?: string;
  /** Namespaces whose Deployments must be available before the system's objects go in. */
  waitNamespace: string;
}

export const ADDONS: Addon[] = [
  {
    name: 'Argo Rollouts v1.8.3',
    groups: ['argoproj.io'],
    url: 'https://github.com/argoproj/argo-rollouts/releases/download/v1.8.3/install.yaml',
    namespace: 'argo-rollouts',
    waitNamespace: 'argo-rollouts',
  },
  {
    name: 'CloudNativePG 1.25.1',
    groups: ['postgresql.cnpg.io'],
    url: 'https://raw.githubusercontent.com/cloudnative-pg/cloudnative-pg/release-1.25/releases/cnpg-1.25.1.yaml',
    waitNamespace: 'cnpg-system',
  },
];

/** The addons a set of objects needs, in ADDONS order. */
export function addonsFor(objects: KubeObject[]): Addon[] {
  const groups = new Set(objects.map((o) => groupOf(o.apiVersion)));
  return ADDONS.filter((a) => a.groups.some((g) => groups.has(g)));
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
