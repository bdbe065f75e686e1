import type { EventRecorder } from '../api/events.ts';
import type { KubeObject } from '../api/object.ts';
import type { Clock } from '../clock.ts';
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
