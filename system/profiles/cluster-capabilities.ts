import type { KubeObject } from '../../kube/object.ts';
import type { LoadedAddon } from '../addons/addons-file.ts';
import type { ClusterProfile } from './cluster-profile.ts';

export const DEFAULT_INGRESS_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

/** What a cluster of a profile serves once the add-ons it installs are in: the twin provides the same, twin check expects it. */
export interface ClusterCapabilities {
  /** `spec.controller` of the Ingress controllers that run, and what runs each. */
  ingressControllers: Map<string, string>;
  /** The IngressClasses the cluster and its add-ons' installs create (before any manifest), and who creates each. */
  ingressClasses: { object: KubeObject; origin: string }[];
  /** Aggregated APIs served (metrics.k8s.io, …), and by what. */
  apis: Map<string, string>;
}

export function clusterCapabilities(
  profile: ClusterProfile,
  addons: readonly LoadedAddon[],
): ClusterCapabilities {
  const ingressControllers = new Map<string, string>();
  const ingressClasses: { object: KubeObject; origin: string }[] = [];
  const apis = new Map<string, string>();
  const cls = (name: string, controller: string, isDefault: boolean): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name, ...(isDefault ? { annotations: { [DEFAULT_INGRESS_CLASS_ANNOTATION]: 'true' } } : {}) },
    spec: { controller },
  });
  for (const c of profile.ingressClasses) {
    ingressControllers.set(c.controller, `the ${profile.title} cluster`);
    ingressClasses.push({
      object: cls(c.name, c.controller, c.default),
      origin: `the ${profile.title} cluster`,
    });
  }
  for (const api of profile.apis) apis.set(api, `the ${profile.title} cluster`);
  for (const a of addons) {
    for (const api of a.entry.apis ?? []) apis.set(api, `${a.title} ${a.version}`);
    if (!a.entry.ingress) continue;
    ingressControllers.set(a.entry.ingress.controller, `${a.title} ${a.version}`);
    // an install of the add-on creates its class; manifests that deploy the controller write their own
    if (a.controller === 'addon')
      ingressClasses.push({
        object: cls(a.entry.ingress.ingressClass, a.entry.ingress.controller, false),
        origin: `${a.title}'s install`,
      });
  }
  return { ingressControllers, ingressClasses, apis };
}
