import type { ServedResource } from '../../../kube/api/resource-registry.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { evaluateJsonPath } from '../../rollouts/jsonpath.ts';
import { formatLabelSelector } from '../tables/builtin-printers.ts';

/** Where a resource keeps its replica counts and selector (built-ins, or a CRD's scale subresource). */
function scalePaths(r: ServedResource): { spec: string; status: string; selector?: string } | undefined {
  if (r.custom?.scale)
    return {
      spec: r.custom.scale.specReplicasPath,
      status: r.custom.scale.statusReplicasPath,
      ...(r.custom.scale.labelSelectorPath ? { selector: r.custom.scale.labelSelectorPath } : {}),
    };
  if (r.subresources.some((s) => s.name === 'scale'))
    return { spec: '.spec.replicas', status: '.status.replicas' };
  return undefined;
}

/**
 * The autoscaling/v1 Scale of an object (`<resource>/scale`): spec.replicas from the object's spec
 * (1 when unset, as the API defaults it), status.replicas and the selector as a string.
 * See https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#scale-subresource
 */
export function scaleOf(r: ServedResource, obj: Readonly<KubeObject>): KubeObject | undefined {
  const paths = scalePaths(r);
  if (!paths) return undefined;
  const read = (p: string) => {
    try {
      return evaluateJsonPath(p, obj);
    } catch {
      return undefined;
    }
  };
  let selector: unknown;
  if (paths.selector) selector = read(paths.selector);
  else if (r.kind === 'ReplicationController')
    selector = Object.entries(obj.spec?.selector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  else selector = formatLabelSelector(obj.spec?.selector);
  const specReplicas = read(paths.spec);
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: obj.metadata.name,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
      ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}),
      ...(obj.metadata.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {}),
      ...(obj.metadata.creationTimestamp ? { creationTimestamp: obj.metadata.creationTimestamp } : {}),
    },
    spec: { replicas: typeof specReplicas === 'number' ? specReplicas : r.custom ? 0 : 1 },
    status: {
      replicas: Number(read(paths.status) ?? 0),
      ...(selector && selector !== '<none>' ? { selector: String(selector) } : {}),
    },
  };
}

/** The object with its spec replicas set (what a Scale update writes). */
export function withReplicas(r: ServedResource, obj: Readonly<KubeObject>, replicas: number): KubeObject {
  const paths = scalePaths(r)!;
  const next = structuredClone(obj) as KubeObject;
  const keys = paths.spec.replace(/^\./, '').split('.');
  let cur: any = next;
  for (const k of keys.slice(0, -1)) {
    cur[k] ??= {};
    cur = cur[k];
  }
  cur[keys.at(-1)!] = replicas;
  return next;
}
