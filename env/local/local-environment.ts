import { KubeConfig } from '@kubernetes/client-node';
import { TwinError } from '../../core/errors.ts';
import { TeardownStack } from '../../core/teardown.ts';
import { DEFAULT_TIME_SCALE } from '../../kube/clock.ts';
import { describeObject, type KubeObject, type ObjectRef } from '../../kube/object.ts';
import { clusterProfile } from '../../system/profiles/profile-registry.ts';
import { loadSystem, resolveSystem } from '../../system/system.ts';
import { assertLoopbackRange } from '../../twin/network/address-allocator.ts';
import { cordon, drain, evictPod } from '../../twin/nodes/index.ts';
import { Twin } from '../../twin/twin.ts';
import type {
  AwsEndpoint,
  Environment,
  EnvironmentBackend,
  EnvironmentOptions,
  Faults,
  KubeApi,
  LoadControl,
  Network,
  TimelineEvent,
} from '../environment.ts';
import { FaultLedger } from '../fault-ledger.ts';
import { ClientNodeKubeApi } from '../kube-client.ts';
import { type AwsDataPlane, startAwsDataPlane } from './aws-data-plane.ts';
import { playChaos } from './chaos-mesh-player.ts';
import { reclaimLocal } from './reclaim.ts';

/** The embedded default: the twin in this process, live pods as child processes on loopback. */
export const localEnvironment: EnvironmentBackend = {
  name: 'local',
  faultSupport: {
    'kubernetes-api': { how: "the twin's API server" },
    'node-access': { how: "the twin's kubelet and network: a node's processes stopped, its traffic cut" },
    'chaos-mesh': { how: 'the twin plays PodChaos, NetworkChaos and HTTPChaos with its own faults' },
  },
  async preflight() {
    await assertLoopbackRange();
  },
  reclaim: reclaimLocal,
  async up(options: EnvironmentOptions): Promise<Environment> {
    const layout = await resolveSystem(options.system);
    const profile = clusterProfile(options.profile ?? process.env['TWIN_PROFILE']);
    const overlay = options.overlay ?? profile.defaultOverlay(layout.overlays());
    // Everything is read and checked before anything starts.
    const system = await loadSystem(layout, overlay, options.progress, profile);
    // What starts registers its undoing first; a failure or Ctrl-C below unwinds what had started.
    const teardown = new TeardownStack(options.progress);
    try {
      throwIfAborted(options.signal);
      // The system's AWS data plane (AWS edge + its local Terraform), before the pods that use it start.
      let awsPlane: AwsDataPlane | undefined;
      teardown.defer('AWS data plane', () => awsPlane?.stop());
      awsPlane = await startAwsDataPlane({
        terraformDir: layout.localTerraformDir,
        workDir: options.workDir,
        region: system.topology.region ?? 'us-east-1',
        ...(options.progress ? { progress: options.progress } : {}),
      });
      throwIfAborted(options.signal);
      const twin = await Twin.up({
        system,
        timeScale: options.timeScale ?? DEFAULT_TIME_SCALE,
        workDir: options.workDir,
        gpu: options.gpu ?? 'emulated',
        ...(options.progress ? { progress: options.progress } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.readyTimeout !== undefined ? { readyTimeoutMs: options.readyTimeout } : {}),
        ...(awsPlane ? { podEnv: awsPlane.podEnv } : {}),
      });
      teardown.defer('twin', () => twin.down());
      return new LocalEnvironment(twin, teardown, awsPlane?.aws);
    } catch (err) {
      await teardown.unwind().catch(() => {});
      throw err;
    }
  },
};

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new TwinError('TWIN_ABORTED', 'the bring-up was interrupted', { cause: signal.reason });
}

