import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../kube/clock.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { TwinBindings } from '../../../system/twin-bindings.ts';
import type { Controller, ControllerContext } from '../../../twin/controllers/controller.ts';
import { StatefulSetController } from '../../../twin/controllers/stateful-set.ts';
import { Kubelet } from '../../../twin/kubelet/kubelet.ts';
import { WorkloadBundler } from '../../../twin/kubelet/workload-bundler.ts';
import { SchedulerController } from '../../../twin/scheduler/scheduler-controller.ts';
import { PersistentVolumeController } from '../../../twin/storage/persistent-volume-controller.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';
import { isAlive, until } from './process-state.ts';

const CONTAINER_PATHS = fileURLToPath(new URL('../../../twin/data/container-paths.ts', import.meta.url));

/**
 * A live workload that counts its starts in three places: on its PersistentVolumeClaim (/data), in
 * an emptyDir (/cache) and in its own writable layer (/tmp, no volume). GET /state answers the three
 * counts; GET /crash exits so that the kubelet restarts the container.
 */
const WORKLOAD = `
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { podPath } from ${JSON.stringify(CONTAINER_PATHS)};
const bump = (containerPath) => {
  const file = podPath(containerPath);
  mkdirSync(path.dirname(file), { recursive: true });
  let n = 0;
  try { n = Number(readFileSync(file, 'utf8')); } catch {}
  writeFileSync(file, String(n + 1));
  return n + 1;
};
const state = { data: bump('/data/starts'), cache: bump('/cache/starts'), layer: bump('/tmp/starts'), file: podPath('/data/starts') };
http.createServer((req, res) => {
  if (req.url === '/crash') { res.end('bye'); setTimeout(() => process.exit(3), 5); return; }
  res.end(JSON.stringify(state));
}).listen(8080, process.env.POD_IP);
process.on('SIGTERM', () => process.exit(0));
`;

const IMAGE = 'twin.test/counter';
let dir: string;
let bundler: WorkloadBundler;
let store: ObjectStore;
let kubelet: Kubelet;
let controllers: Controller[] = [];
let ipSeq = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twin-volumes-'));
  writeFileSync(join(dir, 'counter.ts'), WORKLOAD);
  bundler = new WorkloadBundler(join(dir, 'bundles'));
  await bundler.bundle(join(dir, 'counter.ts'));
});

afterEach(async () => {
  for (const c of controllers) c.stop();
  controllers = [];
  const pids = kubelet.livePids();
  await kubelet.shutdown(500);
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
});

function start(): { deleted: string[]; volumesDir: string; podsDir: string } {
  const clock = new ScaledClock(100);
  store = new ObjectStore(() => clock.now());
  const ctx: ControllerContext = { store, clock, events: new EventRecorder(store, clock), log: () => {} };
  const deleted: string[] = [];
  const volumesDir = join(dir, `volumes-${++ipSeq}`);
  const podsDir = join(dir, `pods-${++ipSeq}`);
  kubelet = new Kubelet({
    bindings: new TwinBindings([{ image: IMAGE, entry: 'counter.ts' }], dir),
    bundler,
    podsDir,
    volumesDir,
    cwd: dir,
    allocatePodIp: () => `127.10.9.${(++ipSeq % 250) + 1}`,
    releasePodIp: () => {},
    nodeImports: [],
    dnsFile: join(dir, 'dns.json'),
  });
  controllers = [
    new SchedulerController(),
    new PersistentVolumeController({
      provisioners: [{ name: 'ebs.csi.aws.com', volumeTopology: 'zone' }],
      onVolumeDeleted: (pv) => deleted.push(pv.metadata.name),
    }),
    new StatefulSetController(),
  ];
  for (const c of controllers) c.start(ctx);
  kubelet.start(ctx);
  store.create({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: 'node-a',
      labels: { 'kubernetes.io/hostname': 'node-a', 'topology.kubernetes.io/zone': 'zone-a' },
    },
    status: {
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
    },
  });
  store.create({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'gp3' },
    provisioner: 'ebs.csi.aws.com',
    volumeBindingMode: 'WaitForFirstConsumer',
    reclaimPolicy: 'Delete',
  });
  return { deleted, volumesDir, podsDir };
}

const SET: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'counter', namespace: 'default' },
  spec: {
    replicas: 1,
    serviceName: 'counter',
    selector: { matchLabels: { app: 'counter' } },
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' },
    template: {
      metadata: { labels: { app: 'counter' } },
      spec: {
        containers: [
          {
            name: 'counter',
            image: `${IMAGE}:1`,
            env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
            volumeMounts: [
              { name: 'data', mountPath: '/data' },
              { name: 'cache', mountPath: '/cache' },
            ],
          },
        ],
        volumes: [{ name: 'cache', emptyDir: {} }],
      },
    },
    volumeClaimTemplates: [
      {
        metadata: { name: 'data' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: 'gp3',
          resources: { requests: { storage: '1Gi' } },
        },
      },
    ],
  },
};

