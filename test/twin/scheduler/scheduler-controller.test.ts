import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../kube/clock.ts';
import type { KubeObject } from '../../../kube/object.ts';
import type { ControllerContext } from '../../../twin/controllers/controller.ts';
import { SchedulerController } from '../../../twin/scheduler/scheduler-controller.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';
import { pod, productionNodes } from './fixtures.ts';

async function waitUntil(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const settle = () => new Promise((r) => setTimeout(r, 30));

function setup() {
  const clock = new ScaledClock(10);
  const store = new ObjectStore(() => clock.now());
  const log: string[] = [];
  const ctx: ControllerContext = {
    store,
    clock,
    events: new EventRecorder(store, clock),
    log: (m) => log.push(m),
  };
  for (const n of productionNodes()) store.create(n);
  const scheduler = new SchedulerController();
  return { store, ctx, scheduler, log };
}

const podsOf = (store: ObjectStore) => store.list({ kind: 'Pod' });
const eventsOf = (store: ObjectStore, reason: string) =>
  store.list({ kind: 'Event' }).filter((e) => e.reason === reason);
const condition = (p: KubeObject) =>
  (p.status?.conditions ?? []).find((c: { type: string }) => c.type === 'PodScheduled');

describe('SchedulerController', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('places a burst of 30 pods within node capacity and leaves the rest Pending', async () => {
    const { store, ctx, scheduler, log } = setup();
    scheduler.start(ctx);
    stop = () => scheduler.stop();
    for (let i = 0; i < 30; i++) {
      store.create(
        pod(`api-${String(i).padStart(2, '0')}`, {
          labels: { app: 'api' },
          owner: 'api-5f6',
          cpu: '500m',
          memory: '256Mi',
        }),
      );
    }
    await waitUntil('every pod to be tried', () => podsOf(store).every((p) => condition(p)));
    const pods = podsOf(store);
    const bound = pods.filter((p) => p.spec.nodeName);
    // 1930m allocatable per t3.large holds three 500m pods; the GPU nodes' taint keeps them off.
    expect(bound.length).toBe(18);
    const perNode = new Map<string, number>();
    for (const p of bound) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    expect([...perNode.keys()].sort()).toEqual([
      'general-1a-1',
      'general-1a-2',
      'general-1a-3',
      'general-1c-1',
      'general-1c-2',
      'general-1c-3',
    ]);
    expect([...perNode.values()].every((n) => n === 3)).toBe(true);
    for (const p of bound) {
      expect(p.status.phase).toBe('Pending');
      expect(condition(p)).toMatchObject({ status: 'True' });
    }
    // Scheduled in creation order: the first 18 created are the ones placed.
    expect(bound.map((p) => p.metadata.name).sort()).toEqual(
      Array.from({ length: 18 }, (_, i) => `api-${String(i).padStart(2, '0')}`),
    );

    const pending = pods.filter((p) => !p.spec.nodeName);
    const message =
      '0/8 nodes are available: 2 node(s) had untolerated taint {nvidia.com/gpu: true}, 6 Insufficient cpu. ' +
      'preemption: 0/8 nodes are available: 2 Preemption is not helpful for scheduling, 6 No preemption victims found for incoming pod.';
    for (const p of pending) {
      expect(p.status.phase).toBe('Pending');
      expect(condition(p)).toMatchObject({ status: 'False', reason: 'Unschedulable', message });
    }

    const scheduled = eventsOf(store, 'Scheduled');
    expect(scheduled.length).toBe(18);
    expect(scheduled.find((e) => (e.involvedObject as { name: string }).name === 'api-00')).toMatchObject({
      type: 'Normal',
      message: expect.stringMatching(/^Successfully assigned default\/api-00 to general-1[ac]-\d$/),
      source: { component: 'default-scheduler' },
    });
    const failed = eventsOf(store, 'FailedScheduling');
    expect(failed.length).toBe(12);
    expect(failed[0]).toMatchObject({ type: 'Warning', message, source: { component: 'default-scheduler' } });
    expect(log).toEqual([]);
  });

  it('retries unschedulable pods when pods or nodes change, without repeating the same Warning', async () => {
    const { store, ctx, scheduler } = setup();
    scheduler.start(ctx);
    stop = () => scheduler.stop();
    const gpuPod = (name: string) =>
      pod(name, {
        cpu: '1',
        memory: '2Gi',
        gpu: 1,
        spec: { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }] },
      });
    for (const name of ['train-1', 'train-2', 'train-3']) store.create(gpuPod(name));
    await waitUntil('the GPU pods to be tried', () => podsOf(store).every((p) => condition(p)));
    const waiting = podsOf(store).filter((p) => !p.spec.nodeName);
    expect(waiting.map((p) => p.metadata.name)).toEqual(['train-3']);
    expect(
      podsOf(store)
        .filter((p) => p.spec.nodeName)
        .map((p) => p.spec.nodeName)
        .sort(),
    ).toEqual(['gpu-1a-1', 'gpu-1c-1']);

    // An unrelated pod change retries train-3; the message is unchanged, so no second Warning.
    store.create(pod('web', { cpu: '100m' }));
    await waitUntil('web to be placed', () =>
      Boolean(store.get({ kind: 'Pod', namespace: 'default', name: 'web' })?.spec.nodeName),
    );
    await settle();
    expect(eventsOf(store, 'FailedScheduling').length).toBe(1);

    // train-1 finishes: its GPU is free again and train-3 takes it.
    const done = podsOf(store).find((p) => p.metadata.name === 'train-1')!;
    store.patch({ kind: 'Pod', namespace: 'default', name: 'train-1' }, (p) => {
      p.status.phase = 'Succeeded';
    });
    await waitUntil('train-3 to be placed', () =>
      Boolean(store.get({ kind: 'Pod', namespace: 'default', name: 'train-3' })?.spec.nodeName),
    );
    const train3 = store.get({ kind: 'Pod', namespace: 'default', name: 'train-3' })!;
    expect(train3.spec.nodeName).toBe(done.spec.nodeName);
    expect(condition(train3)).toMatchObject({ status: 'True' });
  });

  it('ignores pods for other schedulers and places pods once a node is uncordoned', async () => {
    const { store, ctx, scheduler } = setup();
    for (const n of store.list({ kind: 'Node' })) {
      store.patch({ kind: 'Node', name: n.metadata.name }, (x) => {
        x.spec.unschedulable = true;
      });
    }
    store.create(pod('mine', { cpu: '100m' }));
    store.create(pod('theirs', { spec: { schedulerName: 'volcano' } }));
    scheduler.start(ctx);
    stop = () => scheduler.stop();
    await waitUntil('mine to be tried', () =>
      Boolean(condition(store.get({ kind: 'Pod', namespace: 'default', name: 'mine' })!)),
    );
    expect(condition(store.get({ kind: 'Pod', namespace: 'default', name: 'mine' })!)).toMatchObject({
      status: 'False',
      message: expect.stringContaining('0/8 nodes are available: 8 node(s) were unschedulable.'),
    });
    store.patch({ kind: 'Node', name: 'general-1c-2' }, (x) => {
      x.spec.unschedulable = false;
    });
    await waitUntil('mine to be placed', () =>
      Boolean(store.get({ kind: 'Pod', namespace: 'default', name: 'mine' })!.spec.nodeName),
    );
    expect(store.get({ kind: 'Pod', namespace: 'default', name: 'mine' })!.spec.nodeName).toBe(
      'general-1c-2',
    );
    await settle();
    expect(store.get({ kind: 'Pod', namespace: 'default', name: 'theirs' })!.spec.nodeName).toBeUndefined();
    expect(condition(store.get({ kind: 'Pod', namespace: 'default', name: 'theirs' })!)).toBeUndefined();
  });

  it('places a thousand pending pods in slices, letting other work run in between', async () => {
    const { store, ctx } = setup();
    // Slices of no time at all: every pod in a turn of its own, whatever the machine's speed.
    const scheduler = new SchedulerController({ sliceMs: 0 });
    scheduler.start(ctx);
    stop = () => scheduler.stop();
    for (let i = 0; i < 1000; i++)
      store.create(pod(`web-${i}`, { labels: { app: 'web' }, owner: 'web-5f6', cpu: '1m', memory: '1Mi' }));
    // A timer of the event loop gets its turn while the queue is still being worked through.
    let boundWhenTimerRan = -1;
    setImmediate(() => {
      boundWhenTimerRan = podsOf(store).filter((p) => p.spec.nodeName).length;
    });
    await waitUntil('every pod tried', () => podsOf(store).every((p) => condition(p)), 60_000);
    const pods = podsOf(store);
    expect(boundWhenTimerRan).toBeGreaterThanOrEqual(0);
    expect(boundWhenTimerRan).toBeLessThan(pods.filter((p) => p.spec.nodeName).length);
    // 35 pods per t3.large (its pod capacity), GPU nodes tainted: the six general and two other nodes fill up.
    const perNode = new Map<string, number>();
    for (const p of pods.filter((x) => x.spec.nodeName))
      perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    for (const n of perNode.values()) expect(n).toBeLessThanOrEqual(35);
    expect(pods.filter((p) => condition(p)?.status === 'False').length).toBe(
      1000 - [...perNode.values()].reduce((a, b) => a + b, 0),
    );
  });
});
