import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import {
  computeZoneState,
  defaultTolerationSeconds,
  minTolerationSeconds,
  NodeHeartbeats,
  NodeLifecycleController,
  readyOf,
  TaintEvictionController,
  zoneEvictionQps,
} from '../../../twin/nodes/index.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';
import { ManualClock } from './manual-clock.ts';

function node(name: string, zone: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'topology.kubernetes.io/zone': zone, 'kubernetes.io/hostname': name } },
    spec: {},
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
  };
}

function pod(name: string, nodeName: string, tolerations?: unknown[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName, containers: [{ name: 'c', image: 'x' }], ...(tolerations ? { tolerations } : {}) },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

const flush = () => new Promise((r) => setImmediate(r));

/** A store with the admission plugin, the lifecycle and taint eviction controllers, and heartbeats the test controls. */
function cluster(zones: Record<string, number>) {
  const clock = new ManualClock();
  const store = new ObjectStore(() => clock.now());
  const events = new EventRecorder(store, clock);
  store.addAdmission(defaultTolerationSeconds());
  const beats = new Map<string, number>();
  const down = new Set<string>();
  const lifecycle = new NodeLifecycleController({ lastHeartbeat: (n) => beats.get(n) });
  const taints = new TaintEvictionController();
  const ctx = { store, clock, events, log: () => {} };
  const names: string[] = [];
  for (const [zone, count] of Object.entries(zones)) {
    for (let i = 1; i <= count; i++) {
      const name = `${zone}-${i}`;
      names.push(name);
      store.create(node(name, zone));
      beats.set(name, clock.now());
    }
  }
  lifecycle.start(ctx);
  taints.start(ctx);
  // The kubelets of running nodes renew every 10 s.
  clock.every(10_000, () => {
    for (const n of names) if (!down.has(n)) beats.set(n, clock.now());
  });
  const ready = (name: string) => readyOf(store.get({ kind: 'Node', name })!);
  const taintKeys = (name: string, effect: string) =>
    (store.get({ kind: 'Node', name })!.spec.taints ?? [])
      .filter((t: any) => t.effect === effect)
      .map((t: any) => t.key);
  return {
    clock,
    store,
    lifecycle,
    taints,
    down,
    ready,
    taintKeys,
    names,
    beat: (n: string) => beats.set(n, clock.now()),
  };
}

describe('DefaultTolerationSeconds admission', () => {
  it('adds 300 s not-ready and unreachable NoExecute tolerations to pods that have none', () => {
    const store = new ObjectStore();
    store.addAdmission(defaultTolerationSeconds());
    const p = store.create(pod('a', 'n'));
    expect(p.spec.tolerations).toEqual([
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ]);
  });

  it("keeps a pod's own toleration and DaemonSet-style forever tolerations", () => {
    const store = new ObjectStore();
    store.addAdmission(defaultTolerationSeconds());
    const own = store.create(
      pod('own', 'n', [
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 30,
        },
      ]),
    );
    expect(own.spec.tolerations).toHaveLength(2);
    expect(own.spec.tolerations[0].tolerationSeconds).toBe(30);
    const all = store.create(pod('all', 'n', [{ operator: 'Exists' }]));
    expect(all.spec.tolerations).toEqual([{ operator: 'Exists' }]);
  });
});

