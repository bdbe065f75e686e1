import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** Runs one fixture scenario through Vitest and returns its exit code and result.json. */
async function runFixture(name: string) {
  const reportDir = await mkdtemp(path.join(os.tmpdir(), `twin-status-${name}-`));
  dirs.push(reportDir);
  const r = spawnSync(
    process.execPath,
    [
      path.join(root, 'node_modules/vitest/vitest.mjs'),
      'run',
      '--config',
      'test/fixtures/scenarios/vitest.config.ts',
      `test/fixtures/scenarios/${name}.scenario.ts`,
    ],
    {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        TWIN_RUN_OPTIONS: JSON.stringify({ reportDir, runId: name }),
        TWIN_QUIET: '1',
      },
      timeout: 120_000,
    },
  );
  const [runDir] = await readdir(reportDir);
  const result = JSON.parse(await readFile(path.join(reportDir, runDir!, 'result.json'), 'utf8'));
  return { code: r.status, result };
}

describe.skipIf(!hasKustomize)('a run that fails is reported as failed (needs kubectl or kustomize)', () => {
  it('when the environment cannot be brought up', async () => {
    const { code, result } = await runFixture('setup-fails');
    expect(code).not.toBe(0);
    expect(result.status).toBe('failed');
    expect(result.steps[0]).toMatchObject({ status: 'failed' });
    expect(result.steps[0].error).toContain('unknown instance type');
  }, 150_000);

  it('when a test fails on a plain expect outside any step', async () => {
    const { code, result } = await runFixture('expect-fails');
    expect(code).not.toBe(0);
    expect(result.status).toBe('failed');
    const failedStep = result.steps.find((s: { status: string }) => s.status === 'failed');
    expect(failedStep.name).toBe('test: fails on a plain expect, outside any step');
    expect(failedStep.error).toContain('two cart pods');
  }, 150_000);

  it('when a measurement breaks one of the bounds of a range (every bound given is checked)', async () => {
    const { code, result } = await runFixture('range-fails');
    expect(code).not.toBe(0);
    expect(result.status).toBe('failed');
    const byName = Object.fromEntries(result.measurements.map((m: { name: string }) => [m.name, m]));
    expect(byName['inside the range']).toMatchObject({ assertion: '≥ 1 and < 10', passed: true });
    expect(byName['under the bottom of the range']).toMatchObject({
      assertion: '≥ 1 and < 10',
      passed: false,
    });
  }, 150_000);
});
