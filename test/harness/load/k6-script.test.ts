import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { isTwinError } from '../../../core/errors.ts';
import {
  findK6,
  interpretK6Exit,
  k6Command,
  k6ResultFrom,
  runWithK6,
  timelineFromPoints,
} from '../../../harness/load/k6-runner.ts';
import { k6Script } from '../../../harness/load/k6-script.ts';
import { validateProfile } from '../../../load/profile.ts';
import { loadProfile, PROFILE_NAMES } from '../../../load/profiles/index.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);

describe('k6 scripts from load profiles', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('each seed profile becomes a k6 TypeScript script that type-checks against @types/k6', async () => {
    // Under the repository (.twin/ is ignored) so that 'k6/http' resolves to node_modules/@types/k6.
    await mkdir(path.join(root, '.twin'), { recursive: true });
    const dir = await mkdtemp(path.join(root, '.twin', 'k6-typecheck-'));
    dirs.push(dir);
    for (const name of PROFILE_NAMES) {
      await writeFile(path.join(dir, `${name}.ts`), k6Script(loadProfile(name), `load/profiles/${name}.ts`));
    }
    await writeFile(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'es2020',
          module: 'esnext',
          moduleResolution: 'bundler',
          lib: ['es2020'],
          types: ['k6'],
          noUnusedLocals: true,
        },
        include: ['*.ts'],
      }),
    );
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', dir], { cwd: dir }).then(
      () => ({ code: 0, out: '' }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(result.out).toBe('');
    expect(result.code).toBe(0);

    // A mistake the type-check must catch (so the check above can fail): a number where k6 wants a duration string.
    await writeFile(
      path.join(dir, 'broken.ts'),
      "import type { Options } from 'k6/options';\nexport const options: Options = { scenarios: { s: { executor: 'constant-vus', duration: 5 } } };\n",
    );
    const broken = await run(process.execPath, [tsc, '-p', dir], { cwd: dir }).then(
      () => 0,
      (e: { code: number }) => e.code,
    );
    expect(broken).not.toBe(0);
  }, 60_000);

  it('keeps the profile: executor options in k6 spelling, thresholds unchanged, the request mix and tags', async () => {
    const steady = loadProfile('steady');
    const script = k6Script(steady);
    const options = JSON.parse(/export const options: Options = (\{[\s\S]*?\n\});/.exec(script)![1]!);
    expect(options.scenarios.steady).toEqual({
      executor: 'constant-arrival-rate',
      rate: 100,
      timeUnit: '1s',
      duration: '30s',
      preAllocatedVUs: 50,
      maxVUs: 200,
      gracefulStop: '10s',
    });
    expect(options.thresholds).toEqual({
      http_req_failed: ['rate<0.0005'],
      http_req_duration: ['p(95)<500', { threshold: 'p(99)<3000', abortOnFail: true, delayAbortEval: '10s' }],
      'http_req_duration{name:predict}': ['p(95)<500'],
      dropped_iterations: ['count<30'],
    });
    expect(options.tags).toEqual({ profile: 'steady', system: 'ai-platform' });
    expect(script).toContain('"path": "/api/v1/predict?sensor=s-1&value=21.5"');
    expect(script).toContain('__ENV.BASE_URL');
    const spike = JSON.parse(
      /export const options: Options = (\{[\s\S]*?\n\});/.exec(k6Script(loadProfile('spike')))![1]!,
    );
    expect(spike.scenarios.spike.stages[1]).toEqual({ duration: '3s', target: 200 });
    expect(spike.scenarios.spike.startRate).toBe(20);
  });
});

