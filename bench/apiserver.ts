/**
 * `npm run bench -- apiserver`: the twin's API server against the figures of issue 10.
 *   - `kubectl get pods -A` against the running AI platform (target ≤ 150 ms; kubectl's own start-up
 *     is measured beside it with `kubectl version --client`);
 *   - write-to-watch latency: a store commit (a controller's write) and an API write (POST), each until
 *     a watching client has read the event (target ≤ 5 ms);
 *   - 1,000 informers (list + watch, in a child process) over 10,000 ConfigMaps, then 2,000 updates:
 *     every cache must end equal to the store with every update seen (no event dropped).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ScaledClock } from '../kube/clock.ts';
import type { KubeObject } from '../kube/object.ts';
import { loadSystem, resolveSystem } from '../system/system.ts';
import { ApiServer } from '../twin/apiserver/api-server.ts';
import { SYSTEM_NAMESPACES, systemNamespace } from '../twin/apiserver/in-cluster.ts';
import { EventRecorder } from '../twin/store/event-recorder.ts';
import { ObjectStore } from '../twin/store/object-store.ts';
import { Twin } from '../twin/twin.ts';

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;

async function benchKubectl(runs: number): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'twin-bench-api-'));
  const twin = await Twin.up({
    system: await loadSystem(await resolveSystem('ai-platform'), 'local'),
    timeScale: 100,
    workDir: path.join(dir, 'work'),
  });
  try {
    const env = { ...process.env, KUBECONFIG: twin.apiServer.kubeconfigFile, HOME: dir };
    await execa('kubectl', ['get', 'pods', '-A'], { env }); // discovery cache filled, as for a user's second call
    const times: number[] = [];
    const startup: number[] = [];
    let pods = 0;
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      const r = await execa('kubectl', ['get', 'pods', '-A'], { env });
      times.push(performance.now() - t);
      pods = r.stdout.trim().split('\n').length - 1;
      t = performance.now();
      await execa('kubectl', ['version', '--client'], { env });
      startup.push(performance.now() - t);
    }
    // kubectl -v=6 logs each request with the time the server took to answer it.
    const verbose = await execa('kubectl', ['get', 'pods', '-A', '-v=6'], { env });
    const requests = [
      ...verbose.stderr.matchAll(/round_trippers.go:\d+\] (\w+ \S+) (\d+) \w+ in (\d+) milliseconds/g),
    ].map((m) => `${m[1]} → ${m[2]} in ${m[3]} ms`);
    console.log(
      `bench:apiserver  kubectl get pods -A (${pods} pods): median ${median(times).toFixed(0)} ms, best ${Math.min(...times).toFixed(0)} ms over ${runs} runs (target ≤ 150 ms); kubectl version --client alone (kubectl's own start-up): median ${median(startup).toFixed(0)} ms; requests: ${requests.join('; ')}`,
    );
  } finally {
    await twin.down();
    await rm(dir, { recursive: true, force: true });
  }
}

/** An API server over a bare store: the server and its store, no controllers. */
async function bareServer(dir: string): Promise<{ store: ObjectStore; server: ApiServer }> {
  const clock = new ScaledClock(1);
  const store = new ObjectStore(() => clock.now());
  for (const ns of SYSTEM_NAMESPACES) store.create(systemNamespace(ns));
  const server = new ApiServer({
    store,
    clock,
    events: new EventRecorder(store, clock),
    pkiDir: path.join(dir, 'pki'),
    kubeconfigFile: path.join(dir, 'kubeconfig'),
  });
  await server.start();
  return { store, server };
}

