import type { Clock } from '../../kube/clock.ts';
import { describeObject, type KubeObject } from '../../kube/object.ts';
import type { EventRecorder } from '../store/event-recorder.ts';
import type { ObjectStore, WatchEvent, WatchFilter } from '../store/object-store.ts';

/** What every controller is given: the store, the control-plane clock, the event recorder. */
export interface ControllerContext {
  store: ObjectStore;
  clock: Clock;
  events: EventRecorder;
  /** Diagnostic log of the control plane (kept in the run's work directory). */
  log(message: string): void;
}

export interface Controller {
  readonly name: string;
  start(ctx: ControllerContext): void;
  stop(): void;
}

/**
 * A controller that reconciles one object at a time by key, as client-go work queues do: watch
 * events enqueue keys, a key is never reconciled twice at once, and changes that arrive during a
 * reconcile enqueue it again. `reconcile` reads the latest state from the store.
 */
export abstract class ReconcileController implements Controller {
  abstract readonly name: string;
  protected ctx!: ControllerContext;
  private readonly queue = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private scheduled = false;
  private stopped = false;
  private readonly unwatch: Array<() => void> = [];
  private readonly timers = new Set<() => void>();

  /** The watches of this controller; each maps an event to the keys (namespace/name) to reconcile. */
  protected abstract watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }>;

  /** Brings the object named by key (namespace/name) to its desired state. */
  protected abstract reconcile(key: string): void | Promise<void>;

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    for (const w of this.watches()) {
      this.unwatch.push(ctx.store.watch(w.filter, (e) => this.enqueue(...w.keys(e))));
    }
    this.onStart();
  }

  /** Hook for initial work (e.g. enqueue existing objects). */
  protected onStart(): void {}

  stop(): void {
    this.stopped = true;
    for (const u of this.unwatch) u();
    for (const t of this.timers) t();
    this.timers.clear();
  }

  enqueue(...keys: string[]): void {
    if (this.stopped) return;
    for (const k of keys) {
      if (this.running.has(k)) this.dirty.add(k);
      else this.queue.add(k);
    }
    if (!this.scheduled && this.queue.size > 0) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Re-enqueues key after `virtualMs` of control-plane time (requeueAfter). */
  protected enqueueAfter(key: string, virtualMs: number): void {
    if (this.stopped) return;
    const cancel = this.ctx.clock.after(virtualMs, () => {
      this.timers.delete(cancel);
      this.enqueue(key);
    });
    this.timers.add(cancel);
  }

  private drain(): void {
    this.scheduled = false;
    const keys = [...this.queue];
    this.queue.clear();
    for (const key of keys) {
      this.running.add(key);
      Promise.resolve()
        .then(() => (this.stopped ? undefined : this.reconcile(key)))
        .catch((err) =>
          this.ctx.log(`${this.name}: reconcile ${key} failed: ${err instanceof Error ? err.stack : err}`),
        )
        .finally(() => {
          this.running.delete(key);
          if (this.dirty.delete(key)) this.enqueue(key);
        });
    }
  }
}

export function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * An operator that polls: every `periodMs` of real time it lists the objects of its type and
 * reconciles each one, never the same object twice at once (as operators that probe live instances
 * over the network do, where a watch alone would not notice a dead server). A reconcile that throws
 * is reported through `failed` (by default, the control-plane log).
 */
export abstract class PollingController implements Controller {
  abstract readonly name: string;
  protected ctx!: ControllerContext;
  protected stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly busy = new Set<string>();

  constructor(
    private readonly type: { apiVersion: string; kind: string },
    private readonly periodMs: number,
  ) {}

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.timer = setInterval(() => this.tick(), this.periodMs);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  protected abstract reconcile(obj: KubeObject, key: string): Promise<void>;

  protected failed(obj: KubeObject, err: unknown, _key: string): void {
    this.ctx.log(`${this.name}: ${describeObject(obj)}: ${(err as Error).stack ?? err}`);
  }

  protected succeeded(_obj: KubeObject, _key: string): void {}

  private tick(): void {
    for (const obj of this.ctx.store.list(this.type)) {
      const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
      if (this.busy.has(key)) continue;
      this.busy.add(key);
      this.reconcile(obj, key)
        .then(
          () => this.succeeded(obj, key),
          (err) => this.failed(obj, err, key),
        )
        .finally(() => this.busy.delete(key));
    }
  }
}
