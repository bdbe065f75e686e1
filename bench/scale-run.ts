/**
 * One size of `npm run bench -- scale` (bench/scale.ts), in a process of its own:
 * `node --import tsx bench/scale-run.ts <nodes> <pods per node> <timeout s>` writes the system to a
 * temporary directory, brings it up with `Twin.up` and prints one JSON line (ScaleResult).
 */

import { mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_TIME_SCALE } from '../kube/clock.ts';
import { loadSystem, resolveSystem } from '../system/system.ts';
import { Twin } from '../twin/twin.ts';
import type { ScaleResult } from './scale.ts';

const DEPLOYMENTS = 30;
const NAMESPACE = 'scale';
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

/** infra/<system>/ for N nodes: topology, bindings (none: every container emulated) and one overlay. */
async function writeSystem(dir: string, nodes: number, podsPerNode: number): Promise<void> {
  const replicas = Math.round((nodes * podsPerNode) / DEPLOYMENTS);
  await writeFile(
    path.join(dir, 'topology.yaml'),
    `apiVersion: twin.dev/v1alpha1
kind: Topology
metadata: { name: scale-${nodes} }
region: us-east-1
zones: [${ZONES.join(', ')}]
nodePools:
  - { name: general, instanceType: m5.2xlarge, nodes: ${nodes} }
network:
  nodeSubnets: { us-east-1a: 10.0.0.0/20, us-east-1b: 10.0.16.0/20, us-east-1c: 10.0.32.0/20 }
`,
  );
  await writeFile(
    path.join(dir, 'twin-bindings.yaml'),
    'apiVersion: twin.dev/v1alpha1\nkind: TwinBindings\nimages: []\n',
  );
  const overlay = path.join(dir, 'k8s', 'overlays', 'production');
  mkdirSync(overlay, { recursive: true });
  const docs = [`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NAMESPACE}\n`];
  for (let i = 1; i <= DEPLOYMENTS; i++) {
    const name = `svc-${String(i).padStart(2, '0')}`;
    docs.push(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${NAMESPACE}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
        - name: app
          image: registry.example.com/scale/${name}:1.0.0
          resources:
            requests: { cpu: 100m, memory: 128Mi }
            limits: { memory: 256Mi }
`);
  }
  await writeFile(path.join(overlay, 'workloads.yaml'), docs.join('---\n'));
  await writeFile(path.join(overlay, 'kustomization.yaml'), 'resources:\n  - workloads.yaml\n');
}

const [nodes, podsPerNode, timeoutS] = process.argv.slice(2).map(Number) as [number, number, number];
const root = await mkdtemp(path.join(os.tmpdir(), 'twin-bench-scale-'));
const systemDir = path.join(root, `scale-${nodes}`);
mkdirSync(systemDir);
await writeSystem(systemDir, nodes, podsPerNode);
const system = await loadSystem(await resolveSystem(systemDir), 'production');
const pods = Math.round((nodes * podsPerNode) / DEPLOYMENTS) * DEPLOYMENTS;

const bound = new Set<string>();
const ready = new Set<string>();
let firstBind: number | undefined;
let allBound: number | undefined;
let allReady: number | undefined;
const t0 = performance.now();
const result: ScaleResult = { nodes, pods, bound: 0, ready: 0, peakRssMb: 0, loadAverage: 0 };
let twin: Twin | undefined;
let stored: import('../twin/store/object-store.ts').ObjectStore | undefined;
try {
  twin = await Twin.up({
    system,
    timeScale: DEFAULT_TIME_SCALE,
    workDir: path.join(root, 'work'),
    readyTimeoutMs: timeoutS * 1000,
    observeStore: (store) => {
      stored = store;
      store.observe((e) => {
        if (e.typeKey !== '/Pod' || e.object.metadata.namespace !== NAMESPACE || e.type === 'DELETED') return;
        const uid = e.object.metadata.uid!;
        if (e.object.spec?.nodeName && !bound.has(uid)) {
          bound.add(uid);
          firstBind ??= performance.now();
          if (bound.size === pods) allBound = performance.now();
        }
        if (
          !ready.has(uid) &&
          (e.object.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')
        ) {
          ready.add(uid);
          if (ready.size === pods) allReady = performance.now();
        }
      });
    },
  });
  result.upS = (performance.now() - t0) / 1000;
} catch (err) {
  result.error = (err as Error).message.split('\n')[0];
  // Where the pods were when the wait ran out: how many exist, how many the scheduler tried.
  if (stored) {
    const all = stored.listShared('/Pod').filter((p) => p.metadata.namespace === NAMESPACE);
    const tried = all.filter((p) =>
      (p.status?.conditions ?? []).some((c: any) => c.type === 'PodScheduled' && c.status === 'False'),
    ).length;
    const replicaSets = stored
      .listShared('apps/ReplicaSet')
      .map((rs) => `${rs.status?.replicas ?? 0}/${rs.spec?.replicas}`);
    result.error += ` [${all.length} pods exist, ${tried} of them tried and unschedulable; ReplicaSets status/spec replicas: ${replicaSets.slice(0, 5).join(', ')}, …]`;
  }
} finally {
  result.bound = bound.size;
  result.ready = ready.size;
  if (allBound !== undefined) result.boundS = (allBound - t0) / 1000;
  if (allReady !== undefined) result.readyS = (allReady - t0) / 1000;
  if (allBound !== undefined && firstBind !== undefined && allBound > firstBind)
    result.podsPerSecond = pods / ((allBound - firstBind) / 1000);
  result.peakRssMb = process.resourceUsage().maxRSS / 1024;
  result.loadAverage = os.loadavg()[0]!;
  await twin?.down();
  await rm(root, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(0);
