import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TwinError } from '../../core/errors.ts';
import type { Clock } from '../../kube/clock.ts';
import type { TrafficStats } from '../../kube/traffic.ts';
import type { EventRecorder } from '../store/event-recorder.ts';
import type { ObjectStore } from '../store/object-store.ts';
import {
  assertLoopbackRange,
  claimAddressBlock,
  podAddressAllocator,
  serviceAddressAllocator,
} from './address-allocator.ts';
import { ClusterDns, type LookupFunction } from './cluster-dns.ts';
import { EndpointTable } from './endpoint-table.ts';
import { HttpForwarder } from './http-forwarder.ts';
import { IngressProxy } from './ingress-proxy.ts';
import { METRICS_SERVICE_NAME, MetricsApi } from './metrics-api.ts';
import { ServiceIpController } from './service-ip-controller.ts';
import { ServiceProxy } from './service-proxy.ts';
import { TrafficMetrics, type TrafficMetricsOptions } from './traffic-metrics.ts';

export interface TwinNetworkOptions {
  store: ObjectStore;
  clock: Clock;
  events: EventRecorder;
  /** The run's directory; the DNS file for live pods is written under it. */
  workDir: string;
  log?: (message: string) => void;
  /** Fixed host ports for Ingress listeners by "namespace/name" (others get ephemeral ports). */
  ingressPorts?: Record<string, number>;
  /** Real milliseconds a proxied request may take before it is answered 504 (default 60 s). */
  upstreamTimeoutMs?: number;
  metrics?: TrafficMetricsOptions;
}

/** Absolute path of the preload that gives live Node pods cluster DNS (`node --import <path>`). */
export const DNS_PRELOAD = fileURLToPath(new URL('./dns-preload.mjs', import.meta.url));

/**
 * The twin's network: loopback addresses for pods and Services, cluster DNS, Service and Ingress
 * proxies that count traffic per version, and the metrics API that analyses read.
 */
export class TwinNetwork {
  readonly metrics: TrafficMetrics;
  readonly dns: ClusterDns;
  readonly dnsFile: string;
  /** Absolute path of the preload for `node --import`; live pods also need TWIN_DNS_FILE and TWIN_POD_NAMESPACE. */
  readonly dnsPreload = DNS_PRELOAD;
  private readonly podIps = podAddressAllocator();
  private readonly serviceIps = serviceAddressAllocator();
  private readonly serviceIpController: ServiceIpController;
  private readonly table: EndpointTable;
  private readonly forwarder: HttpForwarder;
  private readonly serviceProxy: ServiceProxy;
  private readonly ingressProxy: IngressProxy;
  private readonly metricsApi: MetricsApi;
  private readonly log: (message: string) => void;
  private started = false;
  private addressBlock: ReturnType<typeof claimAddressBlock> | undefined;
  private metricsAddress: { ip: string; port: number } | undefined;

  constructor(private readonly options: TwinNetworkOptions) {
    this.log = options.log ?? (() => {});
    const { store, clock } = options;
    this.metrics = new TrafficMetrics(clock, options.metrics);
    this.dnsFile = join(options.workDir, 'network', 'cluster-dns.json');
    this.dns = new ClusterDns(store, this.dnsFile, (err) =>
      this.log(`cluster DNS: cannot write ${this.dnsFile}: ${err}`),
    );
    this.serviceIpController = new ServiceIpController(this.serviceIps);
    this.table = new EndpointTable(store);
    this.forwarder = new HttpForwarder(this.metrics, clock, options.upstreamTimeoutMs);
    this.serviceProxy = new ServiceProxy(store, this.table, this.forwarder, this.log);
    this.ingressProxy = new IngressProxy(store, this.table, this.forwarder, {
      log: this.log,
      ...(options.ingressPorts ? { ports: options.ingressPorts } : {}),
    });
    this.metricsApi = new MetricsApi(this.metrics);
  }

