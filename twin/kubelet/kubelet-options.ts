import type { KubeObject } from '../../kube/object.ts';
import type { TwinBindings } from '../../system/twin-bindings.ts';
import type { GpuAllocator } from '../gpu/gpu-allocator.ts';
import type { WorkloadBundler } from './workload-bundler.ts';

/** What the kubelet and each pod worker run with. */
export interface KubeletOptions {
  bindings: TwinBindings;
  bundler: WorkloadBundler;
  /** Where pod logs go: <podsDir>/<namespace>_<pod>/<container>.log */
  podsDir: string;
  /** Each PersistentVolume's data: <volumesDir>/<pv name> (the disk behind a bound claim). */
  volumesDir: string;
  /** Working directory of live processes (the repository root). */
  cwd: string;
  /** A pod's IP: `live` when a container of it runs as a process (only those bind their address). */
  allocatePodIp(uid: string, live: boolean): string;
  releasePodIp(uid: string): void;
  /** Extra environment for live Node.js pods (cluster DNS file and namespace are added per pod). */
  nodeImports: string[];
  dnsFile: string;
  /** Variables every live container gets (the environment's AWS endpoint); the container's own env wins. */
  podEnv?: Record<string, string>;
  /**
   * The projected service account volume of a pod (token, ca.crt, namespace), written under the pod's
   * root at /var/run/secrets/kubernetes.io/serviceaccount for pods with live containers; undefined
   * when the pod mounts none (automountServiceAccountToken: false, or no API server).
   */
  serviceAccountFiles?: (pod: KubeObject) => Record<string, string> | undefined;
  /** Compiled sandbox helpers and image layers of images bound by their Dockerfile (<root>/.twin/sandbox). */
  sandboxCacheDir?: string;
  /** The cluster DNS server's address for pods' resolv.conf (undefined when none runs). */
  nameserver?: () => string | undefined;
  /** The NVIDIA device plugin's exclusive GPU assignment (NVIDIA_VISIBLE_DEVICES / CUDA_VISIBLE_DEVICES). */
  gpus?: GpuAllocator;
  /** What a live container needs to connect from its pod's address (TWIN_POD_SOURCE_IP, LD_PRELOAD). */
  podNetworkEnv?(pod: KubeObject, podIP: string): Record<string, string>;
  /**
   * Resolves once the network's NetworkPolicy rules know the pod's address: containers start only
   * then ("filtering is effective … from the very first instant that any container in that Pod is
   * started").
   */
  networkReady?(): Promise<void>;
}
