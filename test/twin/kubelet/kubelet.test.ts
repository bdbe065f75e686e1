import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../kube/clock.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { TwinBindings } from '../../../system/twin-bindings.ts';
import type { ControllerContext } from '../../../twin/controllers/controller.ts';
import { Kubelet } from '../../../twin/kubelet/kubelet.ts';
import { WorkloadBundler } from '../../../twin/kubelet/workload-bundler.ts';
import {
  claimAddressBlock,
  EmulatedPodAddresses,
  podAddressAllocator,
} from '../../../twin/network/address-allocator.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';
import { isAlive, until } from './process-state.ts';

/**
 * A tiny live workload: HTTP on $POD_IP:$PORT; /readyz turns 200 after READY_AFTER_MS; /healthz
 * fails after GET /sick; GET /crash exits with CRASH_CODE; EXIT_AFTER_MS makes it exit by itself
 * with EXIT_CODE; /env answers its environment; every request is logged to stdout.
 */
const WORKLOAD = `
import http from 'node:http';
const env = process.env;
const started = Date.now();
let healthy = true;
const exitAfter = Number(env['EXIT_AFTER_MS'] ?? -1);
if (exitAfter >= 0) setTimeout(() => process.exit(Number(env['EXIT_CODE'] ?? 0)), exitAfter);
const server = http.createServer((req, res) => {
  console.log(JSON.stringify({ msg: 'request', path: req.url }));
  if (req.url === '/readyz') {
    res.statusCode = Date.now() - started >= Number(env['READY_AFTER_MS'] ?? 0) ? 200 : 503;
    return res.end();
  }
  if (req.url === '/healthz') {
    res.statusCode = healthy ? 200 : 500;
    return res.end();
  }
  if (req.url === '/sick') healthy = false;
  if (req.url === '/crash') setTimeout(() => process.exit(Number(env['CRASH_CODE'] ?? 3)), 5);
  if (req.url === '/env') return res.end(JSON.stringify(env));
  res.end('ok');
});
server.listen(Number(env['PORT']), env['POD_IP']);
process.on('SIGTERM', () => process.exit(0));
`;

const SCALE = 100;
const IMAGE = 'twin.test/live-app';
const ORPHAN_GUARD = fileURLToPath(new URL('../../../twin/kubelet/orphan-guard.mjs', import.meta.url));

let dir: string;
let bundler: WorkloadBundler;
let store: ObjectStore;
let clock: ScaledClock;
let kubelet: Kubelet;
let log: string[];
let podsSeq = 0;
// The pods' addresses come from an address block this file claims, as a twin does: a fixed 127.10.0.x
// is block 0's, which a twin running at the same time (another test file) hands to its pods, and a live
// pod whose port is taken there exits 1 (EADDRINUSE): a Never pod Failed, an OnFailure pod restarted.
let block: ReturnType<typeof claimAddressBlock>;
const podIps = podAddressAllocator();
const emulatedIps = new EmulatedPodAddresses();
const released: string[] = [];

beforeAll(async () => {
  block = claimAddressBlock();
  podIps.narrow(block.first, block.last);
  emulatedIps.narrow(block.index);
  dir = mkdtempSync(join(tmpdir(), 'twin-kubelet-'));
  writeFileSync(join(dir, 'app.ts'), WORKLOAD);
  bundler = new WorkloadBundler(join(dir, 'bundles'));
  await bundler.bundle(join(dir, 'app.ts'));
});

function startKubelet(): void {
  clock = new ScaledClock(SCALE);
  store = new ObjectStore(() => clock.now());
  const events = new EventRecorder(store, clock);
  log = [];
  const ctx: ControllerContext = { store, clock, events, log: (m) => log.push(m) };
  kubelet = new Kubelet({
    bindings: new TwinBindings(
      [{ image: IMAGE, entry: 'app.ts', env: { BUILD_VERSION: '{{image.tag}}' } }],
      dir,
    ),
    bundler,
    podsDir: join(dir, `pods-${++podsSeq}`),
    volumesDir: join(dir, 'volumes'),
    cwd: dir,
    allocatePodIp: (uid, live) => (live ? podIps.allocate(uid) : emulatedIps.allocate(uid)),
    releasePodIp: (uid) => released.push(uid),
    nodeImports: [],
    dnsFile: join(dir, 'dns.json'),
  });
  kubelet.start(ctx);
  store.create({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-a' },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] },
  });
}

