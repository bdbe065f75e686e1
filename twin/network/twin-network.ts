import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TwinError } from '../../core/errors.ts';
import { waitUntil } from '../../core/wait.ts';
import { lastUsableAddress, parseCidr } from '../../kube/cidr.ts';
import type { Clock } from '../../kube/clock.ts';
import {
  type ConnectCheck,
  type ConnectResult,
  DEFAULT_CONNECT_TIMEOUT_MS,
} from '../../kube/connectivity.ts';
import type { KubeObject } from '../../kube/object.ts';
import type { TrafficStats } from '../../kube/traffic.ts';
import { DEFAULT_INGRESS_CLASS_ANNOTATION } from '../../system/profiles/cluster-capabilities.ts';
import type { EventRecorder } from '../store/event-recorder.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { IstioRouting } from '../traffic-policy/istio/istio-routing.ts';
import {
  assertLoopbackRange,
  claimAddressBlock,
  EMULATED_POD_CIDR,
  EmulatedPodAddresses,
  POD_CIDR,
  podAddressAllocator,
  SERVICE_CIDR,
  serviceAddressAllocator,
} from './address-allocator.ts';
import { ClusterDns, type LookupFunction } from './cluster-dns.ts';
import { attemptConnection } from './connect-attempt.ts';
import { DnsServer } from './dns-server.ts';
import { EndpointTable, readyEndpoints } from './endpoint-table.ts';
import { HttpForwarder } from './http-forwarder.ts';
import { IngressProxy } from './ingress-proxy.ts';
import { METRICS_SERVICE_NAME, MetricsApi } from './metrics-api.ts';
import { namedPort, onPodNetwork, type Peer } from './network-policy.ts';
import { type ConnectionPolicy, NetworkPolicyEnforcer } from './network-policy-enforcer.ts';
import { HOST_ADDRESS, type PresentedActor } from './network-policy-ruleset.ts';
import { podSourceShim } from './pod-source-shim.ts';
import { ServiceIpController } from './service-ip-controller.ts';
import { ServiceProxy } from './service-proxy.ts';
import { TrafficFaults } from './traffic-faults.ts';
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
  /**
   * The subnets the load balancer connects to pods from (topology `network.loadBalancerSubnets`):
   * NetworkPolicy sees Ingress traffic come from the last usable address of each.
   */
  loadBalancerSubnets?: string[];
  /** 'auto' (default): NetworkPolicy in the kernel where this process may; 'proxy': only at the proxies. */
  networkPolicy?: 'auto' | 'proxy';
  /**
   * The Ingress controller as NetworkPolicy sees it when it is a pod of the cluster (Traefik in
   * kube-system on k3s): the Ingress proxy connects to pods as that pod, instead of from the load
   * balancer's subnets.
   */
  ingressControllerPod?: { name: string; namespace: string; labels: Record<string, string> };
  /**
   * `spec.controller` of the Ingress controllers the cluster runs (its profile's and its add-ons'): an
   * Ingress whose class no such controller serves gets no listener. Undefined: every Ingress is served.
   */
  ingressControllers?: ReadonlySet<string>;
  /**
   * Istio is installed (the system's add-ons list it): the Service proxy plays VirtualServices,
   * DestinationRules and Gateways with the traffic-policy engine (twin/traffic-policy/istio).
   */
  istio?: boolean;
}

/** Absolute path of the preload that gives live Node pods cluster DNS (`node --import <path>`). */
export const DNS_PRELOAD = fileURLToPath(new URL('./dns-preload.mjs', import.meta.url));
/** Absolute path of the preload that makes live Node pods connect from their pod address. */
export const SOURCE_PRELOAD = fileURLToPath(new URL('./pod-source-preload.mjs', import.meta.url));

/**
 * The twin's network: loopback addresses for pods and Services, cluster DNS, Service and Ingress
 * proxies that count traffic per version, and the metrics API that analyses read.
 */
