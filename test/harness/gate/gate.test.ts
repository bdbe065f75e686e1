import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Environment } from '../../../env/environment.ts';
import { buildBaseline, compareWithBaseline, readBaseline } from '../../../harness/gate/baseline.ts';
import { runProfilesOn } from '../../../harness/gate/gate.ts';
import { writeGateReport } from '../../../harness/gate/report.ts';
import { describeFailures, judgeGate } from '../../../harness/gate/verdict.ts';
import type { LoadResult } from '../../../harness/load/engine.ts';
import { validateProfile } from '../../../load/profile.ts';

const fixture = path.resolve(import.meta.dirname, '../../fixtures/load/baseline.ai-platform.local.json');

/** A result with the three figures the regression rule reads. */
function result(profile: string, p95: number, errorRate: number, throughput: number): LoadResult {
  return {
    profile,
    executor: 'constant-arrival-rate',
    runner: 'embedded',
    target: 'http://127.0.0.1:1',
    startedAt: '2026-11-23T11:00:00.000Z',
    durationMs: 30_000,
    metrics: {
      http_req_duration: { type: 'trend', contains: 'time', values: { 'p(95)': p95 } },
      http_req_failed: { type: 'rate', contains: 'default', values: { rate: errorRate } },
      http_reqs: {
        type: 'counter',
        contains: 'default',
        values: { count: throughput * 30, rate: throughput },
      },
    },
    thresholds: [
      {
        metric: 'http_req_duration',
        expression: 'p(95)<500',
        ok: p95 < 500,
        actual: p95,
        abortOnFail: false,
      },
    ],
    timeline: [],
    percentiles: [],
  };
}

describe('gate verdict against a fixture baseline', () => {
  it('passes within the rule: p95 ≤ mean × 1.10 + noise, error rate ≤ mean + noise, throughput ≥ mean − noise', async () => {
    const baseline = (await readBaseline(fixture))!;
    // limits: p95 100 × 1.1 + max(8, 5) = 118; errors 0 + max(0, 0.0005); throughput 100 − max(0.5, 2) = 98.
    const v = judgeGate([result('steady', 117.9, 0.0004, 98.1)], baseline);
    expect(v.passed).toBe(true);
    expect(v.checks.map((c) => [c.figure, Math.round(c.limit * 1e6) / 1e6, c.ok])).toEqual([
      ['p95', 118, true],
      ['errorRate', 0.0005, true],
      ['throughput', 98, true],
    ]);
  });

  it('fails on each regression and names it', async () => {
    const baseline = (await readBaseline(fixture))!;
    const v = judgeGate([result('steady', 118.5, 0.001, 97)], baseline);
    expect(v.passed).toBe(false);
    expect(v.regressions.map((c) => c.figure)).toEqual(['p95', 'errorRate', 'throughput']);
    const lines = describeFailures(v);
    expect(lines[0]).toMatch(
      /^steady: regression: p95 no more than 10 % worse .*: p95 118\.5 vs limit 118 \(baseline 100\)/,
    );
    expect(lines[2]).toMatch(/throughput 97 vs limit 98/);
  });

  it('a failed threshold fails the gate without a baseline, and the note says the rule was skipped', () => {
    const v = judgeGate([result('steady', 612, 0, 100)], undefined, 'no baseline at x');
    expect(v.passed).toBe(false);
    expect(describeFailures(v)).toEqual([
      "steady: threshold http_req_duration: 'p(95)<500' failed (actual 612)",
    ]);
    expect(v.baselineNote).toBe('no baseline at x');
  });

  it('records the noise allowance from repeated runs', () => {
    const b = buildBaseline(
      {
        steady: [
          result('steady', 90, 0, 100),
          result('steady', 110, 0.001, 99),
          result('steady', 100, 0, 101),
        ],
      },
      { system: 'ai-platform', env: 'local' },
    );
    expect(b.profiles['steady']!.mean).toEqual({ p95: 100, errorRate: 0.001 / 3, throughput: 100 });
    expect(b.profiles['steady']!.noise.p95).toBe(10);
    expect(b.profiles['steady']!.noise.throughput).toBe(1);
    expect(b.runs).toBe(3);
    expect(compareWithBaseline([result('steady', 119, 0, 100)], b).every((c) => c.ok)).toBe(true);
    expect(compareWithBaseline([result('steady', 121, 0, 100)], b)[0]!.ok).toBe(false);
  });

  it('a bad baseline file is an input error naming the file and the field', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gate-baseline-'));
    const file = path.join(dir, 'b.json');
    await writeFile(file, JSON.stringify({ kind: 'LoadBaseline', version: 1 }));
    await expect(readBaseline(file)).rejects.toThrow(new RegExp(`--baseline ${file}: system: `));
    await writeFile(file, '{');
    await expect(readBaseline(file)).rejects.toThrow(/not JSON/);
    expect(await readBaseline(path.join(dir, 'missing.json'))).toBeUndefined();
    await rm(dir, { recursive: true, force: true });
  });
});

