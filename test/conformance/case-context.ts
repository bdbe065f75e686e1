import type { Environment, KubeObject, ObjectRef } from '../../env/environment.ts';
import type { CaseContext, Recording } from './conformance-case.ts';
import type { ConformanceImages } from './images.ts';

/** Kinds that are not namespaced, among those the cases touch. */
const CLUSTER_SCOPED = new Set(['Node', 'Namespace', 'PriorityClass', 'ClusterRole', 'ClusterRoleBinding']);

/** The kinds whose changes wake a wait; each case watches them once, in its namespace (Nodes cluster-wide). */
const WATCHED: Array<{ kind: string; apiVersion?: string }> = [
  { kind: 'Pod' },
  { kind: 'Deployment' },
  { kind: 'ReplicaSet' },
  { kind: 'StatefulSet' },
  { kind: 'DaemonSet' },
  { kind: 'Job' },
  { kind: 'CronJob' },
  { kind: 'Service' },
  { kind: 'Endpoints' },
  { kind: 'PodDisruptionBudget' },
  { kind: 'HorizontalPodAutoscaler' },
  { kind: 'Rollout' },
  { kind: 'Node' },
];

/** How long waits may take in real time: `factor` × the control-plane time at the clock's scale, at least `minMs`. */
export interface WaitPolicy {
  minMs: number;
  factor: number;
}

/**
 * The objects a case may not carry: `twin.dev/` labels or annotations steer the twin in ways a
 * cluster would not honour, so a case that used them would pass on the twin for the wrong reason.
 */
export function twinOnlyKeys(obj: unknown, path = ''): string[] {
  if (!obj || typeof obj !== 'object') return [];
  const found: string[] = [];
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const here = path ? `${path}.${k}` : k;
    if ((k === 'labels' || k === 'annotations') && v && typeof v === 'object') {
      for (const key of Object.keys(v)) if (key.startsWith('twin.dev/')) found.push(`${here}[${key}]`);
    } else found.push(...twinOnlyKeys(v, here));
  }
  return found;
}

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

export class ConformanceCaseContext implements CaseContext {
  private readonly applied: ObjectRef[] = [];
  private readonly namespaces: string[] = [];
  private readonly undo: Array<() => Promise<void>> = [];
  private readonly listeners = new Set<() => void>();
  private readonly unwatch: Array<() => void> = [];

  constructor(
    readonly env: Environment,
    readonly ns: string,
    readonly images: ConformanceImages,
    private readonly waits: WaitPolicy,
  ) {}