export class TwinNetwork {
  readonly metrics: TrafficMetrics;
  /** Network faults on pods' traffic, played by the proxies (NetworkChaos / HTTPChaos on a cluster). */
  readonly trafficFaults = new TrafficFaults();
  readonly dns: ClusterDns;
  readonly dnsFile: string;
  /** Absolute path of the preload for `node --import`; live pods also need TWIN_DNS_FILE and TWIN_POD_NAMESPACE. */
  readonly dnsPreload = DNS_PRELOAD;
  /** Preloads for live Node pods, in order: cluster DNS, then connecting from the pod's address. */
  readonly nodePreloads = [DNS_PRELOAD, SOURCE_PRELOAD];
  private readonly podIps = podAddressAllocator();
  private readonly emulatedPodIps = new EmulatedPodAddresses();
  private readonly serviceIps = serviceAddressAllocator();
  private readonly serviceIpController: ServiceIpController;
  private readonly table: EndpointTable;
  private readonly forwarder: HttpForwarder;
  private readonly serviceProxy: ServiceProxy;
  private readonly istio: IstioRouting | undefined;
  private readonly ingressProxy: IngressProxy;
  private readonly metricsApi: MetricsApi;
  private readonly dnsServer: DnsServer;
  private nameserverIp: string | undefined;
  private readonly log: (message: string) => void;
  private started = false;
  private addressBlock: ReturnType<typeof claimAddressBlock> | undefined;
  private metricsAddress: { ip: string; port: number } | undefined;
  private enforcer: NetworkPolicyEnforcer | undefined;
  /** The addresses the load balancer connects from and what NetworkPolicy sees them as. */
  private actors: PresentedActor[] = [];
  private nativeShim: string | undefined;
  private nativeShimProblem = '';

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
    this.forwarder = new HttpForwarder(this.metrics, clock, options.upstreamTimeoutMs, this.trafficFaults);
    const network = this;
    const policy: ConnectionPolicy = {
      allows: (address, endpoint) => this.enforcer?.allows(address, endpoint) ?? true,
      get mode() {
        return network.enforcer?.mode ?? 'proxy';
      },
      synced: () => this.enforcer?.synced() ?? Promise.resolve(),
    };
    this.istio = options.istio
      ? new IstioRouting({
          store,
          endpoints: (ns, name, port) => this.table.endpoints(ns, name, port),
          log: this.log,
          record: (listener, r, latencyMs) => {
            const t = clock.now();
            const pod = r.host?.pod ?? '';
            const version = pod ? this.table.versionOf(pod) : 'unknown';
            const services = [`${listener.namespace}/${listener.name}`];
            const dest = /^outbound\|\d+\|[^|]*\|([^.]+)\.([^.]+)\./.exec(r.cluster);
            if (dest && `${dest[2]}/${dest[1]}` !== services[0]) services.push(`${dest[2]}/${dest[1]}`);
            for (const service of services)
              this.metrics.record({ t, service, version, pod, status: r.status, latencyMs });
          },
        })
      : undefined;
    this.serviceProxy = new ServiceProxy(
      store,
      this.table,
      this.forwarder,
      this.log,
      policy,
      this.trafficFaults,
      this.istio,
    );
    const controllers = options.ingressControllers;
    this.ingressProxy = new IngressProxy(store, this.table, this.forwarder, {
      log: this.log,
      ...(options.ingressPorts ? { ports: options.ingressPorts } : {}),
      policy,
      sources: () => this.actors.map((a) => a.address),
      ...(controllers ? { unserved: (ing) => unservedReason(ing, store, controllers) } : {}),
    });
    this.metricsApi = new MetricsApi(this.metrics);
    this.dnsServer = new DnsServer((fqdn) => this.dns.addresses(fqdn));
  }

  async start(): Promise<void> {
    if (this.started) return;
    await assertLoopbackRange();
    this.addressBlock = claimAddressBlock();
    this.podIps.narrow(this.addressBlock.first, this.addressBlock.last);
    this.serviceIps.narrow(this.addressBlock.first, this.addressBlock.last);
    this.emulatedPodIps.narrow(this.addressBlock.index);
    this.started = true;
    const { store, clock, events } = this.options;
    for (const pod of store.list({ kind: 'Pod' })) {
      const ip = pod.status?.podIP;
      if (ip && pod.metadata.uid && !this.podIps.reserve(pod.metadata.uid, ip))
        this.emulatedPodIps.reserve(pod.metadata.uid, ip);
    }
    this.actors = this.loadBalancerActors();
    this.enforcer = new NetworkPolicyEnforcer({
      store,
      block: this.addressBlock,
      mode: this.options.networkPolicy ?? 'auto',
      actors: () => this.actors,
      log: this.log,
      rulesFile: join(this.options.workDir, 'network', 'network-policy.nft'),
    });
    await this.enforcer.start();
    const shim = await podSourceShim();
    if (shim.ok) this.nativeShim = shim.path;
    else this.nativeShimProblem = shim.reason;
    this.serviceIpController.start({ store, clock, events, log: this.log });
    this.table.start();
    this.dns.start();
    this.istio?.start();
    this.serviceProxy.start();
    this.ingressProxy.start();
    const ip = this.serviceIps.allocate('twin-system/twin-metrics');
    const port = await this.metricsApi.start(ip, 80, this.log);
    this.metricsAddress = { ip, port };
    this.dns.setStatic('twin-metrics', { [METRICS_SERVICE_NAME]: [ip] });
    await this.dns.flush();
    const dnsIp = this.serviceIps.allocate('kube-system/kube-dns');
    try {
      await this.dnsServer.start(dnsIp);
      this.nameserverIp = dnsIp;
    } catch (err) {
      this.log(
        `cluster DNS server not started on ${dnsIp}:53 (${(err as Error).message}; port 53 needs root): live images cannot resolve cluster names`,
      );
    }
  }

  /** The cluster DNS server's address for a pod's resolv.conf (kube-dns), or undefined when it could not start. */
  get nameserver(): string | undefined {
    return this.nameserverIp;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.serviceIpController.stop();
    this.dns.stop();
    await Promise.all([
      this.serviceProxy.stop(),
      this.ingressProxy.stop(),
      this.metricsApi.stop(),
      this.dnsServer.stop(),
    ]);
    this.nameserverIp = undefined;
    this.istio?.stop();
    this.table.stop();
    this.forwarder.close();
    await this.dns.flush();
    await this.enforcer?.stop();
    this.enforcer = undefined;
    this.addressBlock?.release();
    this.addressBlock = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * The stable pod IP for a pod's uid (the same until released): a bindable address for a pod with a
   * live container, a modelled one (never bound) for a pod whose containers are all emulated.
   */
  allocatePodIp(uid: string, live = true): string {
    return live ? this.podIps.allocate(uid) : this.emulatedPodIps.allocate(uid);
  }

  releasePodIp(uid: string): void {
    this.podIps.release(uid);
    this.emulatedPodIps.release(uid);
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

  /**
   * What the network enforces, for the startup output: where NetworkPolicy is enforced, whether
   * native programs connect from their pod's address, and where the load balancer's traffic comes from.
   */
  describePolicyEnforcement(): string[] {
    if (!this.enforcer) return [];
    const lines = [this.enforcer.describe()];
    lines.push(
      this.nativeShim
        ? 'Live pods connect from their own address (Node.js: --import pod-source-preload.mjs; native programs: LD_PRELOAD pod-source-address.so)'
        : `Live Node.js pods connect from their own address; native programs (redis-server, postgres, pgbouncer) connect from ${HOST_ADDRESS}, so NetworkPolicy sees them as node traffic (always allowed): ${this.nativeShimProblem}`,
    );
    const lb = this.actors.map(
      (a) => `${a.address} as ${a.peer.kind === 'external' ? a.peer.ip : a.peer.kind}`,
    );
    const controller = this.options.ingressControllerPod;
    lines.push(
      controller
        ? `The Ingress controller connects to pods from ${this.actors.map((a) => a.address).join(', ')} as a pod of ${controller.namespace} labelled ${Object.entries(
            controller.labels,
          )
            .map(([k, v]) => `${k}=${v}`)
            .join(',')} (${controller.name})`
        : this.options.loadBalancerSubnets?.length
          ? `The Ingress load balancer connects to pods from ${lb.join(', ')} (topology network.loadBalancerSubnets)`
          : `The Ingress load balancer connects to pods from ${lb.join(', ')}, outside every subnet (the topology declares no network.loadBalancerSubnets)`,
    );
    return lines;
  }

  /** Resolves once the NetworkPolicy rules reflect the objects as they are now. */
  policySynced(): Promise<void> {
    return this.enforcer?.synced() ?? Promise.resolve();
  }

  /**
   * What a live container of a pod needs to connect from its pod address: the address, the cluster's
   * ranges and, where it could be built, the LD_PRELOAD shim for native programs. Empty for
   * hostNetwork pods, which connect from the node's (the host's) address.
   */
  podSourceEnv(pod: KubeObject, podIP: string): Record<string, string> {
    if (!onPodNetwork(pod) || !podIP.startsWith('127.')) return {};
    return {
      TWIN_POD_SOURCE_IP: podIP,
      TWIN_CLUSTER_CIDRS: `${POD_CIDR},${EMULATED_POD_CIDR},${SERVICE_CIDR}`,
      ...(this.nativeShim ? { LD_PRELOAD: this.nativeShim } : {}),
    };
  }

  /**
   * A real connection attempt from a pod's address to a pod or a Service port. Where the policies deny
   * the connection and nothing here can drop it (no kernel enforcement), it is not measured: that
   * answer would be a lie, so it throws saying why.
   */
  async canConnect(check: ConnectCheck): Promise<ConnectResult> {
    const { store } = this.options;
    const timeoutMs = check.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const from = store.get({ kind: 'Pod', namespace: check.from.namespace, name: check.from.pod });
    const fromWhat = `Pod ${check.from.namespace}/${check.from.pod}`;
    if (!from) throw new TwinError('TWIN_NOT_FOUND', `${fromWhat} not found`);
    if (!from.status?.podIP)
      throw new TwinError('TWIN_INVALID', `${fromWhat} has no address yet; wait until it runs`);
    const source = onPodNetwork(from) ? (from.status.podIP as string) : HOST_ADDRESS;
    const fromPeer: Peer = { kind: 'pod', pod: from };
    const enforcer = this.enforcer;
    if (!enforcer) throw new TwinError('TWIN_INVALID', 'the twin network is not started; call start() first');
    let host: string;
    let port: number;
    let verdicts: Array<{ allowed: boolean; reason: string }>;
    let what: string;
    if ('pod' in check.to) {
      const to = store.get({ kind: 'Pod', namespace: check.to.namespace, name: check.to.pod });
      what = `Pod ${check.to.namespace}/${check.to.pod}`;
      if (!to?.status?.podIP)
        throw new TwinError('TWIN_NOT_FOUND', `${what} not found or has no address yet`);
      host = to.status.podIP;
      const p = typeof check.port === 'number' ? check.port : namedPort(to, check.port, 'TCP');
      if (p === undefined)
        throw new TwinError('TWIN_NOT_FOUND', `${what} has no TCP container port named ${check.port}`);
      port = p;
      verdicts = [enforcer.verdict(fromPeer, to, port)];
    } else {
      what = `Service ${check.to.namespace}/${check.to.service}`;
      const svc = store.get({ kind: 'Service', namespace: check.to.namespace, name: check.to.service });
      const sp = ((svc?.spec?.ports ?? []) as any[]).find(
        (p) => p.port === check.port || p.name === check.port,
      );
      if (!svc || !sp || !svc.spec?.clusterIP || svc.spec.clusterIP === 'None')
        throw new TwinError('TWIN_NOT_FOUND', `${what} with a cluster IP and port ${check.port} not found`);
      host = svc.spec.clusterIP;
      port = sp.port;
      const eps = store.get({ kind: 'Endpoints', namespace: check.to.namespace, name: check.to.service });
      verdicts = readyEndpoints(svc, eps, sp.name ?? sp.port).flatMap((e) => {
        const pod = enforcer.index().podByIp(e.ip);
        return pod ? [enforcer.verdict(fromPeer, pod, e.port)] : [];
      });
    }
    const denied = verdicts.length > 0 && verdicts.every((v) => !v.allowed);
    const why = verdicts.length ? verdicts.map((v) => v.reason).join('; ') : `${what} has no ready endpoint`;
    if (denied && enforcer.mode !== 'kernel') {
      throw new TwinError(
        'TWIN_ENV_UNAVAILABLE',
        `cannot measure ${fromWhat} → ${what} port ${check.port}: NetworkPolicy denies it (${why}) but is not enforced in the kernel here (${enforcer.notInKernelBecause}); run as root with nftables, or on k3d`,
      );
    }
    await enforcer.synced();
    const r = await attemptConnection({
      host,
      port,
      timeoutMs,
      ...(source !== HOST_ADDRESS ? { localAddress: source } : {}),
    });
    return { ...r, detail: `${fromWhat} (${source}) → ${what} (${host}:${port}): ${why}` };
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
    const what = `Service ${ref.namespace}/${ref.name}${ref.port !== undefined ? ` port ${ref.port}` : ''}`;
    return waitUntil(
      async (progress) => {
        const svc = this.options.store.get({ kind: 'Service', namespace: ref.namespace, name: ref.name });
        if (svc?.spec?.clusterIP === 'None') {
          throw new TwinError(
            'TWIN_INVALID',
            `${what} is headless (clusterIP: None) and has no proxy; ask for a Service with a ClusterIP`,
          );
        }
        const addr = await this.serviceProxy.address(ref.namespace, ref.name, ref.port);
        if (addr) return `http://${addr.host}:${addr.port}`;
        progress.status(
          svc
            ? 'it has no listener; check that the port exists in spec.ports'
            : 'it does not exist; apply it first',
        );
        return undefined;
      },
      { what: `a listener of ${what}`, timeout: timeoutMs, interval: 20 },
    );
  }

  /**
   * The load balancer's source addresses: one Service-range address per subnet it sits in, standing
   * for the last usable address of that subnet; without subnets, one address that stands for itself.
   * Twin simplification: an ALB's interfaces have addresses AWS picks in those subnets.
   */
  private loadBalancerActors(): PresentedActor[] {
    const controller = this.options.ingressControllerPod;
    if (controller)
      return [
        {
          address: this.serviceIps.allocate(`twin-system/ingress-controller`),
          peer: {
            kind: 'pod',
            pod: {
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: {
                name: controller.name,
                namespace: controller.namespace,
                labels: { ...controller.labels },
              },
              spec: {},
            },
          },
        },
      ];
    const subnets = this.options.loadBalancerSubnets ?? [];
    if (subnets.length === 0) {
      const address = this.serviceIps.allocate('twin-system/load-balancer');
      return [{ address, peer: { kind: 'external', ip: address } }];
    }
    return subnets.map((text, i) => {
      const cidr = parseCidr(text);
      if (!cidr)
        throw new TwinError(
          'TWIN_TOPOLOGY_INVALID',
          `network.loadBalancerSubnets[${i}]: ${text} is not an IPv4 CIDR block`,
        );
      return {
        address: this.serviceIps.allocate(`twin-system/load-balancer-${i}`),
        peer: { kind: 'external', ip: lastUsableAddress(cidr) },
      };
    });
  }

  trafficByVersion(ref: { namespace: string; name: string }, windowMs: number): Record<string, TrafficStats> {
    return this.metrics.byVersion(`${ref.namespace}/${ref.name}`, windowMs);
  }
}

/**
 * Why no Ingress controller of the cluster serves an Ingress, or undefined when one does: its class
 * (spec.ingressClassName, the kubernetes.io/ingress.class annotation, else the one default
 * IngressClass) must exist and name a controller that runs.
 */
export function unservedReason(
  ing: KubeObject,
  store: ObjectStore,
  controllers: ReadonlySet<string>,
): string | undefined {
  const classes = store.list({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass' });
  const named: string | undefined =
    ing.spec?.ingressClassName ?? ing.metadata.annotations?.['kubernetes.io/ingress.class'];
  const defaults = classes.filter(
    (c) => c.metadata.annotations?.[DEFAULT_INGRESS_CLASS_ANNOTATION] === 'true',
  );
  const name = named ?? (defaults.length === 1 ? defaults[0]!.metadata.name : undefined);
  const running = [...controllers].join(', ') || 'none';
  if (name === undefined)
    return `it names no IngressClass and the cluster has no default class (controllers: ${running})`;
  const cls = classes.find((c) => c.metadata.name === name);
  if (!cls)
    return `IngressClass "${name}" does not exist (classes: ${classes.map((c) => c.metadata.name).join(', ') || 'none'})`;
  const controller = String(cls.spec?.controller ?? '');
  if (!controllers.has(controller))
    return `IngressClass "${name}" is served by ${controller}, which does not run in this cluster (controllers: ${running})`;
  return undefined;
}
