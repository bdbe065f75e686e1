import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadSystem, resolveSystem } from '../../../system/system.ts';
import { Twin } from '../../../twin/twin.ts';

const hasKubectl = (() => {
  try {
    execFileSync('kubectl', ['version', '--client', '-o', 'json'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * The machine's kubectl against a running twin of the AI platform (local overlay), as a user runs it,
 * with the API server's own validation (kube/schema: the OpenAPI schemas, strict field validation).
 */
describe.skipIf(!hasKubectl)('kubectl against the twin (needs kubectl on the PATH)', () => {
  let twin: Twin;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const kubectl = (...args: string[]) => execa('kubectl', args, { env, reject: false, timeout: 120_000 });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'twin-kubectl-'));
    twin = await Twin.up({
      system: await loadSystem(await resolveSystem('ai-platform'), 'local'),
      // ×10, not ×100: at ×100 the twin's Prometheus scrapes every 150 ms of real time and, on a
      // loaded 2-core machine, answers its liveness probe too late and is restarted until the boot
      // times out (its 30 s initial delay is 0.3 s there). Nothing here needs the faster clock.
      timeScale: 10,
      workDir: path.join(dir, 'work'),
      readyTimeoutMs: 240_000, // a bound, not an expectation: a loaded CI machine boots the AI platform slowly
    });
    // kubectl caches discovery under $HOME/.kube/cache: a fresh home per run.
    env = { ...process.env, KUBECONFIG: twin.apiServer.kubeconfigFile, HOME: dir };
  }, 300_000);

  afterAll(async () => {
    await twin?.down();
    rmSync(dir, { recursive: true, force: true });
  });

  const webManifest = () => {
    const obj = structuredClone(
      twin.options.system.rendered
        .map((r) => r.object)
        .find((o) => o.kind === 'Deployment' && o.metadata.name === 'web')!,
    );
    delete obj.metadata.annotations?.['config.kubernetes.io/origin'];
    return obj;
  };

  it('get pods -A prints every pod with kubectl’s columns', async () => {
    const pods = () =>
      twin.store.list({ kind: 'Pod' }).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    const before = new Set(pods());
    const r = await kubectl('get', 'pods', '-A');
    const after = new Set(pods());
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    // The controllers keep working while kubectl lists (a Job's pod comes or goes): every pod there
    // before and after is printed, and nothing that was in neither.
    const printed = new Set(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join('/')));
    expect([...before].filter((p) => after.has(p) && !printed.has(p))).toEqual([]);
    expect([...printed].filter((p) => !before.has(p) && !after.has(p))).toEqual([]);
    expect(r.stdout).toMatch(/production\s+web-\S+\s+1\/1\s+Running\s+0/);
  });

  it('get rollout -n production api -o yaml reads the custom resource', async () => {
    const r = await kubectl('get', 'rollout', '-n', 'production', 'api', '-o', 'yaml');
    expect(r.exitCode, r.stderr).toBe(0);
    const rollout = parse(r.stdout);
    expect(rollout).toMatchObject({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'api', namespace: 'production' },
    });
    expect(rollout.spec.strategy.canary.steps.length).toBeGreaterThan(0);
  });

  it('apply -f of a changed manifest, client-side and then with --server-side', async () => {
    const file = path.join(dir, 'web.yaml');
    const web = webManifest();
    web.metadata.annotations = { ...(web.metadata.annotations ?? {}), 'example.com/changed': 'client-side' };
    web.spec.replicas = 4;
    writeFileSync(file, stringify(web));
    const csa = await kubectl('apply', '-f', file);
    expect(csa.exitCode, csa.stderr).toBe(0);
    expect(csa.stdout).toContain('deployment.apps/web configured');
    const afterCsa = twin.store.get({ kind: 'Deployment', namespace: 'production', name: 'web' })!;
    expect(afterCsa.spec.replicas).toBe(4);
    expect(afterCsa.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toContain(
      '"replicas":4',
    );
    web.metadata.annotations['example.com/changed'] = 'server-side';
    web.spec.replicas = 3;
    writeFileSync(file, stringify(web));
    const ssa = await kubectl('apply', '--server-side', '-f', file);
    expect(ssa.exitCode, ssa.stderr).toBe(0);
    expect(ssa.stdout).toContain('deployment.apps/web serverside-applied');
    const afterSsa = twin.store.get({ kind: 'Deployment', namespace: 'production', name: 'web' })!;
    expect(afterSsa.spec.replicas).toBe(3);
    expect(afterSsa.metadata.annotations?.['example.com/changed']).toBe('server-side');
    expect(
      afterSsa.metadata.managedFields?.some((m) => m.manager === 'kubectl' && m.operation === 'Apply'),
    ).toBe(true);
  });

  it('apply of a manifest with an unknown field fails naming it', async () => {
    const file = path.join(dir, 'typo.yaml');
    const web = webManifest();
    web.spec.replica = 2;
    writeFileSync(file, stringify(web));
    const r = await kubectl('apply', '-f', file);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('unknown field "spec.replica"');
    const ssa = await kubectl('apply', '--server-side', '-f', file);
    expect(ssa.exitCode).not.toBe(0);
    expect(ssa.stderr).toContain('unknown field "spec.replica"');
    // A custom resource is checked against its CRD's schema the same way.
    const rollout = structuredClone(
      twin.options.system.rendered
        .map((r) => r.object)
        .find((o) => o.kind === 'Rollout' && o.metadata.name === 'api')!,
    );
    delete rollout.metadata.annotations?.['config.kubernetes.io/origin'];
    rollout.spec.strategy.canary.stepz = [];
    const crFile = path.join(dir, 'rollout-typo.yaml');
    writeFileSync(crFile, stringify(rollout));
    const cr = await kubectl('apply', '-f', crFile);
    expect(cr.exitCode).not.toBe(0);
    expect(cr.stderr).toContain('unknown field "spec.strategy.canary.stepz"');
  });

  it('delete removes an object', async () => {
    const file = path.join(dir, 'cm.yaml');
    writeFileSync(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'scratch', namespace: 'production' },
        data: { a: 'b' },
      }),
    );
    expect((await kubectl('apply', '-f', file)).exitCode).toBe(0);
    const r = await kubectl('delete', 'configmap', 'scratch', '-n', 'production');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('configmap "scratch" deleted');
    expect(twin.store.get({ kind: 'ConfigMap', namespace: 'production', name: 'scratch' })).toBeUndefined();
  });

  it('rollout status deployment/web waits for the rollout', async () => {
    const r = await kubectl('rollout', 'status', 'deployment/web', '-n', 'production', '--timeout=120s');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('deployment "web" successfully rolled out');
  });

  it('wait --for=condition=Ready and logs -f of a live pod', async () => {
    const pod = twin.store
      .list({ kind: 'Pod' }, { namespace: 'production' })
      .find((p) => p.metadata.name.startsWith('web-') && !p.metadata.deletionTimestamp)!;
    const wait = await kubectl(
      'wait',
      '--for=condition=Ready',
      `pod/${pod.metadata.name}`,
      '-n',
      'production',
      '--timeout=60s',
    );
    expect(wait.exitCode, wait.stderr).toBe(0);
    expect(wait.stdout).toContain('condition met');
    const follow = spawn('kubectl', ['logs', '-f', '--tail=1', '-n', 'production', pod.metadata.name], {
      env,
    });
    let out = '';
    follow.stdout.on('data', (d) => (out += d));
    // The web pod logs every probe: a followed log grows while we watch.
    await new Promise((r) => setTimeout(r, 3000));
    follow.kill();
    const lines = out.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ service: 'web' });
  });

  it('explain deployment.spec.strategy reads the OpenAPI v3 document', async () => {
    const r = await kubectl('explain', 'deployment.spec.strategy');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('FIELD: strategy <DeploymentStrategy>');
    expect(r.stdout).toContain('rollingUpdate');
    expect(r.stdout).toContain('Type of deployment. Can be "Recreate" or "RollingUpdate"');
  });

  it('auth can-i answers from the manifests’ RBAC', async () => {
    const sa = 'system:serviceaccount:system:prometheus';
    expect((await kubectl('auth', 'can-i', 'list', 'pods', '-A', '--as', sa)).stdout.trim()).toBe('yes');
    const secrets = await kubectl('auth', 'can-i', 'list', 'secrets', '-A', '--as', sa);
    expect(secrets.stdout.trim()).toBe('no');
    expect((await kubectl('auth', 'can-i', '*', '*')).stdout.trim()).toBe('yes');
  });

  it('get --watch streams changes', async () => {
    const watch = spawn('kubectl', ['get', 'configmaps', '-n', 'production', '--watch', '-o', 'name'], {
      env,
    });
    let out = '';
    watch.stdout.on('data', (d) => (out += d));
    await new Promise((r) => setTimeout(r, 1500));
    twin.store.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'watched', namespace: 'production' },
    });
    const deadline = Date.now() + 15_000;
    while (!out.includes('configmap/watched') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    watch.kill();
    expect(out).toContain('configmap/watched');
  });

  it('a live pod reaches the API through the kubernetes Service with its projected service account token', async () => {
    const pod = twin.store
      .list({ kind: 'Pod' }, { namespace: 'production' })
      .find((p) => p.metadata.name.startsWith('web-') && p.status?.phase === 'Running')!;
    const pid = twin.kubelet.containerLog('production', pod.metadata.name, 'web')!.current!.pid!;
    const environ = Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    // The container's mount at /var/run/secrets/kubernetes.io/serviceaccount, as the kubelet hands it over.
    const mounts = JSON.parse(environ['TWIN_VOLUME_MOUNTS'] ?? '[]') as { mountPath: string; path: string }[];
    const sa = mounts.find((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount')!.path;
    const token = readFileSync(path.join(sa, 'token'), 'utf8');
    const ca = readFileSync(path.join(sa, 'ca.crt'), 'utf8');
    expect(readFileSync(path.join(sa, 'namespace'), 'utf8')).toBe('production');
    const service = twin.store.get({ kind: 'Service', namespace: 'default', name: 'kubernetes' })!;
    expect(environ['KUBERNETES_SERVICE_HOST']).toBe(service.spec.clusterIP);
    expect(environ['KUBERNETES_SERVICE_PORT']).toBe('443');
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      https
        .get(
          `https://${environ['KUBERNETES_SERVICE_HOST']}:${environ['KUBERNETES_SERVICE_PORT']}/api/v1/namespaces/production/pods`,
          { ca, headers: { Authorization: `Bearer ${token}` } },
          (res) => {
            let body = '';
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        )
        .on('error', reject);
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).kind).toBe('PodList');
    // The pod's ServiceAccount has no binding that allows it: served (RBAC warns), with a Warning Event.
    const warning = twin.store
      .list({ kind: 'Event' }, { namespace: 'production' })
      .find((e) => e['reason'] === 'RBACWouldForbid');
    expect(warning?.['message']).toContain(
      'User "system:serviceaccount:production:default" cannot list resource "pods" in API group "" in the namespace "production"',
    );
  });

  it('a client-node informer sees every change: each pod added, each version written, each pod deleted', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(twin.apiServer.kubeconfigFile);
    const core = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1Pod>(kc, '/api/v1/namespaces/production/pods', () =>
      core.listNamespacedPod({ namespace: 'production' }),
    );
    const key = (type: string, name: string | undefined, rv: string | undefined) => `${type} ${name}@${rv}`;
    const seen = new Set<string>();
    informer.on('add', (p) => seen.add(key('ADDED', p.metadata?.name, p.metadata?.resourceVersion)));
    informer.on('update', (p) => seen.add(key('MODIFIED', p.metadata?.name, p.metadata?.resourceVersion)));
    informer.on('delete', (p) => seen.add(key('DELETED', p.metadata?.name, p.metadata?.resourceVersion)));
    await informer.start();
    // What the store wrote from here on, in its own order: the informer must see each of these.
    const written: string[] = [];
    const unwatch = twin.store.watch({ kind: 'Pod', namespace: 'production' }, (e) =>
      written.push(key(e.type, e.object.metadata.name, e.object.metadata.resourceVersion)),
    );
    const webReady = (n: number) => async () => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const web = twin.store.get({ kind: 'Deployment', namespace: 'production', name: 'web' })!;
        const pods = twin.store
          .list({ kind: 'Pod' }, { namespace: 'production' })
          .filter((p) => p.metadata.name.startsWith('web-'));
        if (web.status?.readyReplicas === n && pods.length === n) return;
        if (Date.now() > deadline) throw new Error(`web did not settle at ${n} ready pods`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const before = twin.store
      .list({ kind: 'Pod' }, { namespace: 'production' })
      .filter((p) => p.metadata.name.startsWith('web-')).length;
    try {
      // web's HorizontalPodAutoscaler (min 3) would scale a manual 5 back as soon as it reads the live
      // pods' real usage, as on a cluster: this test scales by hand, so the HPA goes first.
      const hpa = await kubectl('delete', 'hpa/web', '-n', 'production');
      expect(hpa.exitCode, hpa.stderr).toBe(0);
      const up = await kubectl('scale', 'deployment/web', '-n', 'production', '--replicas=5');
      expect(up.exitCode, up.stderr).toBe(0);
      await webReady(5)();
      const down = await kubectl('scale', 'deployment/web', '-n', 'production', '--replicas=2');
      expect(down.exitCode, down.stderr).toBe(0);
      await webReady(2)();
      const deadline = Date.now() + 30_000;
      while (written.some((w) => !seen.has(w)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
    } finally {
      unwatch();
      await informer.stop();
    }
    expect(before).toBeLessThan(5);
    expect(written.filter((w) => w.startsWith('ADDED web-')).length).toBe(5 - before);
    expect(written.filter((w) => w.startsWith('MODIFIED web-')).length).toBeGreaterThan(0);
    expect(written.filter((w) => w.startsWith('DELETED web-')).length).toBeGreaterThanOrEqual(3);
    expect(written.filter((w) => !seen.has(w))).toEqual([]);
    const inStore = twin.store
      .list({ kind: 'Pod' }, { namespace: 'production' })
      .map((p) => `${p.metadata.name}@${p.metadata.resourceVersion}`)
      .sort();
    const inCache = informer
      .list()
      .map((p) => `${p.metadata?.name}@${p.metadata?.resourceVersion}`)
      .sort();
    expect(inCache).toEqual(inStore);
  }, 180_000);
});
