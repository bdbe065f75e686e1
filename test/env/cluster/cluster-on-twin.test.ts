import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterEnvironment } from '../../../env/cluster/cluster-backend.ts';
import type { Environment } from '../../../env/environment.ts';
import { localEnvironment } from '../../../env/local/local-environment.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const system = path.join(root, 'test/fixtures/systems/existing-cluster');
const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);

/**
 * The twin's API server is a real Kubernetes endpoint with a kubeconfig: here it is the "existing
 * cluster". Its system runs overlay `local`; the cluster environment deploys overlay `staging` on it.
 */
describe.skipIf(!hasKustomize)(
  'cluster environment on an existing cluster: a running twin (needs kubectl or kustomize)',
  () => {
    const dirs: string[] = [];
    let cluster: Environment;
    afterAll(async () => {
      await cluster?.down();
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    });

    beforeAll(async () => {
      const workDir = await mkdtemp(path.join(os.tmpdir(), 'twin-existing-cluster-'));
      dirs.push(workDir);
      cluster = await localEnvironment.up({ system, overlay: 'local', workDir, timeScale: 100 });
    }, 120_000);

    const namespaces = async () =>
      (await cluster.kube.list({ kind: 'Namespace' }))
        .map((n) => n.metadata.name)
        .filter((n) => n.startsWith('shop'));

    it('deploys the overlay server-side, runs against it, and removes on down exactly what it created', async () => {
      const cart = await cluster.kube.get({ kind: 'Deployment', namespace: 'shop', name: 'cart' });
      const workDir = await mkdtemp(path.join(os.tmpdir(), 'twin-cluster-env-'));
      dirs.push(workDir);
      const progress: string[] = [];
      const env = await clusterEnvironment.up({
        system,
        overlay: 'staging',
        kubeconfig: cluster.kubeconfig!,
        workDir,
        timeScale: 100,
        progress: (m) => progress.push(m),
      });
      try {
        expect(env.name).toBe('cluster');
        expect(progress).toContain(
          'applied 7 objects server-side (3 created, 4 already there and updated in place)',
        );
        expect(await namespaces()).toEqual(['shop', 'shop-canary']);
        const canary = await env.kube.get({
          kind: 'Deployment',
          namespace: 'shop-canary',
          name: 'cart-canary',
        });
        expect(canary?.status?.availableReplicas).toBe(1);
        // What was there is the same object, updated in place (not recreated).
        const after = await env.kube.get({ kind: 'Deployment', namespace: 'shop', name: 'cart' });
        expect(after?.metadata.uid).toBe(cart?.metadata.uid);
        // The Ingress's address as the cluster's load balancer controller published it.
        expect(await env.net.ingressUrl({ namespace: 'shop', name: 'shop' })).toMatch(
          /^http:\/\/127\.0\.0\.1:\d+$/,
        );
        // The clock: the cluster's scale, as stated.
        expect(env.clock.scale).toBe(100);
        // A kubeconfig of this context only, for kubectl, while the environment is up.
        expect(env.kubeconfig).toBe(path.join(workDir, 'cluster', 'kubeconfig'));
        // Faults through the Kubernetes API work; a node's power is out of reach, and it says so.
        const [pod] = await env.kube.list({ kind: 'Pod' }, { namespace: 'shop-canary' });
        await env.faults.killPod({ namespace: 'shop-canary', name: pod!.metadata.name });
        await expect(env.faults.stopNode('general-1a-1')).rejects.toThrow(
          /^faults\.stopNode needs node-access on the cluster environment: a cluster reached through a kubeconfig gives no access/,
        );
        const [node] = await env.kube.list({ kind: 'Node' });
        await env.faults.cordon(node!.metadata.name);
        expect((await env.kube.get({ kind: 'Node', name: node!.metadata.name }))?.spec?.unschedulable).toBe(
          true,
        );
      } finally {
        await env.down();
      }
      expect(await namespaces()).toEqual(['shop']);
      expect(await cluster.kube.get({ kind: 'ConfigMap', namespace: 'shop', name: 'flags' })).toBeUndefined();
      const kept = await cluster.kube.get({ kind: 'Deployment', namespace: 'shop', name: 'cart' });
      expect(kept?.metadata.uid).toBe(cart?.metadata.uid);
      const nodes = await cluster.kube.list({ kind: 'Node' });
      expect(nodes.filter((n) => n.spec?.unschedulable)).toEqual([]);
      expect(existsSync(path.join(workDir, 'cluster', 'kubeconfig'))).toBe(false);
      expect(progress.at(-1)).toBe('removed the 3 objects this run created');
    }, 180_000);

    it('an overlay the system does not have, or none: an input error before anything is applied', async () => {
      const workDir = await mkdtemp(path.join(os.tmpdir(), 'twin-cluster-env-'));
      dirs.push(workDir);
      const options = { system, kubeconfig: cluster.kubeconfig!, workDir };
      await expect(clusterEnvironment.up(options)).rejects.toThrow(
        /^--env cluster needs --overlay: which overlay of .*existing-cluster to deploy on context "[^"]+" \(overlays: local, staging\)$/,
      );
      await expect(clusterEnvironment.up({ ...options, overlay: 'production' })).rejects.toThrow(
        /^--overlay: .*existing-cluster\/k8s\/overlays\/production does not exist \(overlays of .*existing-cluster: local, staging\)$/,
      );
      expect(await namespaces()).toEqual(['shop']);
    }, 60_000);
  },
);