describe('node lifecycle: grace period, taints and eviction', () => {
  it('marks a silent node Unknown only after node-monitor-grace-period (50 s), then taints it and marks its pods not Ready', async () => {
    const c = cluster({ a: 2 });
    c.store.create(pod('p', 'a-1'));
    c.down.add('a-1');
    c.clock.advance(45_000);
    expect(c.ready('a-1')).toBe('True');
    c.clock.advance(20_000); // the last heartbeat was at t=0; Unknown once 50 s passed, at the next 5 s monitor tick
    expect(c.ready('a-1')).toBe('Unknown');
    expect(c.ready('a-2')).toBe('True');
    expect(c.taintKeys('a-1', 'NoSchedule')).toEqual(['node.kubernetes.io/unreachable']);
    expect(c.taintKeys('a-1', 'NoExecute')).toEqual(['node.kubernetes.io/unreachable']);
    const p = c.store.get({ kind: 'Pod', namespace: 'default', name: 'p' })!;
    expect(p.status.conditions.find((x: any) => x.type === 'Ready').status).toBe('False');
  });

  it('evicts pods with the default toleration 300 s after the NoExecute taint, untolerating ones at once, and never tolerate-forever ones', async () => {
    const c = cluster({ a: 2 });
    c.store.create(pod('default-300', 'a-1'));
    c.store.create(
      pod('daemon', 'a-1', [
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
      ]),
    );
    c.down.add('a-1');
    c.clock.advance(56_000);
    await flush();
    const taint = c.store
      .get({ kind: 'Node', name: 'a-1' })!
      .spec.taints.find((t: any) => t.effect === 'NoExecute');
    const taintedAt = Date.parse(taint.timeAdded);
    // a pod bound now, tolerating nothing (replace the default tolerations afterwards) is evicted at once
    c.store.create(pod('intolerant', 'a-1', [{ key: 'other', operator: 'Exists' }]));
    c.store.patch({ kind: 'Pod', namespace: 'default', name: 'intolerant' }, (p) => {
      p.spec.tolerations = [];
    });
    await flush();
    c.clock.advance(0);
    await flush();
    const exists = (n: string) => c.store.get({ kind: 'Pod', namespace: 'default', name: n }) !== undefined;
    expect(exists('intolerant')).toBe(false);
    c.clock.advance(taintedAt + 299_000 - c.clock.now());
    expect(exists('default-300')).toBe(true);
    c.clock.advance(2_000);
    expect(exists('default-300')).toBe(false);
    c.clock.advance(3_600_000);
    expect(exists('daemon')).toBe(true);
  });

  it('lifts the taints and cancels pending evictions when the node is Ready again', async () => {
    const c = cluster({ a: 2 });
    c.store.create(pod('p', 'a-1'));
    c.down.add('a-1');
    c.clock.advance(60_000);
    await flush();
    expect(c.taintKeys('a-1', 'NoExecute')).toHaveLength(1);
    c.store.patch({ kind: 'Node', name: 'a-1' }, (n) => {
      n.status.conditions = [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }];
    });
    c.down.delete('a-1');
    c.beat('a-1');
    c.clock.advance(10_000);
    await flush();
    expect(c.taintKeys('a-1', 'NoExecute')).toEqual([]);
    expect(c.taintKeys('a-1', 'NoSchedule')).toEqual([]);
    c.clock.advance(600_000);
    expect(c.store.get({ kind: 'Pod', namespace: 'default', name: 'p' })).toBeDefined();
  });
});

