import type { LabelSelector } from '../twin/api/labels.ts';
import type { KubeObject, ObjectRef } from '../twin/api/object.ts';
import type { Clock } from '../twin/clock.ts';

export type { Clock, KubeObject, LabelSelector, ObjectRef };

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
  /** Changes an object through a function on its latest version (read-modify-write). */
  patch(ref: ObjectRef, mutate: (obj: KubeObject) => void): Promise<KubeObject | undefined>;
  delete(ref: ObjectRef): Promise<void>;
  /** Watches objects of a type; returns the function that ends the watch. */
  watch(
    type: { apiVersion?: string; kind: string; namespace?: string },
    handler: (e: KubeWatchEvent) => void,
  ): () => void;
  /** Waits until `predicate` holds for the object, re-checking on every change; rejects after `timeoutMs` of real time naming what it waited for. */
  waitFor(
    ref: ObjectRef,
    predicate: (obj: KubeObject | undefined) => boolean,
    options: { timeoutMs: number; what: string; signal?: AbortSignal },
  ): Promise<KubeObject | undefined>;
  /** The last lines a pod's container wrote. */
  logs(ref: { namespace: string; name: string }, options?: { tailLines?: number }): Promise<string>;
}

/** Per-version traffic figures over a window, as counted by the environment's proxies. */
export interface TrafficStats {
  requests: number;
  errors: number;
  errorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

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
}

export interface AwsEndpoint {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** Faults the scenario can inject; each is an event on the timeline and undone by down(). */
export interface Faults {
  killPod(ref: { namespace: string; name: string }): Promise<void>;
}

export interface TimelineEvent {
  /** Control-plane time (epoch ms). */
  t: number;
  kind: string;
  object?: string;
  message: string;
  type?: 'Normal' | 'Warning';
}

export interface Environment extends AsyncDisposable {
  readonly name: string;
  readonly kube: KubeApi;
  readonly net: Network;
  readonly aws: AwsEndpoint | undefined;
  readonly faults: Faults;
  readonly clock: Clock;
  /** Subscribes to what happens in the environment (Kubernetes Events and faults); returns unsubscribe. */
  onEvent(handler: (e: TimelineEvent) => void): () => void;
  down(): Promise<void>;
}

export interface EnvironmentOptions {
  /** System under infra/<system>/ (e.g. "ai-platform"), or a directory laid out the same way. */
  system: string;
  /** Kustomize overlay under infra/<system>/k8s/overlays/. */
  overlay?: string;
  /** Control-plane time scale (twin only). */
  timeScale?: number;
  /** Directory for this run's state: pod logs, data directories, the control-plane log. */
  workDir: string;
  /** Progress lines for long steps. */
  progress?: (message: string) => void;
  signal?: AbortSignal;
}

export interface EnvironmentBackend {
  readonly name: string;
  /** Throws a TwinError saying what is missing when this environment cannot run here. */
  preflight(): Promise<void>;
  up(options: EnvironmentOptions): Promise<Environment>;
}
