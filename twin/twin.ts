import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { isTwinError, TwinError } from '../core/errors.ts';
import { TeardownStack } from '../core/teardown.ts';
import { waitUntil } from '../core/wait.ts';
import { ScaledClock } from '../kube/clock.ts';
import { describeObject, type KubeObject } from '../kube/object.ts';
import { validateObject } from '../kube/schema/validate-object.ts';
import { type ClusterCapabilities, clusterCapabilities } from '../system/profiles/cluster-capabilities.ts';
import { classifyKinds, describeStoredOnly } from '../system/render/index.ts';
import type { LoadedSystem } from '../system/system.ts';
import { storageClassObject } from '../system/topology/cluster-storage.ts';
import { type ClusterStorage, topologyToNodes } from '../system/topology/topology.ts';
import type { TwinBindings } from '../system/twin-bindings.ts';
import { addonControllers, describeAddons, describeProfile } from './addon-controllers.ts';
import type { ValidateObject } from './apiserver/admission.ts';
import { ApiServer } from './apiserver/api-server.ts';
import {
  kubernetesService,
  publishApiServerEndpoints,
  SYSTEM_NAMESPACES,
  serviceAccountFiles,
  systemNamespace,
} from './apiserver/in-cluster.ts';
import { EmulatedUsage, HorizontalPodAutoscalerController, LiveUsage } from './autoscaling/index.ts';
import type { Controller, ControllerContext } from './controllers/controller.ts';
import { builtinControllers } from './controllers/index.ts';
import { NamespaceController } from './controllers/namespace.ts';
import { ServiceAccountController } from './controllers/service-account.ts';
import { assignGpuDevices, GpuAllocator, type GpuMode, listHostGpus } from './gpu/index.ts';
import { Kubelet } from './kubelet/kubelet.ts';
import { preparePodsDir, prepareVolumesDir, type SharedDir } from './kubelet/pods-dir.ts';
import { WorkloadBundler } from './kubelet/workload-bundler.ts';
import { TwinNetwork } from './network/twin-network.ts';
import {
  defaultTolerationSeconds,
  evictPod,
  NodeHeartbeats,
  NodeLifecycleController,
  type NodeLifecycleSettings,
  TaintEvictionController,
} from './nodes/index.ts';
import { SchedulerController } from './scheduler/scheduler-controller.ts';
import { PersistentVolumeController } from './storage/persistent-volume-controller.ts';
import { defaultStorageClassAdmission } from './storage/storage-class.ts';
import { EventRecorder } from './store/event-recorder.ts';
import { ObjectStore } from './store/object-store.ts';
import { ingressGatewayObjects } from './traffic-policy/istio/ingress-gateway.ts';
import { waitForWorkloadsReady } from './workload-readiness.ts';

export interface TwinOptions {
  /** The system, rendered and checked (system/system.ts loadSystem). */
  system: LoadedSystem;
  timeScale: number;
  workDir: string;
  progress?: (message: string) => void;
  /** Variables every live container gets (e.g. AWS_ENDPOINT_URL of the environment's AWS edge). */
  podEnv?: Record<string, string>;
  /** Real-time limit for every workload to become ready. */
  readyTimeoutMs?: number;
  /** Node lifecycle flags (grace period, eviction rates, default tolerations); documented defaults otherwise. */
  nodeLifecycle?: Partial<NodeLifecycleSettings>;
  /** GPU nodes' devices: emulated (default) or the host's, from `nvidia-smi -L` (passthrough). */
  gpu?: GpuMode;
  /**
   * The cluster's provisioners and built-in StorageClasses; by default the profile's (system.profile:
   * on EKS the topology's `storage`, none meaning every dynamically provisioned claim stays Pending;
   * on k3s only local-path).
   */
  storage?: ClusterStorage;
  /** Aborts the bring-up (Ctrl-C): what had started is torn down and up() rejects with TWIN_ABORTED. */
  signal?: AbortSignal;
  /** Schema validation of every write through the API server; kube/schema's validateObject by default. */
  validate?: ValidateObject;
  /** RBAC on the API server: record a Warning Event for what it would forbid (default) or answer 403. */
  rbac?: 'warn' | 'enforce';
  /** Called with the store before anything is stored in it, for tools that time the bring-up (bench/scale.ts). */
  observeStore?: (store: ObjectStore) => void;
}

/**
 * The embedded twin: the rendered manifests of one system running on a modelled cluster. Up renders
 * and validates the overlay, creates the nodes of the topology, starts the control plane, the
 * network and the kubelet, applies every object and waits until the workloads are ready.
 */