describe('gate on an environment (a loopback api standing in for the Ingress)', () => {
  const state = { delayMs: 0 };
  const server = http.createServer((_req, res) => setTimeout(() => res.end('{"ok":true}'), state.delayMs));
  let url = '';
  let dir = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(os.tmpdir(), 'gate-'));
  });
  afterAll(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const env = {
    name: 'fake',
    net: {
      ingressUrl: async () => url,
      serviceUrl: async () => url,
    },
  } as unknown as Environment;
  const profile = validateProfile({
    name: 'api',
    target: { kind: 'Ingress', namespace: 'production', name: 'ai-platform' },
    scenario: {
      executor: 'constant-arrival-rate',
      rate: 20,
      duration: '2s',
      // 2 s per request at 20/s needs 40 VUs; none may be dropped even on a loaded machine.
      preAllocatedVUs: 100,
      maxVUs: 100,
      gracefulStop: '20s',
    },
    requests: [{ path: '/api/v1/version' }],
    thresholds: { http_req_failed: ['rate<0.0005'], http_req_duration: ['p(95)<1500'] },
  });
  const run = (reportDir: string) =>
    runProfilesOn(env, { profiles: [profile], runs: 1, runner: 'embedded', reportDir, progress: () => {} });

  it('passes on a fast api and fails, naming the threshold, when the api adds latency; reports say why', async () => {
    state.delayMs = 0;
    const fast = judgeGate((await run(dir))[0]!, undefined);
    expect(fast.passed).toBe(true);

    state.delayMs = 2000;
    const slowResults = (await run(dir))[0]!;
    const slow = judgeGate(slowResults, undefined);
    expect(slow.passed).toBe(false);
    expect(describeFailures(slow)).toEqual([
      expect.stringMatching(
        /^api: threshold http_req_duration: 'p\(95\)<1500' failed \(actual (2\d\d\d|[3-9]\d\d\d)(\.\d+)?\)$/,
      ),
    ]);

    const written = await writeGateReport(dir, {
      system: 'ai-platform',
      env: 'fake',
      overlay: 'local',
      startedAt: 'a',
      finishedAt: 'b',
      baselinePath: 'none',
      verdict: slow,
      results: slowResults,
    });
    const junit = await readFile(written.junit, 'utf8');
    expect(junit).toContain('<testsuite name="gate api" tests="2" failures="1"');
    expect(junit).toContain('failure message="threshold http_req_duration: p(95)&lt;1500 failed');
    const md = await readFile(written.markdown, 'utf8');
    expect(md).toContain('## Performance gate: ❌ failed');
    expect(md).toContain("- api: threshold http_req_duration: 'p(95)<1500' failed");
    const html = await readFile(written.html, 'utf8');
    expect(html).toContain('aria-label="latency over time"');
    expect(html).toContain('aria-label="latency by percentile"');
    expect(JSON.parse(await readFile(written.json, 'utf8')).verdict.passed).toBe(false);
  }, 30_000);
});
