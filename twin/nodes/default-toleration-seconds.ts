import type { KubeObject } from '../../kube/object.ts';
import { NODE_LIFECYCLE_DEFAULTS, TAINT_NOT_READY, TAINT_UNREACHABLE } from './node-lifecycle-defaults.ts';

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** Whether some toleration already covers NoExecute taints with this key (an empty effect or key+Exists counts). */
function coversNoExecute(tolerations: Toleration[], key: string): boolean {
  return tolerations.some(
    (t) =>
      (t.effect === undefined || t.effect === '' || t.effect === 'NoExecute') &&
      (t.key === key || ((t.key === undefined || t.key === '') && t.operator === 'Exists')),
  );
}

/**
 * The DefaultTolerationSeconds admission plugin: a pod created without a NoExecute toleration for
 * node.kubernetes.io/not-ready or /unreachable gets one for `tolerationSeconds` (300 s by default),
 * so its pods leave a failed node 5 minutes after the taint. DaemonSet pods already tolerate both forever.
 */
export function defaultTolerationSeconds(
  notReadySeconds = NODE_LIFECYCLE_DEFAULTS.defaultNotReadyTolerationSeconds,
  unreachableSeconds = NODE_LIFECYCLE_DEFAULTS.defaultUnreachableTolerationSeconds,
): (obj: KubeObject) => void {
  return (obj) => {
    if (obj.kind !== 'Pod' || (obj.apiVersion ?? 'v1') !== 'v1') return;
    obj.spec = obj.spec ?? {};
    const tolerations: Toleration[] = [...(obj.spec.tolerations ?? [])];
    if (!coversNoExecute(tolerations, TAINT_NOT_READY))
      tolerations.push({
        key: TAINT_NOT_READY,
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: notReadySeconds,
      });
    if (!coversNoExecute(tolerations, TAINT_UNREACHABLE))
      tolerations.push({
        key: TAINT_UNREACHABLE,
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: unreachableSeconds,
      });
    obj.spec.tolerations = tolerations;
  };
}
