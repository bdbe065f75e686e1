import type { WaitOptions } from '../core/wait.ts';
import type { Clock } from '../kube/clock.ts';
import type { ConnectCheck, ConnectResult } from '../kube/connectivity.ts';
import type { DrainReport } from '../kube/drain.ts';
import type { LabelSelector } from '../kube/labels.ts';
import type { KubeObject, ObjectRef } from '../kube/object.ts';

import type { TrafficStats } from '../kube/traffic.ts';
import type { FaultSupport } from './fault-needs.ts';

export type {
  Clock,
  ConnectCheck,
  ConnectResult,
  DrainReport,
  KubeObject,
  LabelSelector,
  ObjectRef,
  TrafficStats,
};

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface KubeWatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

/** apply/get/list/watch/patch/delete of plain Kubernetes objects, the same JSON on every environment. */
export interface KubeApi {
  apply(objects: KubeObject | KubeObject[]): Promise<KubeObject[]>;
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  list(
    type: { apiVersion?: string; kind: string },
    options?: { namespace?: string; labelSelector?: LabelSelector },
  ): Promise<KubeObject[]>;
  /**
   * Changes an object through a function on its latest version (read-modify-write). With
   * `subresource: 'status'` only the status the function leaves is written (PUT …/status), as
   * controllers and `kubectl argo rollouts promote` / `abort` write it.
   */
  patch(
    ref: ObjectRef,
    mutate: (obj: KubeObject) => void,
    options?: { subresource?: 'status' },
  ): Promise<KubeObject | undefined>;
  delete(ref: ObjectRef): Promise<void>;
  /** Watches objects of a type; returns the function that ends the watch. */
  watch(
    type: { apiVersion?: string; kind: string; namespace?: string },
    handler: (e: KubeWatchEvent) => void,
  ): () => void;
  /**
   * Waits until `predicate` holds for the object, re-checking on every change: rejects with
   * TWIN_TIMEOUT after `timeout` ms of real time naming `what` and the object's last status, or with
   * TWIN_ABORTED when `signal` (or Ctrl-C) aborts.
   */
  waitFor(
    ref: ObjectRef,
    predicate: (obj: KubeObject | undefined) => boolean,
    options: KubeWaitOptions,
  ): Promise<KubeObject | undefined>;
  /** The last lines a pod's container wrote. */
  logs(ref: { namespace: string; name: string }, options?: { tailLines?: number }): Promise<string>;
}

/** How long and for what a wait waits (core/wait.ts WaitOptions): `what` names it in every message. */
export type KubeWaitOptions = Pick<WaitOptions, 'what' | 'timeout' | 'signal' | 'log'>;

export interface Network {
  /** Host-reachable base URL of an Ingress (e.g. http://127.0.0.1:41234). */
  ingressUrl(ref: { namespace: string; name: string }): Promise<string>;
  /** Host-reachable base URL of a Service port. */
  serviceUrl(ref: { namespace: string; name: string; port?: number | string }): Promise<string>;
  /**
   * Traffic the environment's proxies counted for a Service over the last `windowMs` of control-plane
   * time, by version (pod label app.kubernetes.io/version, else the pod-template hash).
   */
  trafficByVersion(ref: { namespace: string; name: string }, windowMs: number): Record<string, TrafficStats>;
  /**
   * Whether a pod can open a TCP connection to a pod or a Service port, measured by a real attempt
   * that leaves from the pod's own address: `timed-out` is what a connection a NetworkPolicy denies
   * does ("the database is reachable only from the app tier").
   */
  canConnect(check: ConnectCheck): Promise<ConnectResult>;
}