afterEach(async () => {
  const pids = kubelet.livePids();
  await kubelet.shutdown(500);
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
});

afterAll(() => {
  // nothing of ours may outlive the file
  block.release();
});

function livePod(name: string, container: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) {
  const { env = [], ...rest } = container as { env?: unknown[] };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: undefined as unknown as string },
    spec: {
      nodeName: 'node-a',
      containers: [
        {
          name: 'app',
          image: `${IMAGE}:1.2.3`,
          ports: [{ name: 'http', containerPort: 8080 }],
          env: [
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'PORT', value: '8080' },
            ...(env as unknown[]),
          ],
          ...rest,
        },
      ],
      ...spec,
    },
  } as KubeObject;
}

const ref = (name: string) => ({ kind: 'Pod', namespace: 'default', name });
const pod = (name: string) => store.get(ref(name));
const status = (name: string) => pod(name)?.status?.containerStatuses?.[0];
const ready = (p: KubeObject | undefined) =>
  p?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';
const podUrl = (name: string, path: string) => `http://${pod(name)!.status.podIP}:8080${path}`;
const pidOf = (name: string) => Number(String(status(name)?.containerID ?? '').replace('twin://', ''));

/** Every status the pod went through, in order. */
function recordStatuses(name: string): KubeObject['status'][] {
  const seen: KubeObject['status'][] = [];
  store.watch({ kind: 'Pod' }, (e) => {
    if (e.object.metadata.name === name) seen.push(e.object.status);
  });
  return seen;
}

function eventsFor(name: string): Array<{ reason: string; type: string; message: string }> {
  return store
    .list({ kind: 'Event' })
    .filter((e) => (e['involvedObject'] as { name: string }).name === name)
    .map((e) => ({
      reason: e['reason'] as string,
      type: e['type'] as string,
      message: e['message'] as string,
    }));
}

