import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processesWithEnvironment, processRuns, processStartTime } from '../../../core/process.ts';
import { waitUntil } from '../../../core/wait.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'twin-bad-input-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let n = 0;
/** A work or report directory that does not exist yet: a rejected command must not create it. */
const fresh = () => path.join(scratch, `dir-${++n}`);

function twin(args: string[]) {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'harness/cli/main.ts'), ...args],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, TWIN_QUIET: '1' },
      // A command that hangs fails here instead of passing late (a loaded 2-core machine took up to 70 s
      // to start tsx and reject an input).
      timeout: 150_000,
    },
  );
  return { code: r.status, signal: r.signal, stderr: r.stderr, stdout: r.stdout, ms: performance.now() - t0 };
}

/** Exit 2, the message, and nothing left: the directory it was given not created, no pod of it running. */
function rejected(args: string[], message: string | RegExp, dir?: string) {
  const r = twin(args);
  expect(r.signal, `${args.join(' ')} hung`).toBeNull();
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
  if (typeof message === 'string') expect(r.stderr).toContain(message);
  else expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/^\s+at /m); // a message, not a stack
  if (dir) {
    expect(existsSync(dir), `${dir} was created`).toBe(false);
    expect(processesWithEnvironment(dir)).toEqual([]);
  }
  return r;
}

