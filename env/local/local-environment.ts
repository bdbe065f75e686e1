import { KubeConfig } from '@kubernetes/client-node';
import { TwinError } from '../../core/errors.ts';
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
import { ClientNodeKubeApi } from '../kube-client.ts';
import { type AwsDataPlane, startAwsDataPlane } from './aws-data-plane.ts';
import { playChaos } from './chaos-mesh-player.ts';

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
  async up(options: EnvironmentOptions): Promise<Environment> {
    const layout = await resolveSystem(options.system);
    const profile = clusterProfile(options.profile ?? process.env['TWIN_PROFILE']);
    const overlay = options.overlay ?? profile.defaultOverlay(layout.overlays());
    // Everything is read and checked before anything starts.
    const system = await loadSystem(layout, overlay, options.progress, profile);
    // The system's AWS data plane (AWS edge + its local Terraform), before the pods that use it start.
    const awsPlane = await startAwsDataPlane({
      terraformDir: layout.localTerraformDir,
      workDir: options.workDir,
      region: system.topology.region ?? 'us-east-1',
      ...(options.progress ? { progress: options.progress } : {}),
    });
    let twin: Twin;
    try {
      twin = await Twin.up({
        system,
        timeScale: options.timeScale ?? DEFAULT_TIME_SCALE,
        workDir: options.workDir,
        gpu: options.gpu ?? (process.env['TWIN_GPU'] === 'passthrough' ? 'passthrough' : 'emulated'),
        ...(options.progress ? { progress: options.progress } : {}),
        ...(awsPlane ? { podEnv: awsPlane.podEnv } : {}),
      });
    } catch (err) {
      await awsPlane?.stop();
      throw err;
    }
    return new LocalEnvironment(twin, awsPlane);
  },
};

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
  /** What undoes each fault still in effect, by what it undoes ("node/<name>", "cordon/<name>"). */
  private readonly undo = new Map<string, () => Promise<void>>();
  private readonly unwatchEvents: () => void;

  constructor(
    readonly twin: Twin,
    private readonly awsPlane?: AwsDataPlane,
  ) {
    this.aws = awsPlane?.aws;
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
      stopNode: async (name) => {
        const node = this.node(name);
        if (twin.nodes.powerOf(name) === 'stopped') return;
        this.fault(
          'NodeStopped',
          node,
          `fault: node ${name} powered off (its containers die, its kubelet stops heartbeating)`,
        );
        this.undo.set(`node/${name}`, () => this.faults.startNode(name));
        await twin.nodes.stopNode(name);
      },
      startNode: async (name) => {
        const node = this.node(name);
        const was = twin.nodes.powerOf(name);
        if (was === 'running') return;
        this.undo.delete(`node/${name}`);
        this.fault(
          'NodeStarted',
          node,
          was === 'partitioned'
            ? `fault undone: node ${name} partition healed`
            : `fault undone: node ${name} powered on`,
          'Normal',
        );
        twin.nodes.startNode(name);
      },
      failZone: async (zone) => {
        const nodes = this.zoneNodes(zone);
        this.emit({
          t: twin.clock.now(),
          kind: 'ZoneFailed',
          object: `zone ${zone}`,
          message: `fault: zone ${zone} failed: ${nodes.length} nodes powered off (${nodes.join(', ')})`,
          type: 'Warning',
        });
        for (const n of nodes) await this.faults.stopNode(n);
        return nodes;
      },
      restoreZone: async (zone) => {
        const nodes = this.zoneNodes(zone).filter((n) => twin.nodes.powerOf(n) !== 'running');
        this.emit({
          t: twin.clock.now(),
          kind: 'ZoneRestored',
          object: `zone ${zone}`,
          message: `fault undone: zone ${zone} restored: ${nodes.length} nodes powered on`,
          type: 'Normal',
        });
        for (const n of nodes) await this.faults.startNode(n);
        return nodes;
      },
      partitionNode: async (name) => {
        const node = this.node(name);
        const how =
          'its containers are frozen (SIGSTOP) and its kubelet stops heartbeating: pods share the host loopback, so no network namespace can cut one node off';
        this.fault('NodePartitioned', node, `fault: node ${name} partitioned (${how})`);
        this.undo.set(`node/${name}`, () => this.faults.startNode(name));
        twin.nodes.partitionNode(name);
        return { mode: 'partition', how };
      },
      cordon: async (name) => {
        const node = this.node(name);
        this.fault('NodeCordoned', node, `fault: node ${name} cordoned`, 'Normal');
        if (!node.spec?.unschedulable) this.undo.set(`cordon/${name}`, () => this.faults.uncordon(name));
        cordon(twin, name);
      },
      uncordon: async (name) => {
        const node = this.node(name);
        this.undo.delete(`cordon/${name}`);
        this.fault('NodeUncordoned', node, `node ${name} uncordoned`, 'Normal');
        cordon(twin, name, false);
      },
      drain: async (name, options) => {
        const node = this.node(name);
        this.fault(
          'NodeDrain',
          node,
          `fault: draining node ${name} (kubectl drain --ignore-daemonsets)`,
          'Normal',
        );
        if (!node.spec?.unschedulable) this.undo.set(`cordon/${name}`, () => this.faults.uncordon(name));
        const report = await drain(twin, name, options ?? {});
        this.fault(
          'NodeDrained',
          node,
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
              this.emit({
                t: twin.clock.now(),
                kind,
                object,
                message,
                type: kind === 'ChaosInjected' ? 'Warning' : 'Normal',
              }),
            willUndo: (key, undo) => this.undo.set(key, undo),
            undone: (key) => this.undo.delete(key),
          },
          object,
        ),
    };
    this.load = {
      set: async (w, load) => {
        twin.usage.set(w.namespace, w.name, load);
        this.emit({
          t: twin.clock.now(),
          kind: 'LoadSet',
          object: `${w.namespace}/${w.name}`,
          message: `load on ${w.namespace}/${w.name}: ${load.cpuCores !== undefined ? `${load.cpuCores} CPU cores` : ''}${load.cpuCores !== undefined && load.memoryBytes !== undefined ? ', ' : ''}${load.memoryBytes !== undefined ? `${(load.memoryBytes / 2 ** 20).toFixed(0)} MiB` : ''}`,
          type: 'Normal',
        });
      },
      clear: async (w) => {
        twin.usage.clear(w.namespace, w.name);
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

  private fault(
    kind: string,
    obj: KubeObject,
    message: string,
    type: 'Normal' | 'Warning' = 'Warning',
  ): void {
    this.emit({ t: this.twin.clock.now(), kind, object: describeObject(obj), message, type });
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

  /** Undoes every fault still in effect (nodes back on, cordons lifted), newest first. */
  private async undoFaults(): Promise<void> {
    for (const [what, fn] of [...this.undo].reverse()) {
      this.undo.delete(what);
      try {
        await fn();
      } catch (err) {
        this.twin.options.progress?.(`undoing ${what} failed: ${(err as Error).message}`);
      }
    }
  }

  async down(): Promise<void> {
    await this.undoFaults();
    this.unwatchEvents();
    await this.twin.down();
    await this.awsPlane?.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}
