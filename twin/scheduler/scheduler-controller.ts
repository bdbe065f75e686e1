import { type KubeObject, objectKey, refOf } from '../../kube/object.ts';
import type { Controller, ControllerContext } from '../controllers/controller.ts';
import type { WatchEvent } from '../store/object-store.ts';
import { isTerminal } from './node-info.ts';
import { schedule } from './schedule.ts';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

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
 * Twin simplification: binding is immediate (no scheduling queue backoff, no assume/bind cycle, no preemption).
 */
export class SchedulerController implements Controller {
  readonly name = DEFAULT_SCHEDULER_NAME;
  private ctx: ControllerContext | undefined;
  private readonly pods = new Map<string, KubeObject>();
  private readonly nodes = new Map<string, KubeObject>();
  /** Creation order of pods as this scheduler saw them (its FIFO queue order). */
  private readonly order = new Map<string, number>();
  private seq = 0;
  private unwatch: Array<() => void> = [];
  private queued = false;
  private writing = false;
  private stopped = false;

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.stopped = false;
    this.unwatch.push(ctx.store.watch({ kind: 'Pod' }, (e) => this.onPod(e)));
    this.unwatch.push(ctx.store.watch({ kind: 'Node' }, (e) => this.onNode(e)));
    const existing = ctx.store
      .list({ kind: 'Pod' })
      .sort(
        (a, b) =>
          (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
          Number(a.metadata.resourceVersion ?? 0) - Number(b.metadata.resourceVersion ?? 0),
      );
    for (const p of existing) this.remember(p);
    for (const n of ctx.store.list({ kind: 'Node' })) this.nodes.set(n.metadata.name, n);
    this.requestPass();
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unwatch) u();
    this.unwatch = [];
  }

  private remember(pod: KubeObject): void {
    const key = objectKey(pod);
    if (!this.order.has(key)) this.order.set(key, ++this.seq);
    this.pods.set(key, pod);
  }

  private onPod(e: WatchEvent): void {
    const key = objectKey(e.object);
    if (e.type === 'DELETED') {
      this.pods.delete(key);
      this.order.delete(key);
    } else {
      this.remember(e.object);
    }
    if (this.writing) return;
    if (e.type !== 'MODIFIED' || !e.oldObject || podChangeMatters(e.oldObject, e.object)) this.requestPass();
  }

  private onNode(e: WatchEvent): void {
    if (e.type === 'DELETED') this.nodes.delete(e.object.metadata.name);
    else this.nodes.set(e.object.metadata.name, e.object);
    if (e.type !== 'MODIFIED' || !e.oldObject || nodeChangeMatters(e.oldObject, e.object)) this.requestPass();
  }

  /** Coalesces the changes of one turn of the event loop into one scheduling pass. */
  private requestPass(): void {
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
    const pending = [...this.pods.entries()]
      .filter(([, p]) => needsScheduling(p))
      .sort(([a], [b]) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0))
      .map(([, p]) => p);
    if (pending.length === 0) return;
    const nodes = [...this.nodes.values()];
    const namespaces = this.ctx!.store.list({ kind: 'Namespace' });
    let bound = 0;
    let failed = 0;
    for (const pod of pending) {
      if (this.stopped) return;
      const result = schedule(pod, nodes, [...this.pods.values()], { namespaces });
      if ('nodeName' in result) {
        if (this.bind(pod, result.nodeName)) bound++;
      } else {
        this.markUnschedulable(pod, result.unschedulable);
        failed++;
      }
    }
    // A pod placed in this pass may be what an earlier unschedulable pod's affinity was waiting for.
    if (bound > 0 && failed > 0) this.requestPass();
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

  private markUnschedulable(pod: KubeObject, message: string): void {
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
            reason: 'Unschedulable',
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
