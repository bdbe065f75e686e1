import http from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { ScaledClock } from '../../../kube/clock.ts';
import type { KubeObject } from '../../../kube/object.ts';
import type { Controller, ControllerContext } from '../../../twin/controllers/controller.ts';
import { rolloutControllers } from '../../../twin/rollouts/index.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';

/** Cluster DNS names resolve to loopback, where the test's metrics API listens. */
export const clusterLookup: LookupFunction = (hostname, options, callback) => {
  const address = hostname.endsWith('.cluster.local') || hostname === 'localhost' ? '127.0.0.1' : undefined;
  const cb = callback as (err: NodeJS.ErrnoException | null, address: unknown, family?: number) => void;
  if (!address) {
    const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
    err.code = 'ENOTFOUND';
    cb(err, undefined);
    return;
  }
  if ((options as { all?: boolean }).all) cb(null, [{ address, family: 4 }]);
  else cb(null, address, 4);
};

/** A stand-in for the twin's metrics API whose error rate the test sets. */
export class FakeMetricsApi {
  errorRate: number | null = 0;
  /** Error rates of particular services ("namespace/name"), over errorRate. */
  readonly byService = new Map<string, number | null>();
  readonly queries: string[] = [];
  private server = http.createServer((req, res) => {
    this.queries.push(req.url ?? '');
    if (!req.url?.startsWith('/api/v1/traffic')) {
      res.statusCode = 404;
      res.end('404 page not found');
      return;
    }
    const svc = new URL(req.url, 'http://metrics').searchParams.get('service') ?? '';
    const errorRate = this.byService.has(svc) ? this.byService.get(svc)! : this.errorRate;
    const requests = errorRate === null ? 0 : 100;
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        requests,
        errors: Math.round((errorRate ?? 0) * requests),
        errorRate,
        latency: errorRate === null ? null : { p50: 10, p95: 40, p99: 90 },
      }),
    );
  });

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A store, a fast clock and the rollout controllers, with a stand-in for the ReplicaSet controller:
 * pods of a ReplicaSet become ready and available `podReadyMs` of control-plane time after a scale-up.
 */
export class RolloutHarness {
  readonly clock: ScaledClock;
  readonly store: ObjectStore;
  readonly events: EventRecorder;
  readonly logs: string[] = [];
  private readonly controllers: Controller[];
  private readonly unwatch: Array<() => void> = [];

  constructor(options: { scale?: number; podReadyMs?: number } = {}) {
    this.clock = new ScaledClock(options.scale ?? 1000);
    this.store = new ObjectStore(() => this.clock.now());
    this.events = new EventRecorder(this.store, this.clock);
    const podReadyMs = options.podReadyMs ?? 2000;
    this.unwatch.push(
      this.store.watch({ apiVersion: 'apps/v1', kind: 'ReplicaSet' }, (e) => {
        if (e.type === 'DELETED') return;
        const ref = {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          namespace: e.object.metadata.namespace!,
          name: e.object.metadata.name,
        };
        const want = e.object.spec?.replicas ?? 0;
        const have = e.object.status?.replicas ?? 0;
        if (want === have && (e.object.status?.availableReplicas ?? 0) === want) return;
        const mirror = () =>
          this.store.patch(ref, (rs) => {
            const n = rs.spec?.replicas ?? 0;
            rs.status = {
              replicas: n,
              readyReplicas: n,
              availableReplicas: n,
              observedGeneration: rs.metadata.generation,
            };
          });
        if (want < have) setImmediate(mirror);
        else this.clock.after(podReadyMs, mirror);
      }),
    );
    this.controllers = rolloutControllers({ lookup: clusterLookup });
    const ctx: ControllerContext = {
      store: this.store,
      clock: this.clock,
      events: this.events,
      log: (m) => this.logs.push(m),
    };
    for (const c of this.controllers) c.start(ctx);
  }

  stop(): void {
    for (const c of this.controllers) c.stop();
    for (const u of this.unwatch) u();
  }

  rollout(namespace: string, name: string): KubeObject {
    return this.store.mustGet({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', namespace, name });
  }

  /** Events about an object, oldest first, as "Reason: message". */
  eventsFor(name: string): string[] {
    return this.store
      .list({ kind: 'Event' })
      .filter((e) => (e['involvedObject'] as { name: string }).name === name)
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
      .map((e) => `${e['reason']}: ${e['message']}`);
  }

  /** Waits (real time) until `predicate` holds, re-checking on every store change and every few ms. */
  async waitFor<T>(what: string, predicate: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = predicate();
      if (v) return v;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}\ncontroller log:\n${this.logs.join('\n')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

export function service(namespace: string, name: string, app: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { selector: { app }, ports: [{ port: 80, targetPort: 8080 }] },
  };
}

export function albIngress(namespace: string, name: string, rootService: string): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace, annotations: { 'kubernetes.io/ingress.class': 'alb' } },
    spec: {
      rules: [
        {
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: rootService, port: { name: 'use-annotation' } } },
              },
            ],
          },
        },
      ],
    },
  };
}

export function rollout(
  namespace: string,
  name: string,
  image: string,
  spec: Record<string, unknown>,
): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image, ports: [{ containerPort: 8080 }] }] },
      },
      ...spec,
    },
  };
}

export function setImage(h: RolloutHarness, namespace: string, name: string, image: string): void {
  h.store.patch({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', namespace, name }, (ro) => {
    ro.spec.template.spec.containers[0].image = image;
  });
}
