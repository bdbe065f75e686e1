import { TwinError } from '../../core/errors.ts';
import { describeObject, type KubeObject, type ObjectRef } from '../../twin/api/object.ts';
import { DEFAULT_TIME_SCALE } from '../../twin/clock.ts';
import { assertLoopbackRange } from '../../twin/network/address-allocator.ts';
import { Twin } from '../../twin/twin.ts';
import type {
  Environment,
  EnvironmentBackend,
  EnvironmentOptions,
  Faults,
  KubeApi,
  Network,
  TimelineEvent,
} from '../environment.ts';

/** The embedded default: the twin in this process, live pods as child processes on loopback. */
export const localEnvironment: EnvironmentBackend = {
  name: 'local',
  async preflight() {
    await assertLoopbackRange();
  },
  async up(options: EnvironmentOptions): Promise<Environment> {
    const twin = await Twin.up({
      root: Twin.defaultRoot(),
      system: options.system,
      overlay: options.overlay ?? 'local',
      timeScale: options.timeScale ?? DEFAULT_TIME_SCALE,
      workDir: options.workDir,
      ...(options.progress ? { progress: options.progress } : {}),
    });
    return new LocalEnvironment(twin);
  },
};

export class LocalEnvironment implements Environment {
  readonly name = 'local';
  readonly kube: KubeApi;
  readonly net: Network;
  readonly aws = undefined;
  readonly faults: Faults;
  private readonly handlers = new Set<(e: TimelineEvent) => void>();
  private readonly unwatchEvents: () => void;

  constructor(readonly twin: Twin) {
    const store = twin.store;
    this.kube = {
      async apply(objects) {
        return (Array.isArray(objects) ? objects : [objects]).map((o) => store.apply(o));
      },
      async get(ref) {
        return store.get(ref);
      },
      async list(type, options) {
        return store.list(type, options);
      },
      async patch(ref, mutate) {
        return store.patch(ref, mutate);
      },
      async delete(ref) {
        store.delete(ref);
      },
      watch(type, handler) {
        return store.watch(type, (e) => handler({ type: e.type, object: e.object }));
      },
      waitFor: (ref, predicate, options) => waitFor(twin, ref, predicate, options),
      async logs(ref, options) {
        return twin.kubelet.logs(ref.namespace, ref.name, options?.tailLines);
      },
    };
    this.net = {
      ingressUrl: (ref) => twin.network.ingressUrl(ref),
      serviceUrl: (ref) => twin.network.serviceUrl(ref),
      trafficByVersion: (ref, windowMs) => twin.network.trafficByVersion(ref, windowMs),
    };
    this.faults = {
      killPod: async (ref) => {
        const pod = store.get({ kind: 'Pod', ...ref });
        if (!pod) throw new TwinError('TWIN_NOT_FOUND', `Pod ${ref.namespace}/${ref.name} not found`);
        this.emit({
          t: twin.clock.now(),
          kind: 'PodKilled',
          object: describeObject(pod),
          message: `fault: pod ${ref.namespace}/${ref.name} killed`,
          type: 'Warning',
        });
        store.delete({ kind: 'Pod', ...ref });
      },
    };
    this.unwatchEvents = store.watch({ kind: 'Event' }, (e) => {
      if (e.type !== 'ADDED') return;
      const ev = e.object as KubeObject & {
        involvedObject?: ObjectRef;
        reason?: string;
        message?: string;
        type?: 'Normal' | 'Warning';
      };
      const involved = ev.involvedObject;
      this.emit({
        t: Date.parse(String(ev['lastTimestamp'] ?? '')) || twin.clock.now(),
        kind: ev.reason ?? 'Event',
        ...(involved ? { object: describeObject(involved) } : {}),
        message: ev.message ?? '',
        type: ev.type ?? 'Normal',
      });
    });
  }

  get clock() {
    return this.twin.clock;
  }

  onEvent(handler: (e: TimelineEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  private emit(e: TimelineEvent): void {
    for (const h of this.handlers) h(e);
  }

  async down(): Promise<void> {
    this.unwatchEvents();
    await this.twin.down();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}

function waitFor(
  twin: Twin,
  ref: ObjectRef,
  predicate: (obj: KubeObject | undefined) => boolean,
  options: { timeoutMs: number; what: string; signal?: AbortSignal },
): Promise<KubeObject | undefined> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const obj = twin.store.get(ref);
      if (predicate(obj)) {
        finish();
        resolve(obj);
      }
    };
    const unwatch = twin.store.watch(
      { kind: ref.kind, ...(ref.apiVersion ? { apiVersion: ref.apiVersion } : {}) },
      (e) => {
        if (e.object.metadata.name === ref.name && e.object.metadata.namespace === ref.namespace) check();
      },
    );
    const timer = setTimeout(() => {
      finish();
      const obj = twin.store.get(ref);
      reject(
        new TwinError(
          'TWIN_TIMEOUT',
          `timed out after ${(options.timeoutMs / 1000).toFixed(1)} s (×${twin.clock.scale} control-plane time) waiting for ${options.what}; ${describeObject(ref)} status: ${JSON.stringify(obj?.status ?? null).slice(0, 400)}`,
        ),
      );
    }, options.timeoutMs);
    const onAbort = () => {
      finish();
      reject(new TwinError('TWIN_ABORTED', `aborted while waiting for ${options.what}`));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    function finish() {
      unwatch();
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
    check();
  });
}
