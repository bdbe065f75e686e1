import type { Environment, KubeObject, LabelSelector, ObjectRef } from '../../env/environment.ts';
import type { ConformanceImages } from './images.ts';

/** The areas of documented behaviour the suite covers, in the order the catalog lists them. */
export const AREAS = [
  'Scheduling',
  'Taints and tolerations',
  'Pod affinity and topology spread',
  'Deployments and ReplicaSets',
  'StatefulSets',
  'DaemonSets',
  'Disruptions and eviction',
  'Horizontal Pod Autoscaling',
  'Node lifecycle',
  'Jobs',
  'CronJobs',
  'Services and Endpoints',
  'Argo Rollouts canary',
  'NetworkPolicy',
] as const;
export type Area = (typeof AREAS)[number];

/**
 * What a case may need beyond the Environment API every environment has: `load` (`env.load`, emulated
 * workload load); `networkPolicy` (NetworkPolicy enforced for connections straight to pod addresses
 * and through Services: the twin needs root and nftables, see docs/network-policy.md);
 * `networkPolicyDrop` (enforced by dropping a denied connection's SYN, as the twin, the EKS VPC CNI,
 * Calico and Cilium do, not by rejecting it as k3s's kube-router does).
 */
export type Need = 'load' | 'networkPolicy' | 'networkPolicyDrop';

/**
 * One documented behaviour, checked through the Environment API only, so that the same case runs on
 * every environment (kwok's test/e2e/cases.go). The title states the behaviour; `docs` is the page
 * that documents it.
 */
export interface ConformanceCase {
  area: Area;
  /** The documented behaviour, as a sentence. */
  title: string;
  /** The page (kubernetes.io/docs/…, the API reference, argo-rollouts.readthedocs.io) that states it. */
  docs: string;
  /** What the environment must offer; where it does not, the case is skipped saying why. */
  needs?: Need;
  run(t: CaseContext): Promise<void>;
}

/** What a case works with: its own namespace on the environment, and waits in control-plane time. */
export interface CaseContext {
  readonly env: Environment;
  /** A namespace of the case's own, created before it runs and deleted after. */
  readonly ns: string;
  readonly images: ConformanceImages;
  /** Creates or updates objects (namespaced ones in `ns` unless they name one); they are deleted after the case. */
  apply(...objects: KubeObject[]): Promise<KubeObject[]>;
  get(ref: Omit<ObjectRef, 'namespace'> & { namespace?: string }): Promise<KubeObject | undefined>;
  /** Objects of a kind in the case's namespace (or cluster-wide for Nodes), optionally by label. */
  list(kind: string, selector?: LabelSelector['matchLabels'], apiVersion?: string): Promise<KubeObject[]>;
  /** Pods of the namespace with these labels that are not being deleted. */
  pods(selector?: Record<string, string>): Promise<KubeObject[]>;
  /** Read-modify-write of an object of the namespace (or a Node). */
  patch(
    ref: Omit<ObjectRef, 'namespace'> & { namespace?: string },
    mutate: (obj: KubeObject) => void,
    options?: { subresource?: 'status' },
  ): Promise<KubeObject | undefined>;
  delete(ref: Omit<ObjectRef, 'namespace'> & { namespace?: string }): Promise<void>;
  /**
   * Waits until `check` returns a value other than undefined, re-checking on every change of the
   * watched kinds in the namespace (and Nodes) and at least every second. The limit is
   * `controlPlaneSeconds` of the environment's control-plane time (with a floor in real time).
   */
  until<T>(
    what: string,
    controlPlaneSeconds: number,
    check: () => Promise<T | undefined> | T | undefined,
  ): Promise<T>;
  /** Waits for the pods with these labels to satisfy `predicate` (active pods only). */
  podsUntil(
    what: string,
    selector: Record<string, string>,
    predicate: (pods: KubeObject[]) => boolean,
    controlPlaneSeconds?: number,
  ): Promise<KubeObject[]>;
  /** Waits for one object to satisfy `predicate`. */
  objectUntil(
    what: string,
    ref: Omit<ObjectRef, 'namespace'> & { namespace?: string },
    predicate: (obj: KubeObject) => boolean,
    controlPlaneSeconds?: number,
  ): Promise<KubeObject>;
  /**
   * Records every version of the objects of a kind in the namespace from now on, in the order the
   * API server reports them; `stop()` ends the recording. Resolves once the watch is established
   * (its first event, or 2 s of control-plane time for a watch that reports nothing).
   */
  record(kind: string, apiVersion?: string): Promise<Recording>;
  /** Nodes of the cluster (the topology's, on k3d also its server). */
  nodes(): Promise<KubeObject[]>;
  /** Something to undo after the case (untaint a node, restart a stopped one), run in reverse order. */
  defer(undo: () => Promise<void>): void;
  /** Control-plane time, epoch ms. */
  now(): number;
  /** Waits `seconds` of control-plane time. Only for "nothing happens within …" checks. */
  sleep(seconds: number): Promise<void>;
}

export interface Recording {
  /**
   * Every change in the order the API server reported it, with the control-plane time it was seen
   * (`at`: on the twin the time of the change itself, on a cluster a little after it).
   */
  readonly events: Array<{ type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject; at: number }>;
  stop(): void;
}
