import type { KubeObject } from '../../kube/object.ts';
import type { Controller, ControllerContext } from '../controllers/controller.ts';
import { NODE_LIFECYCLE_DEFAULTS } from './node-lifecycle-defaults.ts';

/** What the node agents need of the kubelet: stop, cut off and restart the pods of one node. */
export interface NodeRuntime {
  stopNode(name: string): Promise<void>;
  partitionNode(name: string): void;
  startNode(name: string): void;
}

export type NodePower = 'running' | 'stopped' | 'partitioned';

/**
 * The kubelet side of every node: while a node runs, its kubelet renews the node's Lease every
 * `leaseRenewIntervalSeconds`; a stopped or partitioned node renews nothing, which is all the node
 * lifecycle controller sees of the failure. Starting a node again renews at once and posts Ready.
 *
 * Twin simplification: Lease renewals are kept in memory (no kube-node-lease Lease objects are written).
 * Twin simplification: a running node's Lease counts as renewed now (renewals are not timers), so a stall of the twin's own event loop never reads as a silent kubelet; a stopped node's last renewal is the last 10 s tick before it stopped.
 */
export class NodeHeartbeats implements Controller {
  readonly name = 'node-heartbeats';
  private ctx!: ControllerContext;
  /** When each node's kubelet (re)started renewing: the phase of its renewal ticks. */
  private readonly renewed = new Map<string, number>();
  /** The last renewal of each node that is not running. */
  private readonly lastRenewal = new Map<string, number>();
  private readonly power = new Map<string, NodePower>();
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly runtime: NodeRuntime,
    private readonly renewIntervalSeconds = NODE_LIFECYCLE_DEFAULTS.leaseRenewIntervalSeconds,
  ) {}

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    const now = ctx.clock.now();
    for (const n of ctx.store.list({ kind: 'Node' })) this.renewed.set(n.metadata.name, now);
    this.unwatch = ctx.store.watch({ kind: 'Node' }, (e) => {
      const name = e.object.metadata.name;
      if (e.type === 'DELETED') {
        this.renewed.delete(name);
        this.power.delete(name);
      } else if (!this.renewed.has(name)) this.renewed.set(name, ctx.clock.now());
    });
  }

  stop(): void {
    this.unwatch?.();
  }

  /** The last Lease renewal of the node (control-plane epoch ms), or undefined for an unknown node. */
  lastHeartbeat(name: string): number | undefined {
    const since = this.renewed.get(name);
    if (since === undefined) return undefined;
    if (this.powerOf(name) === 'running') return this.ctx.clock.now();
    return this.lastRenewal.get(name) ?? since;
  }

  /** The renewal tick at or before `at` of a kubelet renewing every interval since `since`. */
  private tickBefore(name: string, at: number): number {
    const since = this.renewed.get(name) ?? at;
    const every = this.renewIntervalSeconds * 1000;
    return since + Math.floor((at - since) / every) * every;
  }

  powerOf(name: string): NodePower {
    return this.power.get(name) ?? 'running';
  }

  /** Every node that is not running, with how. */
  downNodes(): Array<{ name: string; power: NodePower }> {
    return [...this.power].filter(([, p]) => p !== 'running').map(([name, power]) => ({ name, power }));
  }

  async stopNode(name: string): Promise<void> {
    this.mustExist(name);
    if (this.powerOf(name) === 'running')
      this.lastRenewal.set(name, this.tickBefore(name, this.ctx.clock.now()));
    this.power.set(name, 'stopped');
    await this.runtime.stopNode(name);
  }

  partitionNode(name: string): void {
    this.mustExist(name);
    if (this.powerOf(name) === 'running')
      this.lastRenewal.set(name, this.tickBefore(name, this.ctx.clock.now()));
    this.power.set(name, 'partitioned');
    this.runtime.partitionNode(name);
  }

  /** Powers the node on (or heals its partition): its kubelet renews its Lease and posts Ready. */
  startNode(name: string): void {
    const node = this.mustExist(name);
    if (this.powerOf(name) === 'running') return;
    this.power.delete(name);
    this.lastRenewal.delete(name);
    this.renewed.set(name, this.ctx.clock.now());
    const now = new Date(this.ctx.clock.now()).toISOString();
    this.ctx.store.patch({ kind: 'Node', name }, (n) => {
      n.status = n.status ?? {};
      n.status.conditions = kubeletConditions(n.status.conditions ?? [], now);
    });
    this.ctx.events.record(node, 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`, 'kubelet');
    this.runtime.startNode(name);
  }

  private mustExist(name: string): KubeObject {
    const node = this.ctx.store.get({ kind: 'Node', name });
    if (!node) throw new Error(`node ${name} not found`);
    return node;
  }
}

const KUBELET_CONDITIONS: Record<string, { status: string; reason: string; message: string }> = {
  MemoryPressure: {
    status: 'False',
    reason: 'KubeletHasSufficientMemory',
    message: 'kubelet has sufficient memory available',
  },
  DiskPressure: {
    status: 'False',
    reason: 'KubeletHasNoDiskPressure',
    message: 'kubelet has no disk pressure',
  },
  PIDPressure: {
    status: 'False',
    reason: 'KubeletHasSufficientPID',
    message: 'kubelet has sufficient PID available',
  },
  Ready: { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
};

/** The conditions a healthy kubelet posts, keeping lastTransitionTime where the status is unchanged. */
function kubeletConditions(conditions: any[], now: string): any[] {
  return Object.entries(KUBELET_CONDITIONS).map(([type, c]) => {
    const old = conditions.find((x) => x.type === type);
    return {
      type,
      ...c,
      lastHeartbeatTime: now,
      lastTransitionTime: old && old.status === c.status ? (old.lastTransitionTime ?? now) : now,
    };
  });
}
