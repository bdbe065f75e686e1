import type { LoadedAddon } from '../addons/addons-file.ts';
import type { ClusterStorage, Topology } from '../topology/topology-schema.ts';

/** An IngressClass the cluster comes with, and where its controller's pods run (what NetworkPolicies must admit). */
export interface BuiltinIngressClass {
  name: string;
  /** `spec.controller` */
  controller: string;
  /** Annotated ingressclass.kubernetes.io/is-default-class: "true". */
  default: boolean;
  /** The controller's pods: the source of its connections to the backends. */
  pods: { namespace: string; labels: Record<string, string> };
}

/** An add-on of the system's list that a cluster of this profile does not install, and why. */
export interface LeftOutAddon {
  addon: LoadedAddon;
  why: string;
}

/**
 * What a kind of cluster provides beyond the manifests: the overlay rendered for it, its nodes, storage,
 * Ingress classes, metrics APIs, NetworkPolicy enforcement, which of the system's add-ons it installs,
 * and whether pods get AWS credentials from IAM roles for service accounts. One object per kind of
 * cluster, shared by the twin (`--profile`), `twin check` and the k3d plan, so that they cannot
 * disagree about what the cluster is.
 */
export interface ClusterProfile {
  name: 'eks' | 'k3s';
  /** "EKS" / "k3s", as messages name the cluster */
  title: string;
  /** The overlay rendered when none is asked for, given the overlays the system has. */
  defaultOverlay(overlays: readonly string[]): string;
  /** The overlays written for this kind of cluster (what `twin check --all` checks under it). */
  overlaysFor(overlays: readonly string[]): string[];
  /** The cluster's nodes: the topology itself, or a laptop-sized copy of it. */
  nodes(topology: Topology): { topology: Topology; shrunk: string[] };
  /** Provisioners and the StorageClasses the cluster is created with. */
  storage(topology: Topology): ClusterStorage;
  /** The add-ons of the system's list this cluster installs, and those it leaves out. */
  addons(listed: readonly LoadedAddon[]): { installed: LoadedAddon[]; leftOut: LeftOutAddon[] };
  /** IngressClasses (and their controllers) the cluster comes with. */
  ingressClasses: readonly BuiltinIngressClass[];
  /** Aggregated APIs the cluster serves without any add-on (k3s: metrics.k8s.io). */
  apis: readonly string[];
  /** Whether the network plugin enforces NetworkPolicy. */
  networkPolicy: { enforced: boolean; by: string };
  /** Pods of a ServiceAccount annotated eks.amazonaws.com/role-arn get that role's credentials. */
  irsa: boolean;
  /** The cloud whose controllers can run (catalogue entries with `cloud`). */
  cloud: 'aws' | undefined;
}

/** The add-ons a cloud-less or packaging profile keeps, as ClusterProfile.addons returns them. */
export function splitAddons(
  listed: readonly LoadedAddon[],
  leaveOut: (a: LoadedAddon) => string | undefined,
): { installed: LoadedAddon[]; leftOut: LeftOutAddon[] } {
  const installed: LoadedAddon[] = [];
  const leftOut: LeftOutAddon[] = [];
  for (const addon of listed) {
    const why = leaveOut(addon);
    if (why === undefined) installed.push(addon);
    else leftOut.push({ addon, why });
  }
  return { installed, leftOut };
}
