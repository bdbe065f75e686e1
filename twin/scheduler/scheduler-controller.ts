import { type KubeObject, objectKey, refOf } from '../../kube/object.ts';
import type { Controller, ControllerContext } from '../controllers/controller.ts';
import {
  ANN_BOUND_BY_CONTROLLER,
  ANN_SELECTED_NODE,
  isClaimBound,
  podClaimNames,
} from '../storage/pod-claims.ts';
import type { WatchEvent } from '../store/object-store.ts';
import { addPod, isAssigned, isTerminal, type NodeInfo, nodeInfo, removePod } from './node-info.ts';
import { diagnose, volumeLister } from './schedule.ts';
import { findPodVolumes, podVolumeClaims } from './volume-binding.ts';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
/** VolumeBindingArgs.bindTimeoutSeconds: how long PreBind waits for the pod's claims to be bound. */
export const VOLUME_BIND_TIMEOUT_SECONDS = 600;
const STORAGE_KINDS = [
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
  { apiVersion: 'v1', kind: 'PersistentVolume' },
  { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass' },
];

/**
 * Real milliseconds one scheduling pass may take before it yields to the event loop and goes on in
 * the next turn, so the other controllers and the kubelet keep running while thousands of pods wait.
 */
const SLICE_MS = 50;

/** A pod whose node is chosen while the VolumeBinding PreBind waits for its claims to be bound. */
interface AssumedPod {
  uid: string | undefined;
  nodeName: string;
  cancelTimeout: () => void;
}

interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
}

/** Whether this scheduler owes the pod a placement: unbound, not terminal, not deleted, and ours by schedulerName. */
export function needsScheduling(pod: KubeObject): boolean {
  const spec = pod.spec ?? {};
  if (spec.nodeName || isTerminal(pod) || pod.metadata.deletionTimestamp) return false;
  return (
    spec.schedulerName === undefined ||
    spec.schedulerName === '' ||
    spec.schedulerName === DEFAULT_SCHEDULER_NAME
  );
}

/**
 * kube-scheduler for the twin: places pending pods one at a time, in creation order, against the
 * pods already placed (including those placed earlier in the same pass), and records the outcome on
 * the pod (spec.nodeName, the PodScheduled condition) and as Events. Unschedulable pods are tried
 * again after any change to a Pod or Node that could make room for them.
 *
 * A pod with WaitForFirstConsumer claims is assumed on the chosen node while its volumes are bound
 * there (VolumeBinding's PreBind): the scheduler writes `volume.kubernetes.io/selected-node` on the
 * claims (or pre-binds a matching volume) and binds the pod once every claim is bound, or reports
 * `binding volumes: context deadline exceeded` after bindTimeoutSeconds (600 s) and tries again.
 *
 * Twin simplification: binding is immediate otherwise (no scheduling queue backoff, no preemption).
 */
export class SchedulerController implements Controller {
  readonly name = DEFAULT_SCHEDULER_NAME;
  private ctx: ControllerContext | undefined;
  private readonly sliceMs: number;

  /** `sliceMs`: real milliseconds a pass may run before it yields (SLICE_MS). */
  constructor(options: { sliceMs?: number } = {}) {
    this.sliceMs = options.sliceMs ?? SLICE_MS;
  }

