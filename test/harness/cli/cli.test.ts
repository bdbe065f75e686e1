import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
const hasK3d = spawnSync('sh', ['-c', 'command -v k3d']).status === 0;

function twin(args: string[], options: { cwd?: string } = {}) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'harness/cli/main.ts'), ...args],
    {
      cwd: options.cwd ?? root,
      encoding: 'utf8',
      env: { ...process.env, TWIN_QUIET: '1' },
      timeout: 120_000, // a loaded 2-core machine starts tsx slowly; a hang still fails
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Processes whose environment names the given directory: the live pods of a twin working there. */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(dir)) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

async function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; output:\n${seen}`)),
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
      reject(new Error(`exited before ${pattern}; output:\n${seen}`));
    });
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

describe('twin CLI', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('prints help for every command', () => {
    for (const args of [
      ['--help'],
      ['scenario', '--help'],
      ['up', '--help'],
      ['status', '--help'],
      ['down', '--help'],
      ['chaos', '--help'],
    ]) {
      const r = twin(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: twin/);
    }
  }, 120_000);

  it('rejects an unknown scenario with exit code 2, naming the known ones', () => {
    const r = twin(['scenario', 'no-such-scenario']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown scenario "no-such-scenario"');
    expect(r.stderr).toContain('canary-rollout');
  });

  it('rejects a bad option value with exit code 2', () => {
    expect(twin(['scenario', 'canary-rollout', '--env', 'minikube']).code).toBe(2);
    const r = twin(['scenario', 'canary-rollout', '--time-scale', '-3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--time-scale: "-3" is not a finite positive number');
  });

  it.skipIf(hasK3d)(
    'accepts --env k3d and says clearly what is missing here (docker, k3d) and what to do',
    () => {
      const r = twin(['scenario', 'canary-rollout', '--env', 'k3d']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/twin: --env k3d needs .*k3d \(not found on the PATH; https:\/\/k3d\.io/);
      expect(r.stderr).toMatch(/run with --env local \(the embedded twin\)/);
    },
  );

  it.skipIf(!hasKustomize)(
    '--dry-run prints every k3d command and object of canary-rollout in order, without Docker',
    () => {
      const r = twin(['scenario', 'canary-rollout', '--env', 'k3d', '--dry-run']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = r.stdout;
      const order = [
        '# k3d dry run: ai-platform (overlay k3d) on cluster twin-ai-platform, GPU emulated',
        '$ docker build -f workloads/api/Dockerfile --build-arg BUILD_VERSION=1.0.0 -t ghcr.io/ai-platform/api:1.0.0 .',
        'write .twin/k3d/twin-ai-platform/k3d-config.yaml:',
        '    apiVersion: k3d.io/v1alpha5',
        '    kind: Simple',
        '    agents: 8',
        '      - label: topology.kubernetes.io/zone=ap-northeast-1c',
        '$ k3d cluster create --config .twin/k3d/twin-ai-platform/k3d-config.yaml',
        '$ k3d kubeconfig get twin-ai-platform > .twin/k3d/twin-ai-platform/kubeconfig',
        'wait nodes-ready',
        '$ k3d image import ghcr.io/ai-platform/inference:1.0.0 ghcr.io/ai-platform/web:1.0.0 ghcr.io/ai-platform/etl:1.0.0 ghcr.io/ai-platform/api:1.0.0 --cluster twin-ai-platform --mode auto',
        'PATCH /api/v1/nodes/k3d-twin-ai-platform-agent-6/status (application/json-patch+json):',
        'PATCH /api/v1/nodes/k3d-twin-ai-platform-agent-7/status (application/json-patch+json):',
        'apply --server-side --field-manager=infra-twin --force-conflicts -n argo-rollouts -f https://github.com/argoproj/argo-rollouts/releases/download/v1.8.3/install.yaml',
        'wait crds-established',
        'wait deployments-available -n argo-rollouts',
        'apply --server-side --field-manager=infra-twin --force-conflicts -f https://github.com/cert-manager/cert-manager/releases/download/v1.15.3/cert-manager.yaml',
        'wait crds-established',
        'wait deployments-available -n cert-manager',
        '$ helm upgrade --install external-secrets external-secrets --repo https://charts.external-secrets.io --version 0.10.3 --namespace external-secrets --create-namespace --wait',
        '    --- # Rollout production/api',
        '    --- # Ingress production/ai-platform',
        'wait deployments, statefulsets, rollouts -n production',
        '$ k3d cluster delete twin-ai-platform',
      ];
      let at = 0;
      for (const line of order) {
        const i = out.indexOf(`${line}\n`, at);
        expect(i, `"${line}" after position ${at}`).toBeGreaterThanOrEqual(0);
        at = i + line.length;
      }
      // The k3d overlay: Traefik serves the Ingress, and the canary is shaped without ALB routing.
      expect(out).toContain('      ingressClassName: traefik');
      expect(out).not.toContain('trafficRouting');
    },
  );

  describe.skipIf(!hasKustomize)('bad definitions (needs kubectl or kustomize on the PATH)', () => {
    it('a manifest that is not YAML: exit 2 naming file, line and column', () => {
      const r = twin(['up', '--system', 'test/fixtures/systems/bad-yaml']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/test\/fixtures\/systems\/bad-yaml\/k8s\/overlays\/local\/app\.yaml:9:\d+: /);
    }, 150_000);

    it('a Deployment without a selector: exit 2 naming file, object and field', () => {
      const r = twin(['up', '--system', 'test/fixtures/systems/no-selector']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        'test/fixtures/systems/no-selector/k8s/overlays/local/app.yaml:8: Deployment shop/cart: spec.selector: Required value',
      );
    }, 150_000);

    it('a topology with an unknown instance type: exit 2 naming file and field', () => {
      const r = twin(['up', '--system', 'test/fixtures/systems/bad-topology']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        'test/fixtures/systems/bad-topology/topology.yaml: nodePools[0].instanceType: unknown instance type "t3.hugest"',
      );
    }, 150_000);

    it('an unknown system: exit 2 listing the known systems', () => {
      const r = twin(['up', '--system', 'nope']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('known systems: ai-platform');
    }, 150_000);

    it('up, status, down: the environment runs until down and leaves no process behind', async () => {
      const workDir = await mkdtemp(path.join(os.tmpdir(), 'twin-cli-up-'));
      dirs.push(workDir);
      const up = spawn(
        process.execPath,
        ['--import', 'tsx', 'harness/cli/main.ts', 'up', '--system', 'ai-platform', '--work-dir', workDir],
        { cwd: root },
      );
      const upExit = exited(up);
      await waitForOutput(up, /is up on local/, 60_000);
      expect(processesUnder(workDir).length).toBeGreaterThanOrEqual(8);
      const status = twin(['status', '--work-dir', workDir]);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain('Ingress production/ai-platform: http://127.0.0.1:');
      const kubeconfig = twin(['kubeconfig', '--work-dir', workDir]);
      expect(kubeconfig.code).toBe(0);
      expect(kubeconfig.stdout.trim()).toBe(path.join(workDir, 'environment', 'kubeconfig'));
      expect(readFileSync(kubeconfig.stdout.trim(), 'utf8')).toContain('server: https://127.0.0.1:');
      const down = twin(['down', '--work-dir', workDir]);
      expect(down.code).toBe(0);
      expect(down.stdout).toContain('ai-platform on local is down');
      expect(await upExit).toBe(0);
      expect(processesUnder(workDir)).toEqual([]);
      expect(twin(['kubeconfig', '--work-dir', workDir]).code).toBe(1);
    }, 150_000);

    it('Ctrl-C during a scenario leaves no child process behind', async () => {
      const reportDir = await mkdtemp(path.join(os.tmpdir(), 'twin-cli-ctrlc-'));
      dirs.push(reportDir);
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'harness/cli/main.ts', 'scenario', 'canary-rollout', '--report-dir', reportDir],
        {
          cwd: root,
          detached: true,
        },
      );
      const childExit = exited(child);
      await waitForOutput(child, /roll out api 2\.0\.0/, 90_000);
      expect(processesUnder(reportDir).length).toBeGreaterThanOrEqual(8);
      process.kill(-child.pid!, 'SIGINT'); // what a terminal's Ctrl-C does: SIGINT to the foreground process group
      const code = await childExit;
      expect(code).not.toBe(0);
      const deadline = Date.now() + 5000;
      while (processesUnder(reportDir).length > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(processesUnder(reportDir)).toEqual([]);
    }, 150_000);
  });
});