export class LocalEnvironment implements Environment {
  readonly name = 'local';
  /** The twin's API through @kubernetes/client-node, as on k3d (the same client, the same requests). */
  readonly kube: KubeApi;
  readonly kubeconfig: string;
  readonly net: Network;
  readonly aws: AwsEndpoint | undefined;
  readonly faults: Faults;
  readonly load: LoadControl;
  private readonly handlers = new Set<(e: TimelineEvent) => void>();
  /** The faults in effect and what undoes each (registered before the fault is applied). */
  private readonly ledger: FaultLedger;

  /** `teardown` holds what up() started (the AWS data plane, the twin); down() unwinds it after the faults. */
  constructor(
    readonly twin: Twin,
    private readonly teardown: TeardownStack,
    aws: AwsEndpoint | undefined,
  ) {
    this.aws = aws;
    this.ledger = new FaultLedger(
      (e) => this.emit(e),
      () => twin.clock.now(),
      (m) => twin.options.progress?.(m),
    );
    const store = twin.store;
    this.kubeconfig = twin.apiServer.kubeconfigFile;
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfig);
    this.kube = new ClientNodeKubeApi(kc);
    this.net = {
      ingressUrl: (ref) => twin.network.ingressUrl(ref),
      serviceUrl: (ref) => twin.network.serviceUrl(ref),
      trafficByVersion: (ref, windowMs) => twin.network.trafficByVersion(ref, windowMs),
      canConnect: (check) => twin.network.canConnect(check),
    };
    const ledger = this.ledger;
    this.faults = {
      killPod: async (ref) => {
        const pod = store.get({ kind: 'Pod', ...ref });
        if (!pod) throw new TwinError('TWIN_NOT_FOUND', `Pod ${ref.namespace}/${ref.name} not found`);
        ledger.record('PodKilled', describeObject(pod), `fault: pod ${ref.namespace}/${ref.name} killed`);
        store.delete({ kind: 'Pod', ...ref });
      },
      stopNode: async (name) => {
        const node = this.node(name);
        if (twin.nodes.powerOf(name) === 'stopped') return;
        ledger.willUndo(`node/${name}`, () => this.faults.startNode(name));
        ledger.record(
          'NodeStopped',
          describeObject(node),
          `fault: node ${name} powered off (its containers die, its kubelet stops heartbeating)`,
        );
        await twin.nodes.stopNode(name);
      },
      startNode: async (name) => {
        const node = this.node(name);
        const was = twin.nodes.powerOf(name);
        ledger.undone(`node/${name}`);
        if (was === 'running') return;
        ledger.record(
          'NodeStarted',
          describeObject(node),
          was === 'partitioned'
            ? `fault undone: node ${name} partition healed`
            : `fault undone: node ${name} powered on`,
          'Normal',
        );
        twin.nodes.startNode(name);
      },
      failZone: async (zone) => {
        const nodes = this.zoneNodes(zone);
        ledger.record(
          'ZoneFailed',
          `zone ${zone}`,
          `fault: zone ${zone} failed: ${nodes.length} nodes powered off (${nodes.join(', ')})`,
        );
        for (const n of nodes) await this.faults.stopNode(n);
        return nodes;
      },
      restoreZone: async (zone) => {
        const nodes = this.zoneNodes(zone).filter((n) => twin.nodes.powerOf(n) !== 'running');
        ledger.record(
          'ZoneRestored',
          `zone ${zone}`,
          `fault undone: zone ${zone} restored: ${nodes.length} nodes powered on`,
          'Normal',
        );
        for (const n of nodes) await this.faults.startNode(n);
        return nodes;
      },
      partitionNode: async (name) => {
        const node = this.node(name);
        const how =
          'its containers are frozen (SIGSTOP) and its kubelet stops heartbeating: pods share the host loopback, so no network namespace can cut one node off';
        ledger.willUndo(`node/${name}`, () => this.faults.startNode(name));
        ledger.record('NodePartitioned', describeObject(node), `fault: node ${name} partitioned (${how})`);
        twin.nodes.partitionNode(name);
        return { mode: 'partition', how };
      },
      cordon: async (name) => {
        const node = this.node(name);
        if (!node.spec?.unschedulable) ledger.willUndo(`cordon/${name}`, () => this.faults.uncordon(name));
        ledger.record('NodeCordoned', describeObject(node), `fault: node ${name} cordoned`, 'Normal');
        cordon(twin, name);
      },
      uncordon: async (name) => {
        const node = this.node(name);
        ledger.undone(`cordon/${name}`);
        ledger.record('NodeUncordoned', describeObject(node), `node ${name} uncordoned`, 'Normal');
        cordon(twin, name, false);
      },
      drain: async (name, options) => {
        const node = this.node(name);
        if (!node.spec?.unschedulable) ledger.willUndo(`cordon/${name}`, () => this.faults.uncordon(name));
        ledger.record(
          'NodeDrain',
          describeObject(node),
          `fault: draining node ${name} (kubectl drain --ignore-daemonsets)`,
          'Normal',
        );
        const report = await drain(twin, name, options ?? {});
        ledger.record(
          'NodeDrained',
          describeObject(node),
          `node ${name} drained in ${(report.durationMs / 1000).toFixed(0)} s: ${report.evicted.length} evicted, ${report.refused} evictions refused by PodDisruptionBudgets (retried), ${report.remaining.length} left`,
          'Normal',
        );
        return report;
      },
      evict: async (ref) => {
        const r = evictPod(twin, { kind: 'Pod', ...ref });
        return { code: r.code, message: r.message };
      },
      chaos: (object) =>
        playChaos(
          {
            twin,
            killPod: (ref) => this.faults.killPod(ref),
            record: (kind, object, message) =>
              ledger.record(kind, object, message, kind === 'ChaosInjected' ? 'Warning' : 'Normal'),
            willUndo: (key, undo) => ledger.willUndo(key, undo),
            undone: (key) => ledger.undone(key),
          },
          object,
        ),
    };
    this.load = {
      set: async (w, load) => {
        twin.usage.set(w.namespace, w.name, load);
        ledger.record(
          'LoadSet',
          `${w.namespace}/${w.name}`,
          `load on ${w.namespace}/${w.name}: ${load.cpuCores !== undefined ? `${load.cpuCores} CPU cores` : ''}${load.cpuCores !== undefined && load.memoryBytes !== undefined ? ', ' : ''}${load.memoryBytes !== undefined ? `${(load.memoryBytes / 2 ** 20).toFixed(0)} MiB` : ''}`,
          'Normal',
        );
      },
      clear: async (w) => {
        twin.usage.clear(w.namespace, w.name);
      },
    };
    const unwatchEvents = store.watch({ kind: 'Event' }, (e) => {
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
    teardown.defer('event watch', unwatchEvents);
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

  private node(name: string): KubeObject {
    const node = this.twin.store.get({ kind: 'Node', name });
    if (!node) {
      const known = this.twin.store.list({ kind: 'Node' }).map((n) => n.metadata.name);
      throw new TwinError('TWIN_NOT_FOUND', `Node ${name} not found; nodes: ${known.join(', ')}`);
    }
    return node;
  }

  private zoneNodes(zone: string): string[] {
    const nodes = this.twin.store
      .list({ kind: 'Node' })
      .filter((n) => n.metadata.labels?.['topology.kubernetes.io/zone'] === zone)
      .map((n) => n.metadata.name);
    if (nodes.length === 0) {
      const zones = [
        ...new Set(
          this.twin.store
            .list({ kind: 'Node' })
            .map((n) => n.metadata.labels?.['topology.kubernetes.io/zone']),
        ),
      ];
      throw new TwinError('TWIN_NOT_FOUND', `no node in zone ${zone}; zones: ${zones.join(', ')}`);
    }
    return nodes;
  }

  /** Undoes every fault still in effect (nodes back on, cordons lifted), newest first, then what up() started. */
  async down(): Promise<void> {
    await this.ledger.undoAll();
    await this.teardown.unwind();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}
