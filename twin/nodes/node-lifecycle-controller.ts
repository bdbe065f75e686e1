import { type KubeObject, refOf } from '../../kube/object.ts';
import type { Controller, ControllerContext } from '../controllers/controller.ts';
import {
  NODE_LIFECYCLE_DEFAULTS,
  type NodeLifecycleSettings,
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  ZONE_LABEL,
} from './node-lifecycle-defaults.ts';
import { TokenBucket } from './token-bucket.ts';
import { computeZoneState, type ZoneState, zoneEvictionQps } from './zone-state.ts';

/** Where the controller learns when each node's kubelet last renewed its Lease. */
export interface HeartbeatSource {
  lastHeartbeat(nodeName: string): number | undefined;
}

interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

type ReadyStatus = 'True' | 'False' | 'Unknown' | undefined;

const NODE_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

/**
 * kube-controller-manager's node lifecycle controller:
 * - every node-monitor-period, a node whose Lease is older than node-monitor-grace-period gets its
 *   conditions set to Unknown ("Kubelet stopped posting node status.") and its pods marked not Ready;
 * - nodes get the NoSchedule taint of their condition at once (TaintNodesByCondition) and the NoExecute
 *   taint (node.kubernetes.io/unreachable or /not-ready) through a per-zone rate limiter, whose rate
 *   follows the zone's state (normal, partial or full disruption); the taint eviction controller then
 *   evicts the pods that do not tolerate it;
 * - when every zone is fully disrupted, it evicts nothing and lifts the NoExecute taints.
 */