export interface AwsEndpoint {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** The answer of the eviction subresource (POST pods/<name>/eviction). */
export interface EvictionAnswer {
  code: 200 | 404 | 429 | 500;
  message: string;
}

/** Faults the scenario can inject; each is an event on the timeline and undone by down(). */
export interface Faults {
  killPod(ref: { namespace: string; name: string }): Promise<void>;
  /** Powers a node off: its containers die and its kubelet stops heartbeating. */
  stopNode(name: string): Promise<void>;
  /** Powers a stopped node on again, or heals a partitioned one. */
  startNode(name: string): Promise<void>;
  /** Stops every node of a zone (topology.kubernetes.io/zone); returns their names. */
  failZone(zone: string): Promise<string[]>;
  /** Starts every node of the zone that a fault stopped; returns their names. */
  restoreZone(zone: string): Promise<string[]>;
  /**
   * Cuts a node off: its pods keep their processes but nothing reaches them and its kubelet cannot
   * report. `mode` says what the environment could do ('stop' where it can only power the node off).
   */
  partitionNode(name: string): Promise<{ mode: 'partition' | 'stop'; how: string }>;
  /** kubectl cordon / uncordon. */
  cordon(name: string): Promise<void>;
  uncordon(name: string): Promise<void>;
  /** kubectl drain --ignore-daemonsets: cordon, then evict every pod through the eviction API, retrying 429s. */
  drain(name: string, options?: { timeoutSeconds?: number }): Promise<DrainReport>;
  /** One eviction through the eviction API (PodDisruptionBudgets apply). */
  evict(ref: { namespace: string; name: string }): Promise<EvictionAnswer>;
  /**
   * A Chaos Mesh chaos object (PodChaos, NetworkChaos, HTTPChaos; kube/chaos-mesh.ts): where Chaos Mesh
   * runs (k3d) it is applied exactly as given and deleting it recovers; the twin plays it with its own
   * faults (pods killed, delay/loss/partition/HTTP faults on its proxies). Resolves once it is in effect.
   */
  chaos(object: KubeObject): Promise<ChaosInjection>;
}

/** A chaos object in effect. */
export interface ChaosInjection {
  /** "NetworkChaos production/api-delay". */
  readonly name: string;
  /** The pods it acts on, "namespace/name". */
  readonly targets: string[];
  /** Ends it (deletes the object on a cluster); the targets recover. Idempotent. */
  recover(): Promise<void>;
}

/**
 * The load each workload sees. On the twin it is emulated resource usage (what metrics-server would
 * report, read by the HorizontalPodAutoscaler); environments where the workloads' real usage counts
 * leave it undefined.
 */
export interface LoadControl {
  /** Total CPU cores and memory bytes the workload (Deployment, Rollout or StatefulSet) needs, spread over its Ready pods. */
  set(
    workload: { namespace: string; name: string },
    load: { cpuCores?: number; memoryBytes?: number },
  ): Promise<void>;
  clear(workload: { namespace: string; name: string }): Promise<void>;
}

/**
 * The fault events on the timeline, the same names on every environment (env/fault-ledger.ts
 * records them); a fault's undoing has its own name (NodeStarted, ZoneRestored, NodeUncordoned).
 */
export const FAULT_EVENTS = [
  'PodKilled',
  'NodeStopped',
  'NodeStarted',
  'NodePartitioned',
  'ZoneFailed',
  'ZoneRestored',
  'NodeCordoned',
  'NodeUncordoned',
  'NodeDrain',
  'NodeDrained',
  'LoadSet',
  'ChaosInjected',
  'ChaosRecovered',
] as const;
export type FaultEvent = (typeof FAULT_EVENTS)[number];

export interface TimelineEvent {
  /** Control-plane time (epoch ms). */
  t: number;
  /** A FaultEvent, a Kubernetes Event's reason, or a scenario's own event kind. */
  kind: string;
  object?: string;
  message: string;
  type?: 'Normal' | 'Warning';
}

export interface Environment extends AsyncDisposable {
  readonly name: string;
  readonly kube: KubeApi;
  /** A kubeconfig for real clients (kubectl, k9s, client libraries) while the environment is up. */
  readonly kubeconfig?: string;
  readonly net: Network;
  readonly aws: AwsEndpoint | undefined;
  readonly faults: Faults;
  /** Emulated load per workload (twin only). */
  readonly load?: LoadControl;
  readonly clock: Clock;
  /** Subscribes to what happens in the environment (Kubernetes Events and faults); returns unsubscribe. */
  onEvent(handler: (e: TimelineEvent) => void): () => void;
  down(): Promise<void>;
}

export interface EnvironmentOptions {
  /** System under infra/<system>/ (e.g. "ai-platform"), or a directory laid out the same way. */
  system: string;
  /**
   * Kustomize overlay under infra/<system>/k8s/overlays/ (twin: default the profile's, local on eks, k3d
   * on k3s where the system has one; the cluster environment needs one named).
   */
  overlay?: string;
  /**
   * The kind of cluster the twin is (system/profiles): eks (default, the seeds' production) or k3s (what
   * k3d provides). Default: TWIN_PROFILE, else eks. The k3d environment is k3s.
   */
  profile?: string;
  /**
   * Control-plane time scale: the twin runs at it; the cluster environment reads the cluster's clock
   * at it (1 for a real cluster, the scale `twin up` runs at when the cluster is a twin).
   */
  timeScale?: number;
  /** The kubeconfig file of an existing cluster (cluster environment; default $KUBECONFIG, then ~/.kube/config). */
  kubeconfig?: string;
  /** The kubeconfig context of an existing cluster (cluster environment; default its current-context). */
  context?: string;
  /** GPU nodes: emulated nvidia.com/gpu (default) or the host's GPUs passed through (`nvidia-smi -L`). */
  gpu?: 'emulated' | 'passthrough';
  /** Directory for this run's state: pod logs, data directories, the control-plane log. */
  workDir: string;
  /** Progress lines for long steps (what the bring-up waits for). */
  progress?: (message: string) => void;
  /** Aborts the bring-up: what had started is torn down and up() rejects with TWIN_ABORTED. */
  signal?: AbortSignal;
  /** Real milliseconds the bring-up may wait for every workload to be ready (default 60 000). */
  readyTimeout?: number;
}

export interface EnvironmentBackend {
  readonly name: string;
  /** How this environment meets each fault need, or why it cannot (env/fault-needs.ts): checked before a scenario starts. */
  readonly faultSupport: FaultSupport;
  /** Throws a TwinError saying what is missing when this environment cannot run here. */
  preflight(target?: { kubeconfig?: string; context?: string }): Promise<void>;
  up(options: EnvironmentOptions): Promise<Environment>;
  /**
   * Removes what a run of this environment that died without tearing down (SIGKILL, a crash) left
   * for the work directory it was given (processes, directories elsewhere); returns what it removed.
   */
  reclaim?(workDir: string): Promise<string[]>;
}
