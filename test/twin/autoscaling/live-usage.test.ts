import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import {
  EmulatedUsage,
  HorizontalPodAutoscalerController,
  LiveUsage,
} from '../../../twin/autoscaling/index.ts';
import { parseProcStat, processGroupsUsage } from '../../../twin/kubelet/process-usage.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';
import { ManualClock } from '../nodes/manual-clock.ts';

const hasProc = existsSync('/proc/self/stat');

/** A process group of its own (as the kubelet starts a live container): busy for cpu, idle otherwise. */
function container(kind: 'busy' | 'idle' | 'forks-busy'): ChildProcess {
  const script = {
    busy: 'for(;;){}',
    idle: 'setInterval(()=>{},1000)',
    // The work is done by short-lived children the parent reaps, as the watchdog forks each call.
    'forks-busy': `const {spawnSync}=require('node:child_process');for(;;)spawnSync(process.execPath,['-e','const t=Date.now()+300;while(Date.now()<t){}'])`,
  }[kind];
  return spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore' });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('reading a process from /proc/<pid>/stat', () => {
  it('takes the fields after the command, whatever the command holds', () => {
    const line =
      '4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194304 100 0 0 0 150 50 7 3 20 0 1 0 12345 1000000 2560 18446744073709551615';
    expect(parseProcStat(line)).toEqual({ pgrp: 4242, ticks: 210, rssPages: 2560 });
  });
});

describe.skipIf(!hasProc)('live pods’ usage, measured from their processes (needs /proc)', () => {
  const started: ChildProcess[] = [];
  afterEach(() => {
    for (const c of started.splice(0)) if (c.pid) process.kill(-c.pid, 'SIGKILL');
  });

  it('counts a busy container as about one core and an idle one as almost none, and their memory', async () => {
    const busy = container('busy');
    const idle = container('idle');
    started.push(busy, idle);
    const pods: KubeObject[] = [
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'busy', namespace: 'fn', uid: 'u-busy' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'idle', namespace: 'fn', uid: 'u-idle' } },
    ];
    const groups: Record<string, number[]> = { 'u-busy': [busy.pid!], 'u-idle': [idle.pid!] };
    const live = new LiveUsage(
      (p) => groups[p.metadata.uid!],
      () => pods,
    );
    live.sampleAll();
    expect(live.podUsage(pods[0]!, 'cpu')).toBeUndefined(); // one sample: no rate yet
    await sleep(2000);
    live.sampleAll();
    // On a loaded 2-core machine a spinning process gets less than a core; idle gets next to nothing.
    expect(live.podUsage(pods[0]!, 'cpu')!).toBeGreaterThan(0.25);
    expect(live.podUsage(pods[1]!, 'cpu')!).toBeLessThan(0.15);
    expect(live.podUsage(pods[1]!, 'memory')!).toBeGreaterThan(10 * 1024 * 1024); // node's own RSS
  }, 15_000);

  it('counts the CPU time of children the container forked and reaped (the watchdog’s calls)', async () => {
    const forks = container('forks-busy');
    started.push(forks);
    const before = processGroupsUsage(new Set([forks.pid!])).get(forks.pid!)!;
    await sleep(2500);
    const after = processGroupsUsage(new Set([forks.pid!])).get(forks.pid!)!;
    // The parent itself only waits: nearly all of this is its children's, running or reaped.
    expect(after.cpuSeconds - before.cpuSeconds).toBeGreaterThan(0.4);
  }, 15_000);

  it('feeds the HorizontalPodAutoscaler: busy live pods scale their Deployment out, emulated usage is not needed', async () => {
    const clock = new ManualClock();
    const store = new ObjectStore(() => clock.now());
    const groups = new Map<string, number[]>();
    const live = new LiveUsage(
      (p) => groups.get(p.metadata.uid ?? ''),
      () => store.list({ kind: 'Pod' }),
    );
    const hpa = new HorizontalPodAutoscalerController(new EmulatedUsage(), undefined, undefined, true, live);
    hpa.start({
      store,
      clock,
      events: new EventRecorder(store, clock),
      log: (m) => {
        throw new Error(m);
      },
    });
    store.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'fn', namespace: 'fn' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'fn' } } },
    });
    store.create({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'fn', namespace: 'fn' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'fn' },
        minReplicas: 2,
        maxReplicas: 20,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
          },
        ],
      },
    });
    for (const i of [0, 1]) {
      const c = container('busy');
      started.push(c);
      const p = store.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `fn-${i}`, namespace: 'fn', labels: { app: 'fn' } },
        spec: { containers: [{ name: 'fn', image: 'fn', resources: { requests: { cpu: '100m' } } }] },
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
      });
      groups.set(p.metadata.uid!, [c.pid!]);
    }
    live.sampleAll();
    await sleep(2000);
    live.sampleAll();
    clock.advance(15_000);
    const replicas = store.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'fn', name: 'fn' })!
      .spec.replicas;
    // Each pod uses more than 250 % of its 100m request: ceil(2 × ≥ 2.5/0.7) ≥ 8, limited to 2 + 4 in 15 s.
    expect(replicas).toBe(6);
    const status = store.get({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      namespace: 'fn',
      name: 'fn',
    })!.status;
    expect(status.currentMetrics[0].resource.current.averageUtilization).toBeGreaterThan(250);
  }, 15_000);
});
