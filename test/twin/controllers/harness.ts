import { ScaledClock } from '../../../kube/clock.ts';
import type { KubeObject } from '../../../kube/object.ts';
import type { Controller } from '../../../twin/controllers/controller.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';

export interface Harness {
  store: ObjectStore;
  clock: ScaledClock;
  events: EventRecorder;
  stop(): void;
  eventsFor(name: string): Array<{ reason: string; message: string }>;
}

/** A store, a fast clock and the given controllers running against them. */
export function startControllers(controllers: Controller[], scale = 1000): Harness {
  const clock = new ScaledClock(scale);
  const store = new ObjectStore(() => clock.now());
  const events = new EventRecorder(store, clock);
  const logs: string[] = [];
  for (const c of controllers) c.start({ store, clock, events, log: (m) => logs.push(m) });
  return {
    store,
    clock,
    events,
    stop: () => {
      for (const c of controllers) c.stop();
      if (logs.some((l) => l.includes('failed'))) throw new Error(logs.join('\n'));
    },
    eventsFor: (name) =>
      store
        .list({ kind: 'Event' })
        .filter((e) => (e.involvedObject as { name: string }).name === name)
        .map((e) => ({ reason: e.reason as string, message: e.message as string })),
  };
}

let ipCounter = 1;

/**
 * Plays the kubelet for the tests: after `delayMs` (real time) a new pod becomes Running and Ready
 * with a podIP. `only` restricts it to some pods (others stay Pending).
 */
export function fakeKubelet(
  store: ObjectStore,
  clock: ScaledClock,
  options: { delayMs?: number; only?: (pod: KubeObject) => boolean } = {},
): () => void {
  const timers = new Set<NodeJS.Timeout>();
  const start = (pod: KubeObject) => {
    if (options.only && !options.only(pod)) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      markPod(store, clock, pod, 'Running');
    }, options.delayMs ?? 2);
    timers.add(timer);
  };
  for (const pod of store.list({ kind: 'Pod' }))
    if (!pod.status?.phase || pod.status.phase === 'Pending') start(pod);
  const unwatch = store.watch({ kind: 'Pod' }, (e) => {
    if (e.type === 'ADDED') start(e.object);
  });
  return () => {
    unwatch();
    for (const t of timers) clearTimeout(t);
  };
}

/** Sets a pod's phase; Running pods are Ready with an IP, ended pods are not ready. */
export function markPod(
  store: ObjectStore,
  clock: ScaledClock,
  pod: KubeObject,
  phase: 'Running' | 'Succeeded' | 'Failed',
  ready = phase === 'Running',
): void {
  const ts = new Date(clock.now()).toISOString();
  store.patch({ kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name }, (p) => {
    const ip = p.status?.podIP ?? `10.0.${Math.floor(ipCounter / 250)}.${(ipCounter++ % 250) + 1}`;
    const prevReady = (p.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
    const status = ready ? 'True' : 'False';
    p.status = {
      ...(p.status ?? {}),
      phase,
      podIP: ip,
      conditions: [
        {
          type: 'Ready',
          status,
          lastTransitionTime: prevReady?.status === status ? prevReady.lastTransitionTime : ts,
        },
      ],
    };
  });
}

/** Resolves when `predicate` holds, polling every few real milliseconds. */
export async function until<T>(
  what: string,
  predicate: () => T | undefined | false,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = predicate();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 3));
  }
}

export function pods(store: ObjectStore, namespace = 'default'): KubeObject[] {
  return store.list({ kind: 'Pod' }, { namespace });
}

export function podTemplate(labels: Record<string, string>, image = 'nginx:1'): KubeObject['spec'] {
  return {
    metadata: { labels },
    spec: { containers: [{ name: 'app', image, ports: [{ name: 'http', containerPort: 8080 }] }] },
  };
}