describe('Kubelet: live containers', () => {
  it('runs a bound pod: podIP, Running, Ready only after the readiness probe succeeds', async () => {
    startKubelet();
    const history = recordStatuses('web');
    const t0 = performance.now();
    store.create(
      livePod('web', {
        env: [{ name: 'READY_AFTER_MS', value: '300' }],
        readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 2 },
      }),
    );
    await until('web Ready', () => ready(pod('web')), 5000);
    const readyAfter = performance.now() - t0;
    expect(readyAfter).toBeGreaterThanOrEqual(300);
    const p = pod('web')!;
    expect(p.status.podIP).toMatch(/^127\.10\.\d+\.\d+$/);
    expect(p.status.hostIP).toBe('127.0.0.1');
    expect(p.status.phase).toBe('Running');
    expect(p.status.containerStatuses).toEqual([
      expect.objectContaining({
        name: 'app',
        image: `${IMAGE}:1.2.3`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: expect.any(String) } },
        containerID: expect.stringMatching(/^twin:\/\/\d+$/),
      }),
    ]);
    const runningNotReady = history.find(
      (s) => s?.phase === 'Running' && s.conditions?.find((c: any) => c.type === 'Ready')?.status === 'False',
    );
    expect(runningNotReady, 'Running before Ready').toBeDefined();
    expect(runningNotReady!.conditions.find((c: any) => c.type === 'Ready').reason).toBe(
      'ContainersNotReady',
    );
    const res = await fetch(podUrl('web', '/hello'));
    expect(await res.text()).toBe('ok');
    expect(kubelet.livePids()).toEqual([pidOf('web')]);
    await until('request in the log', () => kubelet.logs('default', 'web').includes('"path":"/hello"'), 2000);
  });

  it('starts a pod bound to a node after it was created (the scheduler binds later)', async () => {
    startKubelet();
    const unbound = livePod('later');
    delete unbound.spec.nodeName;
    store.create(unbound);
    await new Promise((r) => setTimeout(r, 50));
    expect(pod('later')?.status).toBeUndefined();
    store.patch(ref('later'), (p) => {
      p.spec.nodeName = 'node-a';
    });
    await until('later Ready', () => ready(pod('later')), 5000);
  });

  it('gives the process its environment: value, fieldRef, configMapKeyRef, secretKeyRef, envFrom prefix, $(VAR)', async () => {
    startKubelet();
    store.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg', namespace: 'default' },
      data: { LEVEL: 'debug', MODE: 'fast' },
    });
    store.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds', namespace: 'default' },
      data: { password: Buffer.from('s3cr3t!').toString('base64') },
    });
    store.create(
      livePod('envy', {
        readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1 },
        envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
        env: [
          { name: 'GREETING', value: 'hello' },
          { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'LOG_LEVEL', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'LEVEL' } } },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
          {
            name: 'URL',
            value: 'http://$(POD_IP):$(PORT)/$(GREETING)?m=$(CFG_MODE)&x=$(UNKNOWN)&e=$$(PORT)',
          },
        ],
      }),
    );
    await until('envy Ready', () => ready(pod('envy')), 5000);
    const env = (await (await fetch(podUrl('envy', '/env'))).json()) as Record<string, string>;
    const ip = pod('envy')!.status.podIP;
    expect(env).toMatchObject({
      POD_IP: ip,
      PORT: '8080',
      GREETING: 'hello',
      MY_NAME: 'envy',
      LOG_LEVEL: 'debug',
      PASSWORD: 's3cr3t!',
      CFG_LEVEL: 'debug',
      CFG_MODE: 'fast',
      BUILD_VERSION: '1.2.3',
      URL: `http://${ip}:8080/hello?m=fast&x=$(UNKNOWN)&e=$(PORT)`,
      TWIN_POD_NAMESPACE: 'default',
      HOSTNAME: 'envy',
    });
    expect(env['LEVEL']).toBeUndefined();
  });

  it('reports CreateContainerConfigError for a missing ConfigMap and starts once it exists', async () => {
    startKubelet();
    store.create(
      livePod('nocfg', {
        env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x' } } }],
      }),
    );
    const waiting = await until(
      'CreateContainerConfigError',
      () => status('nocfg')?.state?.waiting?.reason === 'CreateContainerConfigError' && status('nocfg'),
    );
    expect(waiting.state.waiting.message).toContain('absent');
    expect(pod('nocfg')!.status.phase).toBe('Pending');
    expect(kubelet.livePids()).toEqual([]);
    store.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'absent', namespace: 'default' },
      data: { x: '1' },
    });
    await until(
      'nocfg Running',
      () => pod('nocfg')?.status?.phase === 'Running' && ready(pod('nocfg')),
      5000,
    );
  });

  it('restarts a container whose liveness probe fails', async () => {
    startKubelet();
    store.create(
      livePod('sick', {
        // A process takes ~100 ms of real time (10 s at ×100) to listen: the startup probe holds the
        // liveness probe back until then, as Kubernetes recommends for slow-starting containers.
        startupProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1, failureThreshold: 300 },
        livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, failureThreshold: 2 },
        readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1 },
      }),
    );
    await until('sick Ready', () => ready(pod('sick')), 5000);
    const firstPid = pidOf('sick');
    await fetch(podUrl('sick', '/sick'));
    await until('a restart', () => status('sick')?.restartCount >= 1, 5000);
    await until('process replaced', () => !isAlive(firstPid), 3000);
    await until('sick Running again', () => status('sick')?.state?.running && ready(pod('sick')), 5000);
    expect(pidOf('sick')).not.toBe(firstPid);
    const reasons = eventsFor('sick').map((e) => e.reason);
    expect(reasons).toContain('Unhealthy');
    expect(reasons).toContain('Killing');
    expect(eventsFor('sick').find((e) => e.reason === 'Unhealthy')?.message).toMatch(
      /^Liveness probe failed/,
    );
  });

  it('backs off a crashing container: CrashLoopBackOff, growing restartCount, a BackOff event', async () => {
    startKubelet();
    const history = recordStatuses('crashy');
    store.create(
      livePod('crashy', {
        env: [
          { name: 'EXIT_AFTER_MS', value: '30' },
          { name: 'EXIT_CODE', value: '2' },
        ],
      }),
    );
    await until('two restarts', () => (status('crashy')?.restartCount ?? 0) >= 2, 5000);
    const backoff = history.find(
      (s) => s?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    expect(backoff).toBeDefined();
    expect(backoff!.containerStatuses[0].lastState.terminated).toMatchObject({
      exitCode: 2,
      reason: 'Error',
    });
    expect(backoff!.phase).toBe('Running');
    expect(backoff!.containerStatuses[0].ready).toBe(false);
    const events = eventsFor('crashy').filter((e) => e.reason === 'BackOff');
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events[0]).toMatchObject({ type: 'Warning', message: 'Back-off restarting failed container' });
  });

  it('restartPolicy Never: exit 0 → Succeeded, exit 1 → Failed, never restarted', async () => {
    startKubelet();
    const never = { restartPolicy: 'Never' };
    store.create(livePod('ok', { env: [{ name: 'EXIT_AFTER_MS', value: '50' }] }, never));
    store.create(
      livePod(
        'bad',
        {
          env: [
            { name: 'EXIT_AFTER_MS', value: '50' },
            { name: 'EXIT_CODE', value: '1' },
          ],
        },
        never,
      ),
    );
    await until('ok Succeeded', () => pod('ok')?.status?.phase === 'Succeeded', 5000);
    await until('bad Failed', () => pod('bad')?.status?.phase === 'Failed', 5000);
    expect(status('ok')).toMatchObject({
      restartCount: 0,
      ready: false,
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
    });
    expect(status('bad')).toMatchObject({
      restartCount: 0,
      state: { terminated: { exitCode: 1, reason: 'Error' } },
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(pod('bad')!.status.phase).toBe('Failed');
    expect(status('bad').restartCount).toBe(0);
  });

  it('restartPolicy OnFailure restarts a failed container but lets a completed one be', async () => {
    startKubelet();
    store.create(
      livePod(
        'retry',
        {
          env: [
            { name: 'EXIT_AFTER_MS', value: '20' },
            { name: 'EXIT_CODE', value: '1' },
          ],
        },
        { restartPolicy: 'OnFailure' },
      ),
    );
    store.create(
      livePod('done', { env: [{ name: 'EXIT_AFTER_MS', value: '20' }] }, { restartPolicy: 'OnFailure' }),
    );
    await until('retry restarted', () => (status('retry')?.restartCount ?? 0) >= 1, 5000);
    await until('done Succeeded', () => pod('done')?.status?.phase === 'Succeeded', 5000);
    expect(status('done').restartCount).toBe(0);
  });

  it('stops the process when the pod is deleted and releases its IP', async () => {
    startKubelet();
    const created = store.create(livePod('gone'));
    await until('gone Ready', () => ready(pod('gone')), 5000);
    const pid = pidOf('gone');
    expect(isAlive(pid)).toBe(true);
    store.delete(ref('gone'));
    await until(`pid ${pid} gone`, () => !isAlive(pid), 3000);
    expect(kubelet.livePids()).toEqual([]);
    await until('IP released', () => released.includes(created.metadata.uid!), 1000);
  });

  it('shutdown() leaves no process behind', async () => {
    startKubelet();
    for (const name of ['s1', 's2', 's3']) store.create(livePod(name));
    await until('three live pods', () => ['s1', 's2', 's3'].every((n) => ready(pod(n))), 5000);
    const pids = kubelet.livePids();
    expect(pids).toHaveLength(3);
    await kubelet.shutdown(1000);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(kubelet.livePids()).toEqual([]);
  });
});