  async start(): Promise<void> {
    if (this.started) return;
    await assertLoopbackRange();
    this.addressBlock = claimAddressBlock();
    this.podIps.narrow(this.addressBlock.first, this.addressBlock.last);
    this.serviceIps.narrow(this.addressBlock.first, this.addressBlock.last);
    this.started = true;
    const { store, clock, events } = this.options;
    for (const pod of store.list({ kind: 'Pod' })) {
      const ip = pod.status?.podIP;
      if (ip && pod.metadata.uid) this.podIps.reserve(pod.metadata.uid, ip);
    }
    this.serviceIpController.start({ store, clock, events, log: this.log });
    this.table.start();
    this.dns.start();
    this.serviceProxy.start();
    this.ingressProxy.start();
    const ip = this.serviceIps.allocate('twin-system/twin-metrics');
    const port = await this.metricsApi.start(ip, 80, this.log);
    this.metricsAddress = { ip, port };
    this.dns.setStatic('twin-metrics', { [METRICS_SERVICE_NAME]: [ip] });
    await this.dns.flush();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.serviceIpController.stop();
    this.dns.stop();
    await Promise.all([this.serviceProxy.stop(), this.ingressProxy.stop(), this.metricsApi.stop()]);
    this.table.stop();
    this.forwarder.close();
    await this.dns.flush();
    this.addressBlock?.release();
    this.addressBlock = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** The stable pod IP for a pod's uid (the same until released). */
  allocatePodIp(uid: string): string {
    return this.podIps.allocate(uid);
  }

  releasePodIp(uid: string): void {
    this.podIps.release(uid);
  }

  /**
   * What a live Node pod in `namespace` needs for cluster DNS: the environment variables and the
   * node arguments (`node ...nodeArgs app.js`); NODE_OPTIONS carries the same for child processes.
   */
  podDnsSetup(namespace: string): { env: Record<string, string>; nodeArgs: string[] } {
    return {
      env: {
        TWIN_DNS_FILE: this.dnsFile,
        TWIN_POD_NAMESPACE: namespace,
        NODE_OPTIONS: `--import=${JSON.stringify(this.dnsPreload)}`,
      },
      nodeArgs: ['--import', this.dnsPreload],
    };
  }

  /** A lookup function for in-process clients that resolves cluster names as a pod in `namespace`. */
  lookupFor(namespace?: string): LookupFunction {
    return this.dns.lookupFor(namespace);
  }

  /** Base URL of the metrics API as the host reaches it. */
  get metricsUrl(): string {
    if (!this.metricsAddress)
      throw new TwinError('TWIN_INVALID', 'the twin network is not started; call start() first');
    return `http://${this.metricsAddress.ip}:${this.metricsAddress.port}`;
  }

  ingressUrl(ref: { namespace: string; name: string }): Promise<string> {
    return this.ingressProxy.url(ref);
  }

  async serviceUrl(
    ref: { namespace: string; name: string; port?: number | string },
    timeoutMs = 30_000,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const what = `Service ${ref.namespace}/${ref.name}${ref.port !== undefined ? ` port ${ref.port}` : ''}`;
    for (;;) {
      const svc = this.options.store.get({ kind: 'Service', namespace: ref.namespace, name: ref.name });
      if (svc?.spec?.clusterIP === 'None') {
        throw new TwinError(
          'TWIN_INVALID',
          `${what} is headless (clusterIP: None) and has no proxy; ask for a Service with a ClusterIP`,
        );
      }
      const addr = await this.serviceProxy.address(ref.namespace, ref.name, ref.port);
      if (addr) return `http://${addr.host}:${addr.port}`;
      if (Date.now() > deadline) {
        throw new TwinError(
          'TWIN_TIMEOUT',
          svc
            ? `${what} has no listener after ${timeoutMs} ms; check that the port exists in spec.ports`
            : `${what} not found after ${timeoutMs} ms; apply it first`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  trafficByVersion(ref: { namespace: string; name: string }, windowMs: number): Record<string, TrafficStats> {
    return this.metrics.byVersion(`${ref.namespace}/${ref.name}`, windowMs);
  }
}
