import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../kube/clock.ts';
import { TwinBindings } from '../../../system/twin-bindings.ts';
import { Kubelet } from '../../../twin/kubelet/kubelet.ts';
import { WorkloadBundler } from '../../../twin/kubelet/workload-bundler.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';
import { isAlive, until } from '../kubelet/process-state.ts';

let kubelet: Kubelet | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await kubelet?.shutdown(500);
  kubelet = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A kubelet whose image writes a line to its log every 20 ms, with one pod bound to node-a. */
function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'twin-node-faults-'));
  dirs.push(dir);
  const clock = new ScaledClock(100);
  const store = new ObjectStore(() => clock.now());
  const events = new EventRecorder(store, clock);
  const released: string[] = [];
  kubelet = new Kubelet({
    bindings: new TwinBindings(
      [
        {
          image: 'twin.test/ticker',
          command: ['/bin/sh', '-c', 'while true; do echo tick; sleep 0.02; done'],
        },
      ],
      dir,
    ),
    bundler: new WorkloadBundler(join(dir, 'bundles')),
    podsDir: join(dir, 'pods'),
    volumesDir: join(dir, 'volumes'),
    cwd: dir,
    allocatePodIp: () => '127.10.251.2',
    releasePodIp: (uid) => released.push(uid),
    nodeImports: [],
    dnsFile: join(dir, 'dns.json'),
  });
  kubelet.start({ store, clock, events, log: () => {} });
  store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' }, status: { addresses: [] } });
  const pod = store.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'ticker', namespace: 'default' },
    spec: { nodeName: 'node-a', containers: [{ name: 'main', image: 'twin.test/ticker:1' }] },
  });
  const logSize = () => {
    try {
      return statSync(join(dir, 'pods', 'default_ticker', 'main.log')).size;
    } catch {
      return 0;
    }
  };
  const pid = () => kubelet!.livePids()[0];
  return { store, pod, logSize, pid, released };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Kubelet node faults', () => {
  it('partition freezes the pod (its process survives, writes nothing); healing resumes the same process', async () => {
    const k = setup();
    await until('the ticker to write', () => k.logSize() > 0, 10_000);
    const pid = k.pid()!;
    kubelet!.partitionNode('node-a');
    await sleep(100);
    const frozen = k.logSize();
    await sleep(300);
    expect(k.logSize()).toBe(frozen);
    expect(isAlive(pid)).toBe(true);
    kubelet!.startNode('node-a');
    await until('the ticker to write again', () => k.logSize() > frozen, 10_000);
    expect(k.pid()).toBe(pid);
  });

  it('stopping the node kills its containers but keeps the pod address until the pod is deleted; starting it runs the pod again', async () => {
    const k = setup();
    await until('the ticker to start', () => k.pid() !== undefined, 10_000);
    const pid = k.pid()!;
    await kubelet!.stopNode('node-a');
    await until('the container to die', () => !isAlive(pid), 5_000);
    expect(kubelet!.livePids()).toEqual([]);
    expect(k.released).toEqual([]);
    kubelet!.startNode('node-a');
    await until('the pod to run again', () => (k.pid() ?? pid) !== pid, 10_000);
    k.store.delete({ kind: 'Pod', namespace: 'default', name: 'ticker' });
    await until('the address to be released', () => k.released.length > 0, 5_000);
  });
});