const pod = () => store.get({ kind: 'Pod', namespace: 'default', name: 'counter-0' });

/** The counts of the current counter-0 process, once it answers. */
async function state(
  notUid?: string,
  restarts = 0,
): Promise<{ data: number; cache: number; layer: number; file: string }> {
  return until(
    'counter-0 to answer',
    () => {
      const p = pod();
      const ip = p?.status?.podIP;
      const cs = p?.status?.containerStatuses?.[0];
      if (!ip || p?.metadata.uid === notUid || cs?.restartCount !== restarts || !cs?.state?.running)
        return undefined;
      return ip as string;
    },
    20_000,
  ).then(async (ip) => {
    for (;;) {
      try {
        return (await (await fetch(`http://${ip}:8080/state`)).json()) as never;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
}

describe('volumes of live containers', () => {
  it('keeps a claim’s files across a container restart and a pod recreation; emptyDir lives with the pod, the writable layer with the container', async () => {
    const { deleted, volumesDir } = start();
    store.create(SET);
    const first = await state();
    expect(first).toMatchObject({ data: 1, cache: 1, layer: 1 });
    const claim = store.get({ kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data-counter-0' })!;
    expect(first.file).toBe(join(volumesDir, claim.spec.volumeName, 'starts'));

    // The container crashes: the kubelet restarts it in the same pod.
    await fetch(`http://${pod()!.status.podIP}:8080/crash`);
    const restarted = await state(undefined, 1);
    expect(restarted).toMatchObject({ data: 2, cache: 2, layer: 1 });

    // The pod is deleted: the StatefulSet makes a new counter-0 with the same claim.
    const uid = pod()!.metadata.uid;
    store.delete({ kind: 'Pod', namespace: 'default', name: 'counter-0' });
    const recreated = await state(uid);
    expect(recreated).toMatchObject({ data: 3, cache: 1, layer: 1 });
    expect(readFileSync(recreated.file, 'utf8')).toBe('3');

    // The set goes with its claims (whenDeleted: Delete); the volume is deleted (reclaimPolicy Delete).
    store.delete({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: 'default', name: 'counter' });
    await until('the volume deleted', () => deleted.length === 1, 10_000);
    expect(deleted).toEqual([claim.spec.volumeName]);
  }, 60_000);

  it('keeps a pod whose claim is not bound in ContainerCreating with FailedMount', async () => {
    const { volumesDir } = start();
    store.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'direct', namespace: 'default' },
      spec: {
        nodeName: 'node-a',
        containers: [
          { name: 'counter', image: `${IMAGE}:1`, volumeMounts: [{ name: 'data', mountPath: '/data' }] },
        ],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'nowhere' } }],
      },
    });
    const event = await until('FailedMount', () =>
      store.list({ kind: 'Event' }).find((e) => e.reason === 'FailedMount'),
    );
    expect(event.message).toBe(
      'Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process volumes=[data]: error processing PVC default/nowhere: failed to fetch PVC from API server: persistentvolumeclaims "nowhere" not found',
    );
    const cs = store.get({ kind: 'Pod', namespace: 'default', name: 'direct' })?.status
      ?.containerStatuses?.[0];
    expect(cs?.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    expect(kubelet.livePids()).toEqual([]);
    expect(existsSync(volumesDir)).toBe(false);
  });

  it('a secret volume’s files are there while the container runs and gone once the kubelet shut down (tmpfs on a node)', async () => {
    const { podsDir } = start();
    const value = 'twin-test-secret-value-8c1f';
    store.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds', namespace: 'default' },
      data: { password: Buffer.from(value).toString('base64') },
    });
    const set = structuredClone(SET);
    set.spec.template.spec.volumes.push({ name: 'creds', secret: { secretName: 'creds' } });
    set.spec.template.spec.containers[0].volumeMounts.push({ name: 'creds', mountPath: '/etc/creds' });
    store.create(set);
    await state();
    const holding = () => {
      const out: string[] = [];
      const walk = (d: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          if (e.isDirectory()) walk(p);
          else if (e.isFile() && readFileSync(p, 'utf8').includes(value)) out.push(p);
        }
      };
      walk(podsDir);
      return out;
    };
    expect(holding().some((p) => p.endsWith(join('secret', 'creds', 'password')))).toBe(true);
    await kubelet.shutdown(500);
    expect(holding()).toEqual([]);
  }, 60_000);
});