export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle-controller';
  private ctx!: ControllerContext;
  private readonly settings: NodeLifecycleSettings;
  private readonly zoneStates = new Map<string, ZoneState>();
  private readonly limiters = new Map<string, TokenBucket>();
  /** Nodes waiting for their NoExecute taint, per zone, in the order they failed. */
  private readonly queues = new Map<string, Map<string, string>>();
  private allDisrupted = false;
  private readonly cancels: Array<() => void> = [];

  constructor(
    private readonly heartbeats: HeartbeatSource,
    settings: Partial<NodeLifecycleSettings> = {},
  ) {
    this.settings = { ...NODE_LIFECYCLE_DEFAULTS, ...settings };
  }

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.cancels.push(
      ctx.clock.every(this.settings.nodeMonitorPeriodSeconds * 1000, () => this.guard(() => this.monitor())),
      // doNoExecuteTaintingPass runs every 100 ms of real time in kube-controller-manager; here 1 s of control-plane time.
      ctx.clock.every(1000, () => this.guard(() => this.taintPass())),
    );
  }

  stop(): void {
    for (const c of this.cancels.splice(0)) c();
  }

  /** The state of each zone as last computed ("" for nodes without a zone label). */
  zoneState(zone: string): ZoneState | undefined {
    return this.zoneStates.get(zone);
  }

  /** The current NoExecute tainting rate of a zone (nodes per second). */
  zoneEvictionRate(zone: string): number | undefined {
    return this.limiters.get(zone)?.qps;
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.ctx.log(`${this.name}: ${err instanceof Error ? err.stack : String(err)}`);
    }
  }

  /** monitorNodeHealth: conditions from heartbeats, condition taints, zone states and the tainting queues. */
  monitor(): void {
    const { store, clock } = this.ctx;
    const now = clock.now();
    const graceMs = this.settings.nodeMonitorGracePeriodSeconds * 1000;
    const byZone = new Map<string, KubeObject[]>();
    // Every 5 s of control-plane time (50 ms at ×100): read the stored nodes, not copies of each.
    for (let node of store.listShared('/Node') as KubeObject[]) {
      const name = node.metadata.name;
      const beat = this.heartbeats.lastHeartbeat(name);
      if (beat !== undefined && now - beat > graceMs && readyOf(node) !== 'Unknown') {
        node = this.markUnknown(node, now) ?? node;
      }
      node = this.syncConditionTaints(node) ?? node;
      const zone = node.metadata.labels?.[ZONE_LABEL] ?? '';
      const inZone = byZone.get(zone);
      if (inZone) inZone.push(node);
      else byZone.set(zone, [node]);
    }
    // handleDisruption: zone states and the tainting rate of each zone.
    const states = new Map<string, { state: ZoneState; size: number }>();
    for (const [zone, nodes] of byZone) {
      const { state } = computeZoneState(nodes.map(readyOf), this.settings.unhealthyZoneThreshold);
      states.set(zone, { state, size: nodes.length });
    }
    const allDisrupted = states.size > 0 && [...states.values()].every((s) => s.state === 'FullDisruption');
    if (allDisrupted && !this.allDisrupted) {
      this.ctx.log(`${this.name}: all nodes are not Ready; entering master disruption mode (no evictions)`);
      for (const nodes of byZone.values()) for (const n of nodes) this.removeNoExecuteTaints(n.metadata.name);
    } else if (!allDisrupted && this.allDisrupted) {
      this.ctx.log(`${this.name}: some nodes are Ready again; leaving master disruption mode`);
    }
    this.allDisrupted = allDisrupted;
    for (const [zone, { state, size }] of states) {
      const before = this.zoneStates.get(zone);
      if (before !== state) {
        this.ctx.log(`${this.name}: zone "${zone}" is now ${state} (was ${before ?? 'unknown'})`);
        if (before !== undefined) this.recordZone(zone, byZone.get(zone)!, state);
      }
      this.zoneStates.set(zone, state);
      const qps = zoneEvictionQps(state, size, allDisrupted, this.settings);
      const limiter = this.limiters.get(zone);
      if (limiter) limiter.setQps(qps);
      else this.limiters.set(zone, new TokenBucket(this.ctx.clock, qps, 1));
    }
    // processTaintBaseEviction: queue failed nodes for their NoExecute taint; lift it from Ready ones.
    for (const [zone, nodes] of byZone) {
      const queue = this.queues.get(zone) ?? new Map<string, string>();
      this.queues.set(zone, queue);
      for (const node of nodes) {
        const name = node.metadata.name;
        const ready = readyOf(node);
        const want =
          ready === 'Unknown' ? TAINT_UNREACHABLE : ready === 'False' ? TAINT_NOT_READY : undefined;
        const has = noExecuteTaint(node);
        if (!want) {
          queue.delete(name);
          if (has) this.removeNoExecuteTaints(name);
          continue;
        }
        if (allDisrupted) continue;
        if (has && has.key !== want) {
          this.setNoExecuteTaint(name, want); // SwapNodeControllerTaint: no rate limit
        } else if (!has && !queue.has(name)) {
          queue.set(name, want);
        }
      }
    }
  }

  /** doNoExecuteTaintingPass: taint queued nodes as each zone's rate limiter allows. */
  taintPass(): void {
    for (const [zone, queue] of this.queues) {
      const limiter = this.limiters.get(zone);
      for (const [name, key] of [...queue]) {
        const node = this.ctx.store.get({ kind: 'Node', name });
        const ready = node ? readyOf(node) : 'True';
        if (!node || ready === 'True') {
          queue.delete(name);
          continue;
        }
        if (!limiter?.tryAccept()) break;
        queue.delete(name);
        this.setNoExecuteTaint(name, ready === 'Unknown' ? TAINT_UNREACHABLE : key);
      }
    }
  }

  private markUnknown(node: KubeObject, now: number): KubeObject | undefined {
    const iso = new Date(now).toISOString();
    const name = node.metadata.name;
    const updated = this.ctx.store.patch(refOf(node), (n) => {
      n.status = n.status ?? {};
      const conditions: any[] = n.status.conditions ?? [];
      for (const type of NODE_CONDITIONS) {
        const c = conditions.find((x) => x.type === type);
        const next = {
          type,
          status: 'Unknown',
          reason: 'NodeStatusUnknown',
          message: 'Kubelet stopped posting node status.',
          lastHeartbeatTime: c?.lastHeartbeatTime ?? iso,
          lastTransitionTime: iso,
        };
        if (c) Object.assign(c, next);
        else conditions.push(next);
      }
      n.status.conditions = conditions;
    });
    this.ctx.events.record(
      node,
      'Normal',
      'NodeNotReady',
      `Node ${name} status is now: NodeNotReady`,
      this.name,
    );
    // MarkPodsNotReady: the pods of an unresponsive node stop being Ready, so endpoints drop them.
    for (const pod of this.ctx.store.list({ kind: 'Pod' })) {
      if (pod.spec?.nodeName !== name) continue;
      this.ctx.store.patch(refOf(pod), (p) => {
        const ready = (p.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
        if (!ready || ready.status === 'False') return;
        ready.status = 'False';
        ready.lastTransitionTime = iso;
        delete ready.reason;
        ready.reason = 'NodeNotReady';
        for (const cs of p.status.containerStatuses ?? []) cs.ready = false;
      });
    }
    return updated;
  }

  /** TaintNodesByCondition: not-ready / unreachable NoSchedule taints follow the Ready condition at once. */
  private syncConditionTaints(node: KubeObject): KubeObject | undefined {
    const ready = readyOf(node);
    const want = ready === 'Unknown' ? TAINT_UNREACHABLE : ready === 'False' ? TAINT_NOT_READY : undefined;
    const taints: Taint[] = node.spec?.taints ?? [];
    const current = taints.filter(
      (t) => t.effect === 'NoSchedule' && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE),
    );
    if (current.length === (want ? 1 : 0) && (!want || current[0]!.key === want)) return undefined;
    const iso = new Date(this.ctx.clock.now()).toISOString();
    return this.ctx.store.patch(refOf(node), (n) => {
      n.spec = n.spec ?? {};
      const rest = ((n.spec.taints ?? []) as Taint[]).filter(
        (t) => !current.some((c) => c.key === t.key && c.effect === t.effect),
      );
      if (want) rest.push({ key: want, effect: 'NoSchedule', timeAdded: iso });
      if (rest.length > 0) n.spec.taints = rest;
      else delete n.spec.taints;
    });
  }

  private setNoExecuteTaint(name: string, key: string): void {
    const iso = new Date(this.ctx.clock.now()).toISOString();
    const updated = this.ctx.store.patch({ kind: 'Node', name }, (n) => {
      n.spec = n.spec ?? {};
      const rest = ((n.spec.taints ?? []) as Taint[]).filter(
        (t) => !(t.effect === 'NoExecute' && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE)),
      );
      rest.push({ key, effect: 'NoExecute', timeAdded: iso });
      n.spec.taints = rest;
    });
    if (updated)
      this.ctx.events.record(
        updated,
        'Warning',
        'NodeTainted',
        `Node ${name} tainted ${key}:NoExecute; pods that do not tolerate it will be evicted`,
        this.name,
      );
  }

  private removeNoExecuteTaints(name: string): void {
    this.ctx.store.patch({ kind: 'Node', name }, (n) => {
      const taints = ((n.spec?.taints ?? []) as Taint[]).filter(
        (t) => !(t.effect === 'NoExecute' && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE)),
      );
      if (taints.length > 0) n.spec.taints = taints;
      else if (n.spec) delete n.spec.taints;
    });
  }

  private recordZone(zone: string, nodes: KubeObject[], state: ZoneState): void {
    const first = nodes[0];
    if (!first) return;
    const qps = zoneEvictionQps(state, nodes.length, this.allDisrupted, this.settings);
    this.ctx.events.record(
      first,
      state === 'Normal' ? 'Normal' : 'Warning',
      'ZoneStateChanged',
      `zone ${zone || '(none)'} is now in state ${state}: NoExecute tainting at ${qps} node/s`,
      this.name,
    );
  }
}

export function readyOf(node: KubeObject): ReadyStatus {
  return (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready')?.status;
}

function noExecuteTaint(node: KubeObject): Taint | undefined {
  return ((node.spec?.taints ?? []) as Taint[]).find(
    (t) => t.effect === 'NoExecute' && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE),
  );
}