describe('bad input: exit 2, the file and field named, nothing started', () => {
  it('--time-scale that is not a finite positive number (gate, up, scenario)', () => {
    rejected(
      ['gate', '--time-scale', '1e999', '--report-dir', fresh()],
      '--time-scale: "1e999" is not a finite positive number',
    );
    const w = fresh();
    rejected(
      ['up', '--time-scale', '0', '--work-dir', w],
      '--time-scale: "0" is not a finite positive number',
      w,
    );
    rejected(['scenario', 'canary-rollout', '--time-scale', 'fast'], '--time-scale: "fast"');
  }, 600_000);

  it('--gpu outside its choices', () => {
    const w = fresh();
    rejected(
      ['up', '--gpu', 'quantum', '--work-dir', w],
      "option '--gpu <mode>' argument 'quantum' is invalid",
      w,
    );
    rejected(['scenario', 'canary-rollout', '--gpu', 'quantum'], 'Allowed choices are emulated, passthrough');
  }, 300_000);

  it('gate --profiles naming nothing', () => {
    rejected(['gate', '--profiles', ',', '--report-dir', fresh()], '--profiles: "," names nothing');
  }, 300_000);

  it('--baseline that does not exist, is a directory, or is under a file', () => {
    rejected(
      ['gate', '--baseline', path.join(scratch, 'nope.json')],
      /--baseline .*nope\.json: no such file/,
    );
    rejected(['gate', '--baseline', 'load'], '--baseline load: is a directory, not a file');
    rejected(
      ['gate', '--baseline', 'package.json/b.json'],
      '--baseline package.json/b.json: a parent of it is a file',
    );
    rejected(
      ['gate', '--update-baseline', '--baseline', 'package.json/b.json'],
      '--baseline package.json/b.json: a parent of it is a file',
    );
  }, 600_000);

  it('--work-dir or --report-dir that is a file, under a file, or on /proc (without hanging)', () => {
    const file = path.join(scratch, 'a-file');
    writeFileSync(file, 'x');
    rejected(['up', '--work-dir', file], `--work-dir ${file}: ${file} is a file; give a directory`);
    rejected(['up', '--work-dir', path.join(file, 'w')], 'is a file; give a directory');
    rejected(['down', '--work-dir', file], 'is a file');
    rejected(['up', '--work-dir', '/proc/x'], '--work-dir /proc/x: /proc is on the proc pseudo filesystem');
    rejected(['scenario', 'canary-rollout', '--report-dir', file], `--report-dir ${file}: ${file} is a file`);
    rejected(
      ['gate', '--report-dir', '/proc/x'],
      '--report-dir /proc/x: /proc is on the proc pseudo filesystem',
    );
  }, 600_000);

  it('a corrupt state.json is an error that leaves the file as it is', () => {
    const w = fresh();
    mkdirSync(w);
    writeFileSync(path.join(w, 'state.json'), '{"pid": 1');
    for (const cmd of ['up', 'status', 'down']) {
      const r = twin([cmd, '--work-dir', w]);
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`${path.join(w, 'state.json')}: not a twin up state file: not JSON`);
    }
    expect(readFileSync(path.join(w, 'state.json'), 'utf8')).toBe('{"pid": 1');
    expect(existsSync(path.join(w, 'environment'))).toBe(false);
  }, 600_000);

  it('down never signals a process that got the pid of a dead twin (pid reuse)', async () => {
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const w = fresh();
      mkdirSync(path.join(w, 'environment'), { recursive: true });
      const start = processStartTime(stranger.pid!);
      writeFileSync(
        path.join(w, 'state.json'),
        JSON.stringify({
          kind: 'TwinUpState',
          phase: 'up',
          pid: stranger.pid,
          // the twin that wrote it started at another time than this process
          startTime: start ? String(Number(start) - 100) : '1',
          system: 'ai-platform',
          env: 'local',
          startedAt: new Date().toISOString(),
          timeScale: 100,
          workDir: path.join(w, 'environment'),
          ingresses: {},
          workloads: [],
        }),
      );
      const r = twin(['down', '--work-dir', w]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`(pid ${stranger.pid}) had exited without tearing down`);
      expect(processRuns(stranger.pid!)).toBe(true);
      expect(existsSync(path.join(w, 'state.json'))).toBe(false);
      expect(existsSync(path.join(w, 'environment'))).toBe(false);
    } finally {
      stranger.kill();
    }
  }, 300_000);

  describe.skipIf(!hasKustomize)('definitions (needs kubectl or kustomize on the PATH)', () => {
    it('a YAML alias bomb in a manifest', () => {
      const w = fresh();
      rejected(
        ['up', '--system', 'test/fixtures/systems/alias-bomb', '--work-dir', w],
        'test/fixtures/systems/alias-bomb/k8s/overlays/local/app.yaml: document 3: its aliases expand more than 1000 times',
        w,
      );
    }, 300_000);

    it('a system without twin-bindings.yaml', () => {
      const w = fresh();
      rejected(
        ['up', '--system', 'test/fixtures/systems/no-bindings', '--work-dir', w],
        'test/fixtures/systems/no-bindings lacks test/fixtures/systems/no-bindings/twin-bindings.yaml',
        w,
      );
    }, 300_000);

    it('a twin-binding entry outside the repository', () => {
      const w = fresh();
      rejected(
        ['up', '--system', 'test/fixtures/systems/escaping-entry', '--work-dir', w],
        'test/fixtures/systems/escaping-entry/twin-bindings.yaml: images[0].entry: "../../../../etc/passwd" is outside the repository',
        w,
      );
    }, 300_000);

    it('nodesPerZone past the bound, naming the bound and how to raise it', () => {
      const w = fresh();
      rejected(
        ['up', '--system', 'test/fixtures/systems/huge-topology', '--work-dir', w],
        'test/fixtures/systems/huge-topology/topology.yaml: nodePools[0].nodesPerZone: 1000000 × 1 zone brings the topology to 1000000 nodes, more than the 5000 the twin models (Kubernetes supports 5,000 nodes per cluster); lower it, or raise the bound with TWIN_MAX_NODES=<n>',
        w,
      );
    }, 300_000);

    it('a second up on the same work directory fails and deletes nothing of the first', async () => {
      const w = fresh();
      const first: ChildProcess = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'harness/cli/main.ts',
          'up',
          '--system',
          'test/fixtures/systems/good',
          '--work-dir',
          w,
        ],
        { cwd: root, stdio: 'ignore', env: { ...process.env, TWIN_QUIET: '1' } },
      );
      const exited = new Promise((r) => first.once('exit', r));
      try {
        const controlPlaneLog = path.join(w, 'environment', 'control-plane.log');
        await waitUntil(() => existsSync(controlPlaneLog), {
          what: `the first up to start its twin (${controlPlaneLog})`,
          timeout: 240_000,
        });
        const r = twin(['up', '--system', 'test/fixtures/systems/good', '--work-dir', w]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(
          new RegExp(`${w}: an environment is already (starting|up) there \\(pid ${first.pid}`),
        );
        expect(existsSync(controlPlaneLog)).toBe(true);
        expect(JSON.parse(readFileSync(path.join(w, 'state.json'), 'utf8')).pid).toBe(first.pid);
      } finally {
        first.kill('SIGTERM');
        await exited;
      }
      expect(existsSync(path.join(w, 'state.json'))).toBe(false);
      expect(existsSync(w)).toBe(false);
    }, 600_000);
  });
});
