import { K3S_STORAGE } from '../topology/cluster-storage.ts';
import { laptopTopology } from '../topology/laptop-topology.ts';
import { type ClusterProfile, splitAddons } from './cluster-profile.ts';

/** Nodes per pool and zone of a k3d cluster (env/k3d: one agent each, unless TWIN_K3D_NODES says otherwise). */
export const K3D_NODES_PER_POOL_ZONE = 1;

/**
 * What k3d provides (k3s in Docker): the system's `k3d` overlay (else `local`), one agent per pool and
 * zone, the local-path provisioner and its default class only, Traefik in kube-system serving the
 * default IngressClass `traefik`, metrics-server packaged (metrics.k8s.io), NetworkPolicy enforced by
 * k3s' embedded network policy controller, no AWS: no IRSA, and none of the add-ons that need AWS APIs
 * (the AWS Load Balancer Controller). See https://docs.k3s.io/installation/packaged-components,
 * https://docs.k3s.io/networking/networking-services#traefik-ingress-controller and
 * https://docs.k3s.io/storage
 */
export const K3S_PROFILE: ClusterProfile = {
  name: 'k3s',
  title: 'k3s',
  defaultOverlay: (overlays) => (overlays.includes('k3d') ? 'k3d' : 'local'),
  overlaysFor: (overlays) => [overlays.includes('k3d') ? 'k3d' : 'local'],
  nodes: (topology) => laptopTopology(topology, K3D_NODES_PER_POOL_ZONE),
  storage: () => K3S_STORAGE,
  addons: (listed) =>
    splitAddons(listed, (a) => {
      if (a.entry.cloud)
        return `it needs the ${a.entry.cloud.toUpperCase()} APIs and IAM roles for service accounts, which a k3s cluster does not have`;
      if (a.entry.packagedBy?.includes('k3s')) return 'k3s packages it, in kube-system';
      return undefined;
    }),
  ingressClasses: [
    {
      name: 'traefik',
      controller: 'traefik.io/ingress-controller',
      default: true,
      pods: {
        namespace: 'kube-system',
        labels: { 'app.kubernetes.io/name': 'traefik', 'app.kubernetes.io/instance': 'traefik-kube-system' },
      },
    },
  ],
  apis: ['metrics.k8s.io'],
  networkPolicy: { enforced: true, by: "k3s' embedded network policy controller, kube-router's" },
  irsa: false,
  cloud: undefined,
};