describe('Kubelet: emulated containers', () => {
  function emulatedPod(
    name: string,
    annotations: Record<string, string> = {},
    spec: Record<string, unknown> = {},
  ) {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', annotations },
      spec: { nodeName: 'node-a', containers: [{ name: 'main', image: 'nginx:1.27' }], ...spec },
    } as KubeObject;
  }

  it('an image without a binding becomes Running and Ready without a process', async () => {
    startKubelet();
    store.create(emulatedPod('nginx'));
    await until('nginx Ready', () => ready(pod('nginx')), 3000);
    expect(pod('nginx')!.status.phase).toBe('Running');
    expect(status('nginx')).toMatchObject({ containerID: 'twin://emulated', ready: true, started: true });
    // No process binds it: the address comes from the modelled range, not the bindable 127.10/16.
    expect(store.get({ kind: 'Pod', namespace: 'default', name: 'nginx' })!.status.podIP).toMatch(
      /^127\.(12[89]|1[3-9]\d|2\d\d)\.\d+\.\d+$/,
    );
    expect(kubelet.livePids()).toEqual([]);
  });

  it('a missing Secret keeps an emulated container in CreateContainerConfigError, never Ready, until it exists', async () => {
    startKubelet();
    store.create(
      emulatedPod(
        'grafana',
        {},
        {
          containers: [
            {
              name: 'main',
              image: 'grafana/grafana:11.2.0',
              env: [
                { name: 'PW', valueFrom: { secretKeyRef: { name: 'grafana-admin', key: 'admin-password' } } },
              ],
            },
          ],
        },
      ),
    );
    const waiting = await until(
      'CreateContainerConfigError',
      () => status('grafana')?.state?.waiting?.reason === 'CreateContainerConfigError' && status('grafana'),
    );
    expect(waiting.state.waiting.message).toBe(
      "couldn't find key admin-password in Secret default/grafana-admin",
    );
    expect(ready(pod('grafana'))).toBe(false);
    store.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'grafana-admin', namespace: 'default' },
      stringData: { 'admin-password': 'x' },
    });
    await until('grafana Ready', () => ready(pod('grafana')), 5000);
  });

  it('a hostNetwork pod gets its node address as podIP', async () => {
    startKubelet();
    store.create(emulatedPod('host', {}, { hostNetwork: true }));
    await until('host Ready', () => ready(pod('host')), 3000);
    expect(pod('host')!.status.podIP).toBe('127.0.0.1');
  });

  it('a run-to-completion pod goes Succeeded after twin.dev/run-seconds of control-plane time', async () => {
    startKubelet();
    let runningAt = 0;
    let succeededAt = 0;
    store.watch({ kind: 'Pod' }, (e) => {
      if (e.object.status?.phase === 'Running' && !runningAt) runningAt = clock.now();
      if (e.object.status?.phase === 'Succeeded' && !succeededAt) succeededAt = clock.now();
    });
    store.create(emulatedPod('job', { 'twin.dev/run-seconds': '30' }, { restartPolicy: 'Never' }));
    await until('job Succeeded', () => pod('job')?.status?.phase === 'Succeeded', 3000);
    expect(runningAt).toBeGreaterThan(0);
    expect(succeededAt - runningAt).toBeGreaterThanOrEqual(29_000);
    expect(succeededAt - runningAt).toBeLessThan(60_000);
    expect(status('job')).toMatchObject({
      ready: false,
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
    });
  });
});