async function benchWatchLatency(samples: number): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'twin-bench-api-'));
  const { store, server } = await bareServer(dir);
  try {
    store.create(systemNamespace('latency'));
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const kc = parse(readFileSync(server.kubeconfigFile, 'utf8'));
    const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
    const tls = {
      ca: b64(kc.clusters[0].cluster['certificate-authority-data']),
      cert: b64(kc.users[0].user['client-certificate-data']),
      key: b64(kc.users[0].user['client-key-data']),
    };
    const agent = new https.Agent({ ...tls, keepAlive: true });
    let waiting: ((name: string) => void) | undefined;
    await new Promise<void>((resolve) => {
      const req = https.request(
        `${server.url}/api/v1/namespaces/latency/configmaps?watch=true&resourceVersion=${store.resourceVersion}`,
        { ...tls },
        (res) => {
          let buf = '';
          res.on('data', (c) => {
            buf += c;
            let nl = buf.indexOf('\n');
            while (nl >= 0) {
              const ev = JSON.parse(buf.slice(0, nl));
              buf = buf.slice(nl + 1);
              waiting?.(ev.object.metadata.name);
              nl = buf.indexOf('\n');
            }
          });
          resolve();
        },
      );
      req.end();
    });
    const seen = (name: string) =>
      new Promise<void>((resolve) => {
        waiting = (n) => {
          if (n === name) resolve();
        };
      });
    const post = (obj: KubeObject) =>
      new Promise<void>((resolve, reject) => {
        const body = JSON.stringify(obj);
        const req = https.request(
          `${server.url}/api/v1/namespaces/latency/configmaps`,
          {
            method: 'POST',
            agent,
            headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve());
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const commit: number[] = [];
    const api: number[] = [];
    for (let i = 0; i < samples; i++) {
      const name = `c-${i}`;
      const arrived = seen(name);
      const t = performance.now();
      store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'latency' } });
      await arrived;
      commit.push(performance.now() - t);
      const apiName = `a-${i}`;
      const apiArrived = seen(apiName);
      const t2 = performance.now();
      await Promise.all([
        post({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: apiName, namespace: 'latency' } }),
        apiArrived,
      ]);
      api.push(performance.now() - t2);
    }
    console.log(
      `bench:apiserver  write-to-watch: store commit → watch event read p50 ${median(commit).toFixed(2)} ms, p99 ${pct(commit, 0.99).toFixed(2)} ms; API POST → created and event read p50 ${median(api).toFixed(2)} ms, p99 ${pct(api, 0.99).toFixed(2)} ms over ${samples} writes (target ≤ 5 ms)`,
    );
    agent.destroy();
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchInformers(
  namespaces: number,
  objectsPerNamespace: number,
  perNamespace: number,
  updates: number,
): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'twin-bench-api-'));
  const { store, server } = await bareServer(dir);
  try {
    for (let n = 0; n < namespaces; n++) {
      store.create(systemNamespace(`bench-${n}`));
      for (let i = 0; i < objectsPerNamespace; i++)
        store.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `cm-${i}`, namespace: `bench-${n}` },
          data: { v: '0' },
        });
    }
    const total = namespaces * objectsPerNamespace;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(import.meta.dirname, 'apiserver-informers.ts'),
        server.kubeconfigFile,
        String(namespaces),
        String(perNamespace),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines: string[] = [];
    let notify: (() => void) | undefined;
    let buf = '';
    child.stdout.on('data', (c) => {
      buf += c;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        notify?.();
        nl = buf.indexOf('\n');
      }
    });
    const nextLine = async () => {
      while (lines.length === 0) await new Promise<void>((r) => (notify = r));
      return lines.shift()!;
    };
    const ready = await nextLine();
    const startMs = Number(ready.split(' ')[1]);
    const updatesPerNamespace: Record<string, number> = {};
    for (let u = 0; u < updates; u++) {
      const ns = `bench-${u % namespaces}`;
      const name = `cm-${Math.floor(u / namespaces) % objectsPerNamespace}`;
      store.patch({ kind: 'ConfigMap', namespace: ns, name }, (o) => {
        o['data'] = { v: String(u + 1) };
      });
      updatesPerNamespace[ns] = (updatesPerNamespace[ns] ?? 0) + 1;
      // A controller's pace, not one synchronous burst: let the server write between batches.
      if (u % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    const expected: Record<string, Record<string, string>> = {};
    for (let n = 0; n < namespaces; n++) {
      const ns = `bench-${n}`;
      expected[ns] = Object.fromEntries(
        store
          .list({ kind: 'ConfigMap' }, { namespace: ns })
          .map((o) => [o.metadata.name, o.metadata.resourceVersion!]),
      );
    }
    child.stdin.write(`CHECK ${JSON.stringify({ expected, updatesPerNamespace })}\n`);
    const result = JSON.parse(await nextLine()) as {
      informers: number;
      converged: number;
      convergeMs: number;
      everyUpdateSeen: number;
      errors: number;
    };
    console.log(
      `bench:apiserver  ${result.informers} informers (${perNamespace} per namespace × ${namespaces} namespaces) over ${total} ConfigMaps: all listed and watching in ${(startMs / 1000).toFixed(1)} s; after ${updates} updates ${result.converged}/${result.informers} caches equal to the store within ${result.convergeMs} ms, ${result.everyUpdateSeen}/${result.informers} saw every update of their namespace (none dropped, none relisted), ${result.errors} watch errors`,
    );
    if (result.converged !== result.informers || result.everyUpdateSeen !== result.informers)
      process.exitCode = 1;
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchApiServer(args: string[]): Promise<void> {
  const only = args.find((a) => ['kubectl', 'watch', 'informers'].includes(a));
  if (!only || only === 'kubectl') await benchKubectl(option(args, 'runs', 10));
  if (!only || only === 'watch') await benchWatchLatency(option(args, 'samples', 200));
  if (!only || only === 'informers')
    await benchInformers(
      option(args, 'namespaces', 100),
      option(args, 'objects', 100),
      option(args, 'per-namespace', 10),
      option(args, 'updates', 2000),
    );
}