async function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}:\n${seen}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve(seen);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`exited before ${pattern}:\n${seen}`));
    });
  });
}

/**
 * A scenario of scenarios/ end to end against `twin up` as the existing cluster, through the CLI as a
 * user runs it against staging. The twin already runs the overlay; the cluster environment applies it
 * server-side all the same (0 created, every object updated in place) and removes nothing on down.
 * Time scale 20 on both sides: at the default 100 the production liveness probe of Prometheus (4
 * failures 15 s apart) kills it before it serves on a heavily loaded machine.
 */
describe.skipIf(!hasKustomize)(
  'twin scenario canary-rollout --env cluster against `twin up` (needs kubectl or kustomize)',
  () => {
    const dirs: string[] = [];
    let up: ChildProcess | undefined;
    afterAll(async () => {
      if (up && up.exitCode === null) {
        const gone = new Promise((r) => up!.once('exit', r));
        up.kill('SIGTERM');
        await gone;
      }
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    }, 60_000);

    it('runs the production canary on the cluster: its rollouts, analyses and abort happen there, reported as on any environment', async () => {
      const workDir = await mkdtemp(path.join(os.tmpdir(), 'twin-up-cluster-'));
      const reportDir = await mkdtemp(path.join(os.tmpdir(), 'twin-cluster-reports-'));
      dirs.push(workDir, reportDir);
      up = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'harness/cli/main.ts',
          'up',
          '--system',
          'ai-platform',
          '--time-scale',
          '20',
          '--work-dir',
          workDir,
        ],
        { cwd: root },
      );
      await waitForOutput(up, /ai-platform is up on local/, 300_000);
      const kubeconfig = path.join(workDir, 'environment', 'kubeconfig');
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          'harness/cli/main.ts',
          'scenario',
          'canary-rollout',
          '--env',
          'cluster',
          '--kubeconfig',
          kubeconfig,
          '--overlay',
          'local',
          '--time-scale',
          '20',
          '--report-dir',
          reportDir,
        ],
        { cwd: root, encoding: 'utf8', env: { ...process.env, TWIN_QUIET: '0' }, timeout: 900_000 },
      );
      const output = `${r.stdout}${r.stderr}`;
      const [runDir] = await readdir(reportDir);
      const result = JSON.parse(await readFile(path.join(reportDir, runDir!, 'result.json'), 'utf8'));
      expect(result.environment).toBe('cluster');
      expect(result.timeScale).toBe(20);
      expect(output).toContain(
        'applied 60 objects server-side (0 created, 60 already there and updated in place)',
      );
      expect(output).toContain('removed the 0 objects this run created');
      const step = (name: string) => result.steps.find((s: { name: string }) => s.name === name)?.status;
      expect(step('bring up ai-platform on cluster')).toBe('passed');
      expect(step('roll out api 2.0.0')).toBe('passed');
      // The faulty build is aborted by the system's AnalysisTemplate, run by the cluster's Argo Rollouts controller.
      expect(step('wait for the analysis to fail and the rollout to abort')).toBe('passed');
      const measured = (name: string) => result.measurements.find((m: { name: string }) => m.name === name);
      expect(measured('highest canary weight of the faulty build')).toMatchObject({
        value: 10,
        passed: true,
      });
      expect(measured('canary weight after abort')).toMatchObject({ value: 0, passed: true });
      // The analyses the cluster's controller ran, watched through the environment, in the run's own time.
      expect(result.analysis.length).toBeGreaterThan(0);
      for (const a of result.analysis) expect(a.t).toBeLessThan(60 * 60_000);
      // The scenario's verdict (latency and error budgets) is the machine's: recorded, and passed when it is not overloaded.
      expect([0, 1]).toContain(r.status);
      expect(r.status === 0).toBe(result.status === 'passed');
    }, 1_200_000);
  },
);
