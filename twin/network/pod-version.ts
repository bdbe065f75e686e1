import type { KubeObject } from '../../kube/object.ts';

/** The version traffic is counted under: app.kubernetes.io/version, else the pod-template hash. */
export function versionOf(pod: KubeObject | undefined): string {
  const labels = pod?.metadata.labels ?? {};
  return (
    labels['app.kubernetes.io/version'] ??
    labels['rollouts-pod-template-hash'] ??
    labels['pod-template-hash'] ??
    'unknown'
  );
}
