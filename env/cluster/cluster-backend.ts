import type { Environment, EnvironmentBackend, EnvironmentOptions } from '../environment.ts';
import { loadClusterTarget } from './kubeconfig.ts';

/**
 * An existing cluster from a kubeconfig context (a staging EKS, a team's cluster, a running twin):
 * the system's overlay is deployed on it, the scenario runs, and what the run created is removed. The
 * cluster itself is never created or deleted. This module stays light (the CLI loads it for every
 * command); the client and the system loader load only when an environment comes up.
 */
export const clusterEnvironment: EnvironmentBackend = {
  name: 'cluster',
  faultSupport: {
    'kubernetes-api': { how: "the cluster's API server, with the kubeconfig's credentials" },
    'node-access': {
      missing:
        "a cluster reached through a kubeconfig gives no access to its nodes' machines (a managed cluster such as EKS, GKE or AKS never does: powering a node off or cutting its network goes through the cloud's API, which this environment does not drive)",
    },
    'chaos-mesh': { how: 'Chaos Mesh installed in the cluster (its chaos objects are applied as given)' },
  },
  /** The kubeconfig and context are readable (`--kubeconfig` / `--context`, else TWIN_KUBECONFIG / TWIN_KUBE_CONTEXT). */
  async preflight(target = {}) {
    loadClusterTarget(targetOptions(target));
  },
  async up(options: EnvironmentOptions): Promise<Environment> {
    return (await import('./cluster-live.ts')).upCluster({ ...options, ...targetOptions(options) });
  },
};

/** `--kubeconfig` / `--context`: the options, else TWIN_KUBECONFIG / TWIN_KUBE_CONTEXT from the environment. */
export function targetOptions(
  options: { kubeconfig?: string; context?: string },
  env: NodeJS.ProcessEnv = process.env,
): { kubeconfig?: string; context?: string } {
  const kubeconfig = options.kubeconfig ?? env['TWIN_KUBECONFIG'];
  const context = options.context ?? env['TWIN_KUBE_CONTEXT'];
  return { ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}) };
}
