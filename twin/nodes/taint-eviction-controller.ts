import { type KubeObject, refOf } from '../../kube/object.ts';
import type { Controller, ControllerContext } from '../controllers/controller.ts';
import { type Taint, type Toleration, toleratesTaint } from '../scheduler/taint-toleration.ts';

/**
 * How long a pod may stay on a node with these NoExecute taints (getMinTolerationTime): 0 when one
 * taint is not tolerated, the smallest tolerationSeconds among the tolerations used, and undefined
 * (forever) when every taint is tolerated without a limit.
 */
export function minTolerationSeconds(tolerations: Toleration[], taints: Taint[]): number | undefined {
  let min: number | undefined;
  for (const taint of taints) {
    const used = tolerations.filter((t) => toleratesTaint(t, taint));
    if (used.length === 0) return 0;
    for (const t of used) {
      if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
      const s = Math.max(0, t.tolerationSeconds);
      if (min === undefined || s < min) min = s;
    }
  }
  return min;
}

/**
 * The taint eviction controller (NoExecuteTaintManager): pods on a node with NoExecute taints are
 * deleted at once when they do not tolerate a taint, or when the smallest tolerationSeconds of the
 * tolerations they use has passed since the taint was added; removing the taint cancels it.
 */
export class TaintEvictionController implements Controller {
  readonly name = 'taint-eviction-controller';
  private ctx!: ControllerContext;
  /** Scheduled deletions by pod uid. */
  private readonly pending = new Map<string, { at: number; cancel: () => void }>();
  private readonly unwatch: Array<() => void> = [];
  private queued = false;
  private stopped = false;

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.unwatch.push(
      ctx.store.watch({ kind: 'Node' }, () => this.request()),
      ctx.store.watch({ kind: 'Pod' }, (e) => {
        if (e.type === 'DELETED') this.cancel(e.object.metadata.uid!);
        else if (e.type === 'ADDED' || e.oldObject?.spec?.nodeName !== e.object.spec?.nodeName)
          this.request();
      }),
    );
    this.request();
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unwatch.splice(0)) u();
    for (const p of this.pending.values()) p.cancel();
    this.pending.clear();
  }

  private request(): void {
    if (this.queued || this.stopped) return;
    this.queued = true;
    setImmediate(() => {
      this.queued = false;
      if (this.stopped) return;
      try {
        this.sync();
      } catch (err) {
        this.ctx.log(`${this.name}: ${err instanceof Error ? err.stack : String(err)}`);
      }
    });
  }

  private cancel(uid: string): void {
    this.pending.get(uid)?.cancel();
    this.pending.delete(uid);
  }

  private sync(): void {
    const { store, clock } = this.ctx;
    const taintsByNode = new Map<string, Taint[]>();
    // Read-only walks over the stored objects (listShared: no copies of every pod at each change).
    for (const node of store.listShared('/Node')) {
      const taints = ((node.spec?.taints ?? []) as Array<Taint & { timeAdded?: string }>).filter(
        (t) => t.effect === 'NoExecute',
      );
      if (taints.length > 0) taintsByNode.set(node.metadata.name, taints);
    }
    const seen = new Set<string>();
    for (const pod of taintsByNode.size > 0 ? store.listShared('/Pod') : []) {
      const uid = pod.metadata.uid!;
      const taints = taintsByNode.get(pod.spec?.nodeName ?? '');
      if (!taints) continue;
      seen.add(uid);
      const seconds = minTolerationSeconds(pod.spec?.tolerations ?? [], taints);
      if (seconds === undefined) {
        this.cancel(uid);
        continue;
      }
      const added = Math.max(
        ...taints.map((t) => Date.parse((t as { timeAdded?: string }).timeAdded ?? '') || clock.now()),
      );
      const at = added + seconds * 1000;
      const existing = this.pending.get(uid);
      if (existing && existing.at <= at) continue;
      existing?.cancel();
      const cancel = clock.after(Math.max(0, at - clock.now()), () => {
        this.pending.delete(uid);
        this.evict(pod);
      });
      this.pending.set(uid, { at, cancel });
    }
    for (const uid of [...this.pending.keys()]) if (!seen.has(uid)) this.cancel(uid);
  }

  private evict(pod: Readonly<KubeObject>): void {
    const current = this.ctx.store.get(refOf(pod));
    if (!current || current.metadata.uid !== pod.metadata.uid) return;
    const ns = pod.metadata.namespace ?? 'default';
    this.ctx.events.record(
      current,
      'Normal',
      'TaintManagerEviction',
      `Marking for deletion Pod ${ns}/${pod.metadata.name}`,
      this.name,
    );
    this.ctx.store.delete(refOf(current));
  }
}
