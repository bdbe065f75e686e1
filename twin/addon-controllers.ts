import type { LookupFunction } from 'node:net';
import type { LoadedAddon } from '../system/addons/addons-file.ts';
import type { ClusterCapabilities } from '../system/profiles/cluster-capabilities.ts';
import type { LoadedSystem } from '../system/system.ts';
import { CnpgClusterController } from './cnpg/cluster-controller.ts';
import { CnpgPoolerController } from './cnpg/pooler-controller.ts';
import type { Controller } from './controllers/controller.ts';
import { RedisClusterController } from './redis-operator/redis-cluster-controller.ts';
import { rolloutControllers } from './rollouts/index.ts';

export interface AddonControllerOptions {
  /** Resolves cluster DNS names (Argo Rollouts' web metric provider). */
  lookup?: LookupFunction;
}

/** The twin's own controller of each add-on it implements, by catalogue name. */
const IMPLEMENTED: Record<string, (o: AddonControllerOptions) => Controller[]> = {
  'argo-rollouts': (o) => rolloutControllers(o.lookup ? { lookup: o.lookup } : {}),
  'cloudnative-pg': () => [new CnpgClusterController(), new CnpgPoolerController()],
  'redis-operator': () => [new RedisClusterController()],
  // metrics.k8s.io: the emulated usage (twin/autoscaling) the HorizontalPodAutoscaler controller reads
  'metrics-server': () => [],
  // VirtualService, DestinationRule, Gateway: played by the Service proxy's traffic-policy engine
  // (twin/traffic-policy/istio), which reads them from the store as istiod does from the API server
  istio: () => [],
};

export function implementsAddon(name: string): boolean {
  return IMPLEMENTED[name] !== undefined;
}

/** The controllers to start for a system's add-ons; add-ons the twin does not implement get none (their objects are stored). */
export function addonControllers(addons: LoadedAddon[], options: AddonControllerOptions = {}): Controller[] {
  return addons.flatMap((a) => IMPLEMENTED[a.name]?.(options) ?? []);
}

/** "add-ons: Argo Rollouts v1.8.3 (twin controller), cert-manager v1.15.3 (CRDs installed; its custom resources stored, not reconciled)" */
export function describeAddons(addons: LoadedAddon[]): string {
  if (addons.length === 0) return 'add-ons: none (addons.yaml lists none): custom resources have no CRDs';
  return `add-ons: ${addons
    .map(
      (a) =>
        `${a.title} ${a.version} (${
          implementsAddon(a.name)
            ? 'twin controller'
            : a.entry.ingress
              ? `the twin's Ingress proxy serves IngressClass ${a.entry.ingress.ingressClass}; its custom resources stored, not reconciled`
              : 'CRDs installed; its custom resources stored, not reconciled'
        })`,
    )
    .join(', ')}`;
}

/** "cluster profile k3s: overlay k3d; storage: rancher.io/local-path; IngressClasses: traefik; metrics.k8s.io; left out: AWS Load Balancer Controller v2.8.2 (…)" */
export function describeProfile(system: LoadedSystem, caps: ClusterCapabilities): string {
  const { profile } = system;
  const storage = profile.storage(system.topology);
  const parts = [
    `overlay ${system.overlay}`,
    `provisioners: ${storage.provisioners.map((p) => p.name).join(', ') || 'none'}`,
    `IngressClasses: ${caps.ingressClasses.map((c) => c.object.metadata.name).join(', ') || "only the manifests'"}`,
    `metrics APIs: ${[...caps.apis.keys()].join(', ') || 'none'}`,
    `NetworkPolicy: ${profile.networkPolicy.enforced ? `enforced, as ${profile.networkPolicy.by} does` : 'not enforced'}`,
  ];
  const left = system.leftOutAddons.map((l) => `${l.addon.title} ${l.addon.version} (${l.why})`);
  if (left.length > 0) parts.push(`add-ons left out: ${left.join('; ')}`);
  return `cluster profile ${profile.name}: ${parts.join('; ')}`;
}