describe('orphan guard', () => {
  it('a live process whose parent is killed exits', async () => {
    const intermediate = spawn(
      process.execPath,
      [
        '-e',
        `const c = require('node:child_process').spawn(process.execPath, ['--import', ${JSON.stringify(ORPHAN_GUARD)}, '-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', env: { ...process.env, TWIN_PARENT_PID: String(process.pid) } });
         console.log(c.pid); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const grandchild = await new Promise<number>((resolve, reject) => {
      intermediate.stdout!.once('data', (d) => resolve(Number(String(d).trim())));
      intermediate.once('exit', () => reject(new Error('intermediate exited early')));
    });
    try {
      expect(isAlive(grandchild)).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      expect(isAlive(grandchild), 'alive while its parent lives').toBe(true);
      intermediate.kill('SIGKILL');
      const t0 = performance.now();
      await until(`grandchild ${grandchild} gone`, () => !isAlive(grandchild), 2500);
      expect(performance.now() - t0).toBeLessThan(2500);
    } finally {
      intermediate.kill('SIGKILL');
      if (isAlive(grandchild)) process.kill(grandchild, 'SIGKILL');
    }
  });

  it('a live process whose parent died before the guard loaded exits at once', async () => {
    const child = spawn(process.execPath, ['--import', ORPHAN_GUARD, '-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
      env: { ...process.env, TWIN_PARENT_PID: '1' }, // the twin that "started" it is not its parent
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(137);
  });
});

describe('Kubelet: configMap and secret volumes, and the control-plane clock, of live containers', () => {
  async function envOf(name: string): Promise<Record<string, string>> {
    for (let i = 0; i < 100; i++) {
      const env = await fetch(podUrl(name, '/env'))
        .then((r) => r.json() as Promise<Record<string, string>>)
        .catch(() => undefined);
      if (env) return env;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${name} never answered /env`);
  }

  it('writes configMap and secret volumes where the container mounts them, and gives it the clock', async () => {
    startKubelet();
    store.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'app-config', namespace: 'default' },
      data: { 'app.yml': 'level: debug\n', other: 'x' },
    });
    store.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'app-secret', namespace: 'default' },
      data: { token: Buffer.from('s3cret').toString('base64') },
    });
    store.create(
      livePod(
        'mounted',
        {
          volumeMounts: [
            { name: 'config', mountPath: '/etc/app' },
            { name: 'secret', mountPath: '/var/run/secret/token', subPath: 'token' },
          ],
        },
        {
          volumes: [
            {
              name: 'config',
              configMap: { name: 'app-config', items: [{ key: 'app.yml', path: 'conf/app.yml' }] },
            },
            { name: 'secret', secret: { secretName: 'app-secret' } },
          ],
        },
      ),
    );
    await until('mounted running', () => status('mounted')?.state?.running !== undefined, 5000);
    const env = await envOf('mounted');
    const mounts = JSON.parse(env['TWIN_VOLUME_MOUNTS']!) as Array<{
      mountPath: string;
      path: string;
      readOnly?: boolean;
    }>;
    const config = mounts.find((m) => m.mountPath === '/etc/app')!;
    expect(config.readOnly).toBe(true);
    expect(readFileSync(join(config.path, 'conf/app.yml'), 'utf8')).toBe('level: debug\n');
    expect(existsSync(join(config.path, 'other'))).toBe(false);
    expect(readFileSync(mounts.find((m) => m.mountPath === '/var/run/secret/token')!.path, 'utf8')).toBe(
      's3cret',
    );
    expect(Number(env['TWIN_CLOCK_SCALE'])).toBe(SCALE);
    const virtual =
      Number(env['TWIN_CLOCK_VIRTUAL_MS']) + (Date.now() - Number(env['TWIN_CLOCK_REAL_MS'])) * SCALE;
    expect(Math.abs(virtual - clock.now())).toBeLessThan(SCALE * 2000);
  });

  it('keeps a pod ContainerCreating, as a kubelet does, while its configMap is missing', async () => {
    startKubelet();
    store.create(
      livePod(
        'unmounted',
        { volumeMounts: [{ name: 'config', mountPath: '/etc/app' }] },
        { volumes: [{ name: 'config', configMap: { name: 'nowhere' } }] },
      ),
    );
    await until('FailedMount', () => eventsFor('unmounted').some((e) => e.reason === 'FailedMount'), 5000);
    expect(eventsFor('unmounted').find((e) => e.reason === 'FailedMount')!.message).toContain(
      'MountVolume.SetUp failed for volume "config" : configmap "nowhere" not found',
    );
    expect(status('unmounted')?.state?.waiting?.reason).toBe('ContainerCreating');
  });
});