describe('k6 runner', () => {
  it('builds the exact k6 command', () => {
    expect(
      k6Command({
        k6: '/usr/bin/k6',
        script: 'r/steady.ts',
        baseUrl: 'http://127.0.0.1:8080',
        summaryFile: 'r/s.json',
        pointsFile: 'r/p.json',
      }),
    ).toEqual({
      file: '/usr/bin/k6',
      args: [
        'run',
        '--no-color',
        '--quiet',
        '-e',
        'BASE_URL=http://127.0.0.1:8080',
        '-e',
        'SUMMARY_JSON=r/s.json',
        '--out',
        'json=r/p.json',
        'r/steady.ts',
      ],
      env: { K6_NO_USAGE_REPORT: 'true' },
    });
  });

  it('reads exit codes as k6 documents them: 0 passed, 99 thresholds failed, others are errors', () => {
    expect(interpretK6Exit(0)).toBe('passed');
    expect(interpretK6Exit(99)).toBe('thresholds-failed');
    for (const code of [1, 104, 107, 108]) {
      try {
        interpretK6Exit(code);
        expect.unreachable();
      } catch (e) {
        expect(isTwinError(e, 'TWIN_PROCESS_FAILED')).toBe(true);
        expect((e as Error).message).toContain(`exit code ${code}`);
      }
    }
    expect(() => interpretK6Exit(null, 'SIGKILL')).toThrow(/signal SIGKILL/);
  });

  it('maps k6 summary data and JSON points to the engine result shape', () => {
    const profile = validateProfile({
      name: 'p',
      target: { kind: 'Service', namespace: 'n', name: 's' },
      scenario: { executor: 'constant-vus', vus: 1, duration: '2s' },
      requests: [{ path: '/' }],
      thresholds: {
        http_req_duration: [{ threshold: 'p(95)<100', abortOnFail: true }],
        http_req_failed: ['rate<0.01'],
      },
    });
    const metrics = {
      http_req_duration: {
        type: 'trend' as const,
        contains: 'time' as const,
        values: { 'p(95)': 150, avg: 80 },
        thresholds: { 'p(95)<100': { ok: false } },
      },
      http_req_failed: {
        type: 'rate' as const,
        contains: 'default' as const,
        values: { rate: 0 },
        thresholds: { 'rate<0.01': { ok: true } },
      },
    };
    const points = [
      '{"type":"Metric","data":{"name":"http_req_duration"},"metric":"http_req_duration"}',
      '{"type":"Point","data":{"time":"2026-01-01T00:00:00.100Z","value":10,"tags":{}},"metric":"http_req_duration"}',
      '{"type":"Point","data":{"time":"2026-01-01T00:00:00.600Z","value":30,"tags":{}},"metric":"http_req_duration"}',
      '{"type":"Point","data":{"time":"2026-01-01T00:00:01.200Z","value":1,"tags":{}},"metric":"http_req_failed"}',
      '{"type":"Point","data":{"time":"2026-01-01T00:00:01.300Z","value":200,"tags":{}},"metric":"http_req_duration"}',
    ].join('\n');
    const r = k6ResultFrom(profile, metrics, points, {
      baseUrl: 'http://x',
      startedAt: 't',
      durationMs: 2000,
      verdict: 'thresholds-failed',
    });
    expect(r.runner).toBe('k6');
    expect(r.thresholds).toEqual([
      { metric: 'http_req_duration', expression: 'p(95)<100', ok: false, actual: 150, abortOnFail: true },
      { metric: 'http_req_failed', expression: 'rate<0.01', ok: true, actual: 0, abortOnFail: false },
    ]);
    expect(timelineFromPoints(points)).toEqual([
      { t: 0, reqs: 2, failed: 0, dropped: 0, vus: 0, p50: 10, p95: 30, p99: 30, max: 30 },
      { t: 1, reqs: 1, failed: 1, dropped: 0, vus: 0, p50: 200, p95: 200, p99: 200, max: 200 },
    ]);
  });
});

const k6 = await findK6();
describe.skipIf(!k6)(`k6 integration (needs k6 ≥ 1.0: ${k6 ? k6 : 'not found on PATH or K6_BINARY'})`, () => {
  it('runs a generated script against a loopback server and reads its thresholds back', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = await mkdtemp(path.join(root, '.twin', 'k6-run-'));
    try {
      const profile = validateProfile({
        name: 'k6-smoke',
        target: { kind: 'Service', namespace: 'n', name: 's' },
        scenario: { executor: 'constant-arrival-rate', rate: 20, duration: '2s', preAllocatedVUs: 5 },
        requests: [{ path: '/' }],
        thresholds: { http_req_failed: ['rate<0.01'], http_reqs: ['count>30'] },
      });
      const r = await runWithK6(profile, {
        k6: k6!,
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        workDir: dir,
      });
      expect(r.thresholds.every((t) => t.ok)).toBe(true);
      expect(r.metrics['http_reqs']!.values['count']).toBeGreaterThan(30);
      expect(
        JSON.parse(await readFile(path.join(dir, 'k6-smoke.summary.json'), 'utf8')).metrics,
      ).toBeDefined();
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
