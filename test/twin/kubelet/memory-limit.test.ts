import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../kube/clock.ts';
import { TwinBindings } from '../../../system/twin-bindings.ts';
import { Kubelet } from '../../../twin/kubelet/kubelet.ts';
import { memoryLimitBytes } from '../../../twin/kubelet/memory-limit.ts';
import { WorkloadBundler } from '../../../twin/kubelet/workload-bundler.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';
import { until } from './process-state.ts';

// Grows by 16 MiB every 50 ms (touched, so it is resident) and holds it.
const GROW = `const held=[];setInterval(()=>held.push(Buffer.alloc(16<<20,1)),50)`;
// Stays at a few tens of MiB.
const STEADY = `const held=Buffer.alloc(8<<20,1);setInterval(()=>held[0]++,50)`;

describe('a live container over its memory limit', () => {
  let kubelet: Kubelet | undefined;
  afterEach(async () => {
    await kubelet?.shutdown(500);
  });

  it('reads the limit as a quantity', () => {
    expect(memoryLimitBytes({ resources: { limits: { memory: '256Mi' } } })).toBe(256 * 1024 * 1024);
    expect(memoryLimitBytes({})).toBeUndefined();
  });

  it('is OOMKilled (exit 137, reason OOMKilled) and restarted per its policy; one under it keeps running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twin-oom-'));
    const clock = new ScaledClock(100);
    const store = new ObjectStore(() => clock.now());
    let ip = 0;
    kubelet = new Kubelet({
      bindings: new TwinBindings(
        [
          { image: 'twin.test/grow', command: [process.execPath, '-e', GROW] },
          { image: 'twin.test/steady', command: [process.execPath, '-e', STEADY] },
        ],
        dir,
      ),
      bundler: new WorkloadBundler(join(dir, 'bundles')),
      podsDir: join(dir, 'pods'),
      volumesDir: join(dir, 'volumes'),
      cwd: dir,
      allocatePodIp: () => `127.10.251.${++ip + 1}`,
      releasePodIp: () => {},
      nodeImports: [],
      dnsFile: join(dir, 'dns.json'),
    });
    kubelet.start({ store, clock, events: new EventRecorder(store, clock), log: () => {} });
    store.create({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-a' },
      status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] },
    });
    const pod = (name: string, image: string) =>
      store.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default' },
        spec: {
          nodeName: 'node-a',
          restartPolicy: 'Always',
          containers: [{ name: 'fn', image, resources: { limits: { memory: '128Mi' } } }],
        },
      });
    pod('grows', 'twin.test/grow:1');
    pod('steady', 'twin.test/steady:1');
    const status = (name: string) =>
      store.get({ kind: 'Pod', namespace: 'default', name })?.status?.containerStatuses?.[0];
    await until(
      'the growing container was OOMKilled and restarted',
      () => (status('grows')?.restartCount ?? 0) >= 1,
      20_000,
    );
    expect(status('grows').lastState.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(status('steady').restartCount).toBe(0);
    expect(status('steady').state.running).toBeDefined();
  }, 30_000);
});
