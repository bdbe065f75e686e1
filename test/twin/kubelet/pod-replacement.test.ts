import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../kube/clock.ts';
import { TwinBindings } from '../../../system/twin-bindings.ts';
import { Kubelet } from '../../../twin/kubelet/kubelet.ts';
import { WorkloadBundler } from '../../../twin/kubelet/workload-bundler.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';
import { until } from './process-state.ts';

describe('a pod recreated under the same name (a StatefulSet pod)', () => {
  let kubelet: Kubelet | undefined;
  afterEach(async () => {
    await kubelet?.shutdown(500);
  });

  it('starts its containers only once the deleted pod’s containers have stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twin-replacement-'));
    const journal = join(dir, 'journal');
    // The container takes 1 s to stop on SIGTERM (as a server that flushes), writing to a shared file.
    const script = `echo "start $TWIN_POD_IP" >> ${journal}; trap 'sleep 1; echo "stop $TWIN_POD_IP" >> ${journal}; exit 0' TERM; while :; do sleep 0.05; done`;
    const clock = new ScaledClock(100);
    const store = new ObjectStore(() => clock.now());
    let ip = 0;
    kubelet = new Kubelet({
      bindings: new TwinBindings([{ image: 'twin.test/sh', command: ['/bin/sh', '-c', script] }], dir),
      bundler: new WorkloadBundler(join(dir, 'bundles')),
      podsDir: join(dir, 'pods'),
      volumesDir: join(dir, 'volumes'),
      cwd: dir,
      allocatePodIp: () => `127.10.250.${++ip + 1}`,
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
    const pod = () => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'db-0', namespace: 'default' },
      spec: { nodeName: 'node-a', containers: [{ name: 'db', image: 'twin.test/sh:1' }] },
    });
    const lines = () => {
      try {
        return readFileSync(journal, 'utf8').trim().split('\n');
      } catch {
        return [];
      }
    };
    store.create(pod());
    await until('the first container started', () => lines().length === 1, 10_000);
    store.delete({ kind: 'Pod', namespace: 'default', name: 'db-0' });
    store.create(pod());
    await until('the replacement started', () => lines().length === 3, 15_000);
    const [first, second, third] = lines();
    expect(first).toBe('start 127.10.250.2');
    expect(second).toBe('stop 127.10.250.2');
    expect(third).toBe('start 127.10.250.3');
  });
});
