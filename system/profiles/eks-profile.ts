import type { ClusterProfile } from './cluster-profile.ts';

/**
 * The production clusters of the seeds: EKS. Its nodes and storage are the system's topology.yaml (the
 * EBS CSI driver and the gp2 class EKS creates); it installs every add-on of addons.yaml; it comes with
 * no IngressClass (the AWS Load Balancer Controller's install creates `alb`) and no metrics API
 * (metrics-server is an add-on); the VPC CNI's network policy agent enforces NetworkPolicy (the seeds
 * write policies and mean them); pods get AWS credentials through IRSA.
 * See https://docs.aws.amazon.com/eks/latest/userguide/eks-add-ons.html and
 * https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html
 */
export const EKS_PROFILE: ClusterProfile = {
  name: 'eks',
  title: 'EKS',
  defaultOverlay: () => 'local',
  overlaysFor: (overlays) => overlays.filter((o) => o !== 'k3d'),
  nodes: (topology) => ({ topology, shrunk: [] }),
  storage: (topology) => topology.storage ?? { provisioners: [] },
  addons: (listed) => ({ installed: [...listed], leftOut: [] }),
  ingressClasses: [],
  apis: [],
  networkPolicy: { enforced: true, by: 'the Amazon VPC CNI network policy agent' },
  irsa: true,
  cloud: 'aws',
};