describe('per-zone eviction rate limits', () => {
  it('taints the nodes of a fully failed zone at the normal rate, 0.1 node/s (one per 10 s)', async () => {
    const c = cluster({ a: 4, b: 4 });
    for (const n of ['a-1', 'a-2', 'a-3', 'a-4']) c.down.add(n);
    c.clock.advance(60_000); // all four Unknown; zone a FullDisruption
    expect(c.lifecycle.zoneState('a')).toBe('FullDisruption');
    expect(c.lifecycle.zoneEvictionRate('a')).toBe(0.1);
    const tainted = () =>
      ['a-1', 'a-2', 'a-3', 'a-4'].filter((n) => c.taintKeys(n, 'NoExecute').length > 0).length;
    const first = tainted();
    expect(first).toBe(1);
    c.clock.advance(10_000);
    expect(tainted()).toBe(2);
    c.clock.advance(20_000);
    expect(tainted()).toBe(4);
  });

  it('stops tainting in a partially disrupted small zone (≥ 55 % not Ready, ≤ 50 nodes)', () => {
    const c = cluster({ a: 4, b: 4 });
    for (const n of ['a-1', 'a-2', 'a-3']) c.down.add(n);
    c.clock.advance(60_000);
    expect(c.lifecycle.zoneState('a')).toBe('PartialDisruption');
    expect(c.lifecycle.zoneEvictionRate('a')).toBe(0);
    c.clock.advance(300_000);
    expect(['a-1', 'a-2', 'a-3'].filter((n) => c.taintKeys(n, 'NoExecute').length > 0)).toEqual([]);
    // the NoSchedule taint still keeps new pods off them
    expect(c.taintKeys('a-1', 'NoSchedule')).toEqual(['node.kubernetes.io/unreachable']);
  });

  it('evicts nothing when every zone is fully disrupted', () => {
    const c = cluster({ a: 2, b: 2 });
    for (const n of c.names) c.down.add(n);
    c.clock.advance(120_000);
    expect(c.names.filter((n) => c.taintKeys(n, 'NoExecute').length > 0)).toEqual([]);
    expect(c.lifecycle.zoneEvictionRate('a')).toBe(0);
  });

  it('computes zone states and rates as the documented rules say', () => {
    expect(computeZoneState(['True', 'Unknown', 'Unknown'], 0.55).state).toBe('Normal'); // not more than 2
    expect(computeZoneState(['True', 'Unknown', 'Unknown', 'False'], 0.55).state).toBe('PartialDisruption');
    expect(computeZoneState(['True', 'True', 'Unknown', 'Unknown', 'False'], 0.55).state).toBe(
      'PartialDisruption',
    );
    expect(computeZoneState(['True', 'True', 'True', 'Unknown', 'Unknown', 'False'], 0.55).state).toBe(
      'Normal',
    );
    expect(computeZoneState(['Unknown', 'Unknown'], 0.55).state).toBe('FullDisruption');
    const rates = { nodeEvictionRate: 0.1, secondaryNodeEvictionRate: 0.01, largeClusterSizeThreshold: 50 };
    expect(zoneEvictionQps('PartialDisruption', 51, false, rates)).toBe(0.01);
    expect(zoneEvictionQps('PartialDisruption', 50, false, rates)).toBe(0);
    expect(zoneEvictionQps('FullDisruption', 10, false, rates)).toBe(0.1);
    expect(zoneEvictionQps('Normal', 10, true, rates)).toBe(0);
  });

  it('minTolerationSeconds: the smallest limit of the tolerations used, 0 when a taint is not tolerated', () => {
    const taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
    expect(minTolerationSeconds([], [taint])).toBe(0);
    expect(minTolerationSeconds([{ operator: 'Exists' }], [taint])).toBeUndefined();
    expect(
      minTolerationSeconds(
        [
          { key: taint.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
          { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 },
        ],
        [taint],
      ),
    ).toBe(60);
  });
});

describe('NodeHeartbeats', () => {
  it('a running kubelet is always current (a stalled control plane never reads as a silent node); a stopped one last renewed at its last 10 s tick', async () => {
    const clock = new ManualClock();
    const store = new ObjectStore(() => clock.now());
    const events = new EventRecorder(store, clock);
    store.create(node('n1', 'a'));
    const calls: string[] = [];
    const beats = new NodeHeartbeats({
      stopNode: async (n) => void calls.push(`stop ${n}`),
      partitionNode: (n) => void calls.push(`partition ${n}`),
      startNode: (n) => void calls.push(`start ${n}`),
    });
    beats.start({ store, clock, events, log: () => {} });
    const t0 = clock.now();
    clock.advance(600_000); // no timer ran for 10 minutes
    expect(beats.lastHeartbeat('n1')).toBe(clock.now());
    clock.advance(7_000);
    await beats.stopNode('n1');
    expect(beats.lastHeartbeat('n1')).toBe(t0 + 600_000);
    clock.advance(100_000);
    expect(beats.lastHeartbeat('n1')).toBe(t0 + 600_000);
    beats.startNode('n1');
    expect(beats.lastHeartbeat('n1')).toBe(clock.now());
    expect(readyOf(store.get({ kind: 'Node', name: 'n1' })!)).toBe('True');
    expect(calls).toEqual(['stop n1', 'start n1']);
  });
});