export class Twin {
  readonly store: ObjectStore;
  readonly clock: ScaledClock;
  readonly events: EventRecorder;
  readonly network: TwinNetwork;
  readonly kubelet: Kubelet;
  /** Each node's kubelet heartbeat; stopping, partitioning and restarting nodes go through it. */
  readonly nodes: NodeHeartbeats;
  readonly nodeLifecycle: NodeLifecycleController;
  /** The resource usage each workload shows (emulated from the load scenarios set); the HPA reads it. */
  readonly usage = new EmulatedUsage();
  /** The resource usage of live pods, measured from their processes; the HPA reads it for them. */
  readonly liveUsage = new LiveUsage(
    (pod) => this.kubelet.podProcessGroups(pod.metadata.uid ?? ''),
    // Only pods an HPA may read are measured (those in a namespace with one): the scan costs CPU.
    () => {
      const namespaces = new Set(
        this.store
          .list({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' })
          .map((h) => h.metadata.namespace),
      );
      return namespaces.size === 0
        ? []
        : this.store.list({ kind: 'Pod' }).filter((p) => namespaces.has(p.metadata.namespace));
    },
  );
  /** The Kubernetes API on loopback (HTTPS); its kubeconfig is `<workDir>/kubeconfig`. */
  readonly apiServer: ApiServer;
  /** Kinds stored without a controller of their own (reported, never dropped). */
  storedOnly = '';
  private readonly controllers: Controller[] = [];
  private readonly logFile: string;
  /** Every PersistentVolume's data, `<volumesDir>/<pv name>`. */
  readonly volumesDir: string;
  readonly storage: ClusterStorage;
  /** What the cluster serves beyond the manifests (its profile and add-ons): Ingress controllers and classes, metrics APIs. */
  readonly capabilities: ClusterCapabilities;
  /** What undoes each part that started, registered before it starts; down() unwinds it. */
  private readonly teardown: TeardownStack;
  private readonly pods: SharedDir;

  private constructor(
    readonly options: TwinOptions,
    bindings: TwinBindings,
    gpus?: GpuAllocator,
  ) {
    this.clock = new ScaledClock(options.timeScale);
    this.store = new ObjectStore(() => this.clock.now());
    this.events = new EventRecorder(this.store, this.clock);
    options.observeStore?.(this.store);
    this.teardown = new TeardownStack((m) => options.progress?.(m));
    mkdirSync(options.workDir, { recursive: true });
    this.logFile = path.join(options.workDir, 'control-plane.log');
    const { profile, topology, addons } = options.system;
    this.storage = options.storage ?? profile.storage(topology);
    this.capabilities = clusterCapabilities(profile, addons);
    const builtinController = profile.ingressClasses[0];
    const ingressControllerPod = builtinController
      ? { name: builtinController.name, ...builtinController.pods }
      : undefined;
    // Registered first, so unwound last: the directories go once every process using them has stopped.
    const volumes = prepareVolumesDir(options.workDir);
    this.teardown.defer('volume directories', () => volumes.release());
    this.volumesDir = volumes.path;
    this.pods = preparePodsDir(options.workDir);
    this.teardown.defer('pod directories', () => this.pods.release());
    const log = (m: string) => this.log(m);
    this.network = new TwinNetwork({
      store: this.store,
      clock: this.clock,
      events: this.events,
      workDir: options.workDir,
      log,
      // Where Ingress traffic comes from, as NetworkPolicy sees it: the cluster's own controller pod
      // (Traefik in kube-system on k3s), else the load balancer in the VPC's subnets (the ALB on EKS).
      ...(ingressControllerPod
        ? { ingressControllerPod }
        : options.system.topology.network?.loadBalancerSubnets
          ? { loadBalancerSubnets: options.system.topology.network.loadBalancerSubnets }
          : {}),
      ingressControllers: new Set(this.capabilities.ingressControllers.keys()),
      istio: addons.some((a) => a.name === 'istio'),
    });
    this.kubelet = new Kubelet({
      bindings,
      bundler: new WorkloadBundler(path.join(options.system.layout.root, '.twin', 'bundles')),
      podsDir: this.pods.path,
      volumesDir: this.volumesDir,
      cwd: options.system.layout.root,
      allocatePodIp: (uid, live) => this.network.allocatePodIp(uid, live),
      releasePodIp: (uid) => this.network.releasePodIp(uid),
      nodeImports: this.network.nodePreloads,
      serviceAccountFiles: (pod) =>
        this.apiServer.tokens
          ? serviceAccountFiles(this.store, this.apiServer.tokens, this.apiServer.caPem, pod)
          : undefined,
      dnsFile: this.network.dnsFile,
      podNetworkEnv: (pod, ip) => this.network.podSourceEnv(pod, ip),
      networkReady: () => this.network.policySynced(),
      sandboxCacheDir: path.join(options.system.layout.root, '.twin', 'sandbox'),
      nameserver: () => this.network.nameserver,
      ...(options.podEnv ? { podEnv: options.podEnv } : {}),
      ...(gpus ? { gpus } : {}),
    });
    this.apiServer = new ApiServer({
      store: this.store,
      clock: this.clock,
      events: this.events,
      pkiDir: path.join(options.workDir, 'pki'),
      kubeconfigFile: path.join(options.workDir, 'kubeconfig'),
      logs: this.kubelet,
      evict: (ref) => evictPod({ store: this.store, clock: this.clock, events: this.events }, ref),
      // Every write through the API is checked as kube-apiserver checks it (kube/schema).
      validate: options.validate ?? validateObject,
      ...(options.rbac ? { rbac: options.rbac } : {}),
      log,
    });
    this.nodes = new NodeHeartbeats(this.kubelet, options.nodeLifecycle?.leaseRenewIntervalSeconds);
    this.nodeLifecycle = new NodeLifecycleController(this.nodes, options.nodeLifecycle);
  }

  /** A line in the control plane's log (`<workDir>/control-plane.log`, readable by the twin's user only). */
  log(message: string): void {
    appendFileSync(this.logFile, `${new Date(this.clock.now()).toISOString()} ${message}\n`, { mode: 0o600 });
  }

  static async up(options: TwinOptions): Promise<Twin> {
    const progress = options.progress ?? (() => {});
    const { topology, bindings, rendered } = options.system;
    const gpuMode = options.gpu ?? 'emulated';
    let hostGpus: Awaited<ReturnType<typeof listHostGpus>>['devices'] = [];
    if (gpuMode === 'passthrough') {
      const listed = await listHostGpus();
      if (!listed.devices || listed.devices.length === 0)
        throw new TwinError(
          'TWIN_ENV_UNAVAILABLE',
          `--gpu passthrough: no GPU to pass through (${listed.devices ? 'nvidia-smi -L lists no device' : listed.reason}); run with --gpu emulated`,
        );
      hostGpus = listed.devices;
      progress(`GPU passthrough: ${hostGpus.map((d) => `${d.index}: ${d.name} (${d.uuid})`).join(', ')}`);
    }
    const gpus = new GpuAllocator(gpuMode, new Map(hostGpus.map((d) => [d.uuid, d.index])));
    const twin = new Twin(options, bindings, gpus);
    try {
      const { topology: clusterTopology, shrunk } = options.system.profile.nodes(topology);
      for (const line of shrunk) progress(`${options.system.profile.title} nodes: ${line}`);
      await twin.start(
        assignGpuDevices(topologyToNodes(clusterTopology), gpuMode, hostGpus),
        rendered.map((r) => r.object),
        progress,
      );
      return twin;
    } catch (err) {
      await twin.down();
      throw err;
    }
  }

  private async start(
    nodes: KubeObject[],
    objects: KubeObject[],
    progress: (m: string) => void,
  ): Promise<void> {
    const aborted = () => {
      if (this.options.signal?.aborted)
        throw new TwinError('TWIN_ABORTED', 'the bring-up was interrupted', {
          cause: this.options.signal.reason,
        });
    };
    aborted();
    const preparing = this.apiServer.prepare();
    preparing.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
    // What every cluster has before anything is applied: its namespaces and the `kubernetes` Service.
    for (const name of SYSTEM_NAMESPACES)
      if (!this.store.peek({ apiVersion: 'v1', kind: 'Namespace', name }))
        this.store.create(systemNamespace(name));
    if (!this.store.peek({ apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'kubernetes' }))
      this.store.create(kubernetesService());
    this.teardown.defer('network', () => this.network.stop());
    await this.network.start();
    for (const line of this.network.describePolicyEnforcement()) progress(line);
    await preparing;
    aborted();
    this.teardown.defer('API server', () => this.apiServer.stop());
    await this.startApiServer();
    aborted();
    this.teardown.defer('kubelet (every live pod)', () => this.kubelet.shutdown());
    this.teardown.defer('live usage sampling', () => this.liveUsage.stop());
    this.liveUsage.start();
    const ctx: ControllerContext = {
      store: this.store,
      clock: this.clock,
      events: this.events,
      log: (m) => this.log(m),
    };
    this.controllers.push(
      new NamespaceController(),
      new ServiceAccountController(this.apiServer.caPem),
      new SchedulerController(),
      new PersistentVolumeController({
        provisioners: this.storage.provisioners,
        // The provisioner deleted the disk: its data goes with it.
        onVolumeDeleted: (pv) =>
          rmSync(path.join(this.volumesDir, pv.metadata.name), { recursive: true, force: true }),
      }),
      ...builtinControllers(),
      ...addonControllers(this.options.system.addons, { lookup: this.network.lookupFor('argo-rollouts') }),
      this.kubelet,
      this.nodes,
      this.nodeLifecycle,
      new TaintEvictionController(),
      new HorizontalPodAutoscalerController(
        this.usage,
        undefined,
        undefined,
        this.capabilities.apis.has('metrics.k8s.io'),
        this.liveUsage,
      ),
    );
    this.store.addAdmission(
      defaultTolerationSeconds(
        this.options.nodeLifecycle?.defaultNotReadyTolerationSeconds,
        this.options.nodeLifecycle?.defaultUnreachableTolerationSeconds,
      ),
    );
    this.store.addAdmission(defaultStorageClassAdmission(() => this.store.list({ kind: 'StorageClass' })));
    for (const c of this.controllers) {
      this.teardown.defer(`controller ${c.name}`, () => c.stop());
      c.start(ctx);
    }
    progress(describeProfile(this.options.system, this.capabilities));
    progress(describeAddons(this.options.system.addons));
    // the add-ons are installed before the system: their CRDs first, as on a prepared cluster
    for (const crd of this.options.system.addonCrds) this.store.apply(crd);
    // Istio's install creates its ingress gateway Service, which the system's Gateways select
    if (this.options.system.addons.some((a) => a.name === 'istio'))
      for (const obj of ingressGatewayObjects())
        if (
          !this.store.peek({
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            namespace: obj.metadata.namespace,
            name: obj.metadata.name,
          })
        )
          this.store.create(obj);
    // the IngressClasses the cluster (k3s: traefik) and its add-ons' installs (alb) create
    for (const { object } of this.capabilities.ingressClasses) this.store.create(structuredClone(object));
    for (const node of nodes) this.store.create(node);
    // The classes the cluster is created with (EKS: gp2; k3s: local-path), before any manifest.
    for (const sc of this.storage.storageClasses ?? []) this.store.create(storageClassObject(sc));
    progress(`${nodes.length} nodes from the topology; applying ${objects.length} objects`);
    const ordered = [...objects].sort((a, b) => applyOrder(a) - applyOrder(b));
    for (const obj of ordered) {
      try {
        this.store.apply(obj);
      } catch (err) {
        throw new TwinError('TWIN_MANIFEST_INVALID', `${describeObject(obj)}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    this.storedOnly = describeStoredOnly(classifyKinds(objects));
    if (this.storedOnly) progress(this.storedOnly);
    await waitForWorkloadsReady(this.store, {
      timeoutMs: this.options.readyTimeoutMs ?? 60_000,
      progress,
      ...(this.options.signal ? { signal: this.options.signal } : {}),
    });
  }

  /**
   * Serves the API once the `kubernetes` Service has its ClusterIP (the serving certificate names it),
   * then points the Service at the server.
   */
  private async startApiServer(): Promise<void> {
    const ref = { apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'kubernetes' };
    // Without a ClusterIP in time the certificate names 127.0.0.1 only (in-cluster clients then fail TLS).
    const serviceIp = await waitUntil(() => this.store.peek(ref)?.spec?.clusterIP as string | undefined, {
      what: 'the kubernetes Service to get its ClusterIP',
      timeout: 5_000,
      interval: 5,
      ...(this.options.signal ? { signal: this.options.signal } : {}),
    }).catch((err) => {
      if (isTwinError(err, 'TWIN_TIMEOUT')) return undefined;
      throw err;
    });
    await this.apiServer.start(serviceIp ? { serviceIp } : {});
    publishApiServerEndpoints(this.store, '127.0.0.1', this.apiServer.port);
  }

  /**
   * Stops what started, newest first: the controllers, every live process, the API server, the
   * listeners; the pod directories move back under the work directory (or, with removeWorkDir, the
   * work directory goes).
   */
  async down(options: { removeWorkDir?: boolean } = {}): Promise<void> {
    await this.teardown.unwind();
    if (options.removeWorkDir) await rm(this.options.workDir, { recursive: true, force: true });
  }
}

/** Namespaces and configuration before the workloads that use them, as `kubectl apply` users order them. */
function applyOrder(obj: KubeObject): number {
  switch (obj.kind) {
    case 'Namespace':
      return 0;
    case 'CustomResourceDefinition':
      return 1;
    case 'ConfigMap':
    case 'Secret':
    case 'ServiceAccount':
    case 'PriorityClass':
    case 'StorageClass':
      return 2;
    case 'Service':
    case 'AnalysisTemplate':
    case 'ClusterAnalysisTemplate':
      return 3;
    default:
      return 5;
  }
}