  /** Creates the namespace and starts the watches that wake waits. */
  async open(): Promise<void> {
    await this.env.kube.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: this.ns, labels: { 'app.kubernetes.io/part-of': 'conformance' } },
    });
    for (const type of WATCHED) {
      const namespaced = !isClusterScoped(type.kind);
      this.unwatch.push(
        this.env.kube.watch({ ...type, ...(namespaced ? { namespace: this.ns } : {}) }, () => this.changed()),
      );
    }
  }

  /** Undoes what the case deferred, deletes what it applied, waits for its pods to go, deletes the namespace. */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    for (const fn of this.undo.splice(0).reverse()) await fn().catch((e) => errors.push(e));
    for (const ref of this.applied.splice(0).reverse()) await this.env.kube.delete(ref).catch(() => {});
    // The case's namespace and those it created (a peer namespace of a NetworkPolicy case).
    const namespaces = [this.ns, ...this.namespaces.splice(0)];
    try {
      await this.until('every pod of the case gone', 300, async () => {
        let left = 0;
        for (const namespace of namespaces) {
          const pods = await this.env.kube.list({ kind: 'Pod' }, { namespace });
          left += pods.length;
          for (const p of pods) await this.env.kube.delete({ kind: 'Pod', namespace, name: p.metadata.name });
        }
        return left === 0 ? true : undefined;
      });
    } finally {
      for (const u of this.unwatch.splice(0)) u();
      await this.env.kube.delete({ kind: 'Namespace', name: this.ns }).catch(() => {});
    }
    if (errors.length > 0) throw errors[0];
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }

  private ref(r: Omit<ObjectRef, 'namespace'> & { namespace?: string }): ObjectRef {
    return isClusterScoped(r.kind) ? { ...r } : { ...r, namespace: r.namespace ?? this.ns };
  }

  realMs(controlPlaneSeconds: number): number {
    return Math.max(this.waits.minMs, this.env.clock.toReal(controlPlaneSeconds * 1000) * this.waits.factor);
  }

  async apply(...objects: KubeObject[]): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const o of objects) {
      const bad = twinOnlyKeys(o);
      if (bad.length > 0)
        throw new Error(
          `${o.kind} ${o.metadata.name}: ${bad.join(', ')}: a conformance case may not use twin.dev/ keys (a cluster would ignore them)`,
        );
      const obj = structuredClone(o);
      if (obj.kind === 'Namespace' && !this.namespaces.includes(obj.metadata.name))
        this.namespaces.push(obj.metadata.name);
      if (!isClusterScoped(obj.kind)) obj.metadata.namespace ??= this.ns;
      const [applied] = await this.env.kube.apply(obj);
      const ref: ObjectRef = {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
      };
      if (
        !this.applied.some((r) => r.kind === ref.kind && r.name === ref.name && r.namespace === ref.namespace)
      )
        this.applied.push(ref);
      out.push(applied ?? obj);
    }
    return out;
  }

  get(ref: Omit<ObjectRef, 'namespace'> & { namespace?: string }): Promise<KubeObject | undefined> {
    return this.env.kube.get(this.ref(ref));
  }

  list(kind: string, selector?: Record<string, string>, apiVersion?: string): Promise<KubeObject[]> {
    return this.env.kube.list(
      { kind, ...(apiVersion ? { apiVersion } : {}) },
      {
        ...(isClusterScoped(kind) ? {} : { namespace: this.ns }),
        ...(selector ? { labelSelector: { matchLabels: selector } } : {}),
      },
    );
  }

  async pods(selector?: Record<string, string>): Promise<KubeObject[]> {
    return (await this.list('Pod', selector)).filter((p) => !p.metadata.deletionTimestamp);
  }

  patch(
    ref: Omit<ObjectRef, 'namespace'> & { namespace?: string },
    mutate: (obj: KubeObject) => void,
    options?: { subresource?: 'status' },
  ): Promise<KubeObject | undefined> {
    return this.env.kube.patch(this.ref(ref), mutate, options);
  }

  delete(ref: Omit<ObjectRef, 'namespace'> & { namespace?: string }): Promise<void> {
    return this.env.kube.delete(this.ref(ref));
  }

  until<T>(
    what: string,
    controlPlaneSeconds: number,
    check: () => Promise<T | undefined> | T | undefined,
  ): Promise<T> {
    const timeoutMs = this.realMs(controlPlaneSeconds);
    return new Promise<T>((resolve, reject) => {
      let running = false;
      let again = false;
      let done = false;
      let last: unknown;
      const finish = () => {
        done = true;
        this.listeners.delete(wake);
        clearInterval(poll);
        clearTimeout(timer);
      };
      const run = async () => {
        if (done) return;
        if (running) {
          again = true;
          return;
        }
        running = true;
        try {
          do {
            again = false;
            const value = await check();
            if (value !== undefined && !done) {
              finish();
              resolve(value);
              return;
            }
          } while (again && !done);
        } catch (err) {
          last = err;
        } finally {
          running = false;
        }
      };
      const wake = () => void run();
      this.listeners.add(wake);
      const poll = setInterval(wake, 250);
      const timer = setTimeout(() => {
        if (done) return;
        finish();
        const scale = this.env.clock.scale;
        reject(
          new Error(
            `timed out after ${(timeoutMs / 1000).toFixed(1)} s of real time (${controlPlaneSeconds} s of control-plane time${scale !== 1 ? ` at ×${scale}` : ''}) waiting for ${what}${last ? `; last error: ${(last as Error).message}` : ''}`,
          ),
        );
      }, timeoutMs);
      void run();
    });
  }

  podsUntil(
    what: string,
    selector: Record<string, string>,
    predicate: (pods: KubeObject[]) => boolean,
    controlPlaneSeconds = 120,
  ): Promise<KubeObject[]> {
    let seen: KubeObject[] = [];
    return this.until(what, controlPlaneSeconds, async () => {
      seen = await this.pods(selector);
      return predicate(seen) ? seen : undefined;
    }).catch((err: Error) => {
      err.message += `; pods: ${seen.map(describePod).join(', ') || 'none'}`;
      throw err;
    });
  }

  objectUntil(
    what: string,
    ref: Omit<ObjectRef, 'namespace'> & { namespace?: string },
    predicate: (obj: KubeObject) => boolean,
    controlPlaneSeconds = 120,
  ): Promise<KubeObject> {
    let seen: KubeObject | undefined;
    return this.until(what, controlPlaneSeconds, async () => {
      seen = await this.get(ref);
      return seen && predicate(seen) ? seen : undefined;
    }).catch((err: Error) => {
      err.message += `; ${ref.kind} ${ref.name} status: ${JSON.stringify(seen?.status ?? null).slice(0, 600)}`;
      throw err;
    });
  }

  async record(kind: string, apiVersion?: string): Promise<Recording> {
    const events: Recording['events'] = [];
    let first: () => void = () => {};
    const established = new Promise<void>((resolve) => {
      first = resolve;
    });
    const stop = this.env.kube.watch(
      {
        kind,
        ...(apiVersion ? { apiVersion } : {}),
        ...(isClusterScoped(kind) ? {} : { namespace: this.ns }),
      },
      (e) => {
        events.push({ type: e.type, object: structuredClone(e.object), at: this.now() });
        first();
      },
    );
    // A watch on a remote API server connects asynchronously; one in process is live at once.
    await Promise.race([established, this.sleep(2)]);
    return { events, stop };
  }

  async nodes(): Promise<KubeObject[]> {
    return this.env.kube.list({ kind: 'Node' });
  }

  defer(undo: () => Promise<void>): void {
    this.undo.push(undo);
  }

  now(): number {
    return this.env.clock.now();
  }

  sleep(seconds: number): Promise<void> {
    return this.env.clock.sleep(seconds * 1000);
  }
}

function describePod(p: KubeObject): string {
  const ready = (p.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready')?.status;
  return `${p.metadata.name} ${p.status?.phase ?? '?'}${ready === 'True' ? ' Ready' : ''}${p.spec?.nodeName ? ` on ${p.spec.nodeName}` : ''}`;
}