  private readonly pods = new Map<string, KubeObject>();
  private readonly nodes = new Map<string, KubeObject>();
  /** Creation order of pods as this scheduler saw them (its FIFO queue order). */
  private readonly order = new Map<string, number>();
  private seq = 0;
  private unwatch: Array<() => void> = [];
  private readonly assumed = new Map<string, AssumedPod>();
  private queued = false;
  private writing = false;
  private stopped = false;
  /**
   * The scheduler cache (kube-scheduler's internal/cache): each node's NodeInfo, kept up to date as
   * pods are bound, assumed, changed and deleted, instead of rebuilt for every decision.
   */
  private readonly infos = new Map<string, NodeInfo>();
  /** Where each pod is counted (its node, and the object counted there). */
  private readonly counted = new Map<string, { nodeName: string; pod: KubeObject }>();
  /** The NodeInfos in node-name order; rebuilt when a node comes or goes. */
  private snapshot: NodeInfo[] | undefined;
  /** Where the next search for feasible nodes starts (kube-scheduler's nextStartNodeIndex). */
  private nextStartNodeIndex = 0;
  /** A pass cut short by its time slice goes on after this queue position; 0: from the start. */
  private resumeAfter = 0;
  /** A change came while a sliced pass was under way: once it reaches the end, a full pass follows. */
  private passAgain = false;

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.stopped = false;
    this.unwatch.push(ctx.store.watch({ kind: 'Pod' }, (e) => this.onPod(e)));
    this.unwatch.push(ctx.store.watch({ kind: 'Node' }, (e) => this.onNode(e)));
    // Claims bound, volumes and classes created: pods waiting on their volumes may go on.
    for (const type of STORAGE_KINDS)
      this.unwatch.push(
        ctx.store.watch(type, () => {
          if (this.assumed.size > 0 || [...this.pods.values()].some(needsScheduling)) this.requestPass();
        }),
      );
    const existing = ctx.store
      .list({ kind: 'Pod' })
      .sort(
        (a, b) =>
          (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
          Number(a.metadata.resourceVersion ?? 0) - Number(b.metadata.resourceVersion ?? 0),
      );
    for (const n of ctx.store.list({ kind: 'Node' })) this.setNode(n);
    for (const p of existing) this.remember(p);
    this.requestPass();
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unwatch) u();
    this.unwatch = [];
    for (const a of this.assumed.values()) a.cancelTimeout();
    this.assumed.clear();
  }

  private remember(pod: KubeObject): void {
    const key = objectKey(pod);
    if (!this.order.has(key)) this.order.set(key, ++this.seq);
    this.pods.set(key, pod);
    this.account(key);
  }

  /**
   * Counts the pod on the node it is bound or assumed to (an assumed pod counts where it was placed
   * while its volumes are bound), taking it off where it was counted before.
   */
  private account(key: string): void {
    const before = this.counted.get(key);
    if (before) {
      const info = this.infos.get(before.nodeName);
      if (info) removePod(info, before.pod);
      this.counted.delete(key);
    }
    const pod = this.pods.get(key);
    if (!pod) return;
    const a = this.assumed.get(key);
    const placed = a && !pod.spec?.nodeName ? { ...pod, spec: { ...pod.spec, nodeName: a.nodeName } } : pod;
    if (!isAssigned(placed)) return;
    const nodeName: string = placed.spec.nodeName;
    this.counted.set(key, { nodeName, pod: placed });
    const info = this.infos.get(nodeName);
    if (info) addPod(info, placed);
  }

  private setNode(node: KubeObject): void {
    const name = node.metadata.name;
    const known = this.infos.get(name);
    this.nodes.set(name, node);
    const pods = known
      ? known.pods
      : [...this.counted.values()].filter((c) => c.nodeName === name).map((c) => c.pod);
    this.infos.set(name, nodeInfo(node, pods));
    if (!known) this.snapshot = undefined;
    else this.snapshot = this.snapshot?.map((i) => (i.name === name ? this.infos.get(name)! : i));
  }

  private onPod(e: WatchEvent): void {
    const key = objectKey(e.object);
    if (e.type === 'DELETED') {
      this.pods.delete(key);
      this.order.delete(key);
      this.assumed.get(key)?.cancelTimeout();
      this.assumed.delete(key);
      this.account(key);
    } else {
      this.remember(e.object);
    }
    if (this.writing) return;
    if (e.type !== 'MODIFIED' || !e.oldObject || podChangeMatters(e.oldObject, e.object)) this.requestPass();
  }

  private onNode(e: WatchEvent): void {
    if (e.type === 'DELETED') {
      this.nodes.delete(e.object.metadata.name);
      this.infos.delete(e.object.metadata.name);
      this.snapshot = undefined;
    } else this.setNode(e.object);
    if (e.type !== 'MODIFIED' || !e.oldObject || nodeChangeMatters(e.oldObject, e.object)) this.requestPass();
  }

  /** Every node's NodeInfo in node-name order (the cache's snapshot for one scheduling cycle). */
  private nodeInfoSnapshot(): NodeInfo[] {
    this.snapshot ??= [...this.infos.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    return this.snapshot;
  }

  /** Coalesces the changes of one turn of the event loop into one scheduling pass over every pending pod. */
  private requestPass(): void {
    // A pass under way goes on where it was (so a stream of changes cannot keep it retrying the head
    // of the queue), and a full pass follows it.
    if (this.resumeAfter > 0) this.passAgain = true;
    this.continuePass();
  }

  private continuePass(): void {
    if (this.queued || this.stopped) return;
    this.queued = true;
    setImmediate(() => {
      this.queued = false;
      if (this.stopped) return;
      try {
        this.pass();
      } catch (err) {
        this.ctx?.log(
          `${this.name}: scheduling pass failed: ${err instanceof Error ? err.stack : String(err)}`,
        );
      }
    });
  }

  private pass(): void {
    const store = this.ctx!.store;
    const [claims, persistentVolumes, storageClasses] = STORAGE_KINDS.map((t) => store.list(t));
    const storage = {
      claims: claims!,
      persistentVolumes: persistentVolumes!,
      storageClasses: storageClasses!,
    };
    this.finishVolumeBinding(volumeLister(storage.claims, storage.persistentVolumes, storage.storageClasses));
    const resumeAfter = this.resumeAfter;
    this.resumeAfter = 0;
    const pending = [...this.pods.entries()]
      .filter(
        ([key, p]) =>
          needsScheduling(p) && !this.assumed.has(key) && (this.order.get(key) ?? 0) > resumeAfter,
      )
      .sort(([a], [b]) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0));
    if (pending.length === 0) {
      this.passDone();
      return;
    }
    const nodes = [...this.nodes.values()];
    const namespaces = store.list({ kind: 'Namespace' });
    const started = performance.now();
    let bound = 0;
    let failed = 0;
    for (const [key, pod] of pending) {
      if (this.stopped) return;
      const snapshot = this.nodeInfoSnapshot();
      const { result, processed } = diagnose(pod, nodes, [], {
        namespaces,
        ...storage,
        nodeInfos: snapshot,
        nextStartNodeIndex: this.nextStartNodeIndex,
      });
      if (snapshot.length > 0)
        this.nextStartNodeIndex = (this.nextStartNodeIndex + processed) % snapshot.length;
      if ('nodeName' in result) {
        if (this.bindVolumes(pod, result.nodeName, storage)) continue;
        if (this.bind(pod, result.nodeName)) bound++;
      } else {
        this.markUnschedulable(pod, result.unschedulable);
        failed++;
      }
      if (performance.now() - started >= this.sliceMs && key !== pending.at(-1)![0]) {
        // The rest of the queue goes on in the next turn, after whatever else is waiting to run.
        this.resumeAfter = this.order.get(key) ?? 0;
        this.continuePass();
        return;
      }
    }
    // A pod placed in this pass may be what an earlier unschedulable pod's affinity was waiting for.
    if (bound > 0 && failed > 0) this.passAgain = true;
    this.passDone();
  }

  /** The end of the queue: a full pass again if something changed meanwhile. */
  private passDone(): void {
    if (!this.passAgain) return;
    this.passAgain = false;
    this.requestPass();
  }

  /**
   * VolumeBinding's Reserve and PreBind: when the pod's WaitForFirstConsumer claims need binding on the
   * chosen node, pre-bind the matching static volumes and write selected-node on the claims to
   * provision, and hold the pod there until they are bound. False when nothing needs binding.
   */
  private bindVolumes(
    pod: KubeObject,
    nodeName: string,
    storage: { claims: KubeObject[]; persistentVolumes: KubeObject[]; storageClasses: KubeObject[] },
  ): boolean {
    if (podClaimNames(pod).length === 0) return false;
    const lister = volumeLister(storage.claims, storage.persistentVolumes, storage.storageClasses);
    const claims = podVolumeClaims(pod, lister);
    const node = this.nodes.get(nodeName);
    if (!claims || 'error' in claims || claims.unboundDelayBinding.length === 0 || !node) return false;
    const { plan } = findPodVolumes(claims, node, lister);
    const store = this.ctx!.store;
    for (const { claim, volume } of plan.staticBindings)
      store.patch(refOf(volume), (v) => {
        v.spec.claimRef = {
          kind: 'PersistentVolumeClaim',
          namespace: claim.metadata.namespace,
          name: claim.metadata.name,
          uid: claim.metadata.uid,
          apiVersion: 'v1',
          resourceVersion: claim.metadata.resourceVersion,
        };
        v.metadata.annotations = { ...(v.metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
      });
    for (const claim of plan.provisions)
      store.patch(refOf(claim), (c) => {
        if (c.metadata.annotations?.[ANN_SELECTED_NODE] === nodeName) return;
        c.metadata.annotations = { ...(c.metadata.annotations ?? {}), [ANN_SELECTED_NODE]: nodeName };
      });
    const key = objectKey(pod);
    const cancelTimeout = this.ctx!.clock.after(VOLUME_BIND_TIMEOUT_SECONDS * 1000, () => {
      if (this.assumed.get(key)?.uid !== pod.metadata.uid) return;
      this.assumed.delete(key);
      this.account(key);
      const current = this.pods.get(key);
      if (current && needsScheduling(current))
        this.markUnschedulable(
          current,
          'running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded',
          'SchedulerError',
        );
      this.requestPass();
    });
    this.assumed.set(key, { uid: pod.metadata.uid, nodeName, cancelTimeout });
    this.account(key);
    this.requestPass();
    return true;
  }

  /** Binds the assumed pods whose claims are all bound now (PreBind done, then Bind). */
  private finishVolumeBinding(lister: ReturnType<typeof volumeLister>): void {
    for (const [key, a] of [...this.assumed]) {
      const pod = this.pods.get(key);
      if (!pod || pod.metadata.uid !== a.uid || !needsScheduling(pod)) {
        a.cancelTimeout();
        this.assumed.delete(key);
        this.account(key);
        continue;
      }
      const ns = pod.metadata.namespace ?? 'default';
      const bound = podClaimNames(pod).every((n) => {
        const claim = lister.claim(ns, n);
        return claim !== undefined && isClaimBound(claim);
      });
      if (!bound) continue;
      a.cancelTimeout();
      this.assumed.delete(key);
      this.account(key);
      this.bind(pod, a.nodeName);
    }
  }

  private bind(pod: KubeObject, nodeName: string): boolean {
    const ctx = this.ctx!;
    const now = new Date(ctx.clock.now()).toISOString();
    let boundTo: KubeObject | undefined;
    this.writing = true;
    try {
      boundTo = ctx.store.patch(refOf(pod), (p) => {
        if (p.spec?.nodeName) return;
        p.spec = { ...(p.spec ?? {}), nodeName };
        p.status = p.status ?? {};
        p.status.phase = p.status.phase ?? 'Pending';
        setCondition(
          p,
          { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
          now,
        );
      });
    } finally {
      this.writing = false;
    }
    if (!boundTo || boundTo.spec?.nodeName !== nodeName) return false;
    const ns = pod.metadata.namespace ?? 'default';
    ctx.events.record(
      boundTo,
      'Normal',
      'Scheduled',
      `Successfully assigned ${ns}/${pod.metadata.name} to ${nodeName}`,
      DEFAULT_SCHEDULER_NAME,
    );
    return true;
  }

  private markUnschedulable(pod: KubeObject, message: string, reason = 'Unschedulable'): void {
    const ctx = this.ctx!;
    const previous = (pod.status?.conditions as PodCondition[] | undefined)?.find(
      (c) => c.type === 'PodScheduled',
    );
    const now = new Date(ctx.clock.now()).toISOString();
    let updated: KubeObject | undefined;
    this.writing = true;
    try {
      updated = ctx.store.patch(refOf(pod), (p) => {
        p.status = p.status ?? {};
        p.status.phase = 'Pending';
        setCondition(
          p,
          {
            type: 'PodScheduled',
            status: 'False',
            reason,
            message,
            lastProbeTime: null,
            lastTransitionTime: now,
          },
          now,
        );
      });
    } finally {
      this.writing = false;
    }
    if (updated && previous?.message !== message) {
      ctx.events.record(updated, 'Warning', 'FailedScheduling', message, DEFAULT_SCHEDULER_NAME);
    }
  }
}

/** Replaces the condition of the same type, keeping its lastTransitionTime when its status did not change. */
function setCondition(pod: KubeObject, cond: PodCondition, now: string): void {
  const conditions: PodCondition[] = pod.status.conditions ?? [];
  const i = conditions.findIndex((c) => c.type === cond.type);
  const old = i >= 0 ? conditions[i] : undefined;
  const next = {
    ...cond,
    lastTransitionTime: old && old.status === cond.status ? old.lastTransitionTime : now,
  };
  if (i >= 0) conditions[i] = next;
  else conditions.push(next);
  pod.status.conditions = conditions;
}

/** Pod changes that can change where other pods fit: placement, termination, labels, requests, affinity. */
function podChangeMatters(before: KubeObject, after: KubeObject): boolean {
  return (
    before.spec?.nodeName !== after.spec?.nodeName ||
    isTerminal(before) !== isTerminal(after) ||
    JSON.stringify(before.metadata.labels ?? {}) !== JSON.stringify(after.metadata.labels ?? {}) ||
    JSON.stringify(before.spec) !== JSON.stringify(after.spec)
  );
}

/** Node changes that can change what fits on it; heartbeats and condition timestamps do not. */
function nodeChangeMatters(before: KubeObject, after: KubeObject): boolean {
  return (
    JSON.stringify(before.metadata.labels ?? {}) !== JSON.stringify(after.metadata.labels ?? {}) ||
    JSON.stringify(before.spec ?? {}) !== JSON.stringify(after.spec ?? {}) ||
    JSON.stringify(before.status?.allocatable ?? {}) !== JSON.stringify(after.status?.allocatable ?? {})
  );
}
