/**
 * `npm run bench -- stability [--runs 20] [--scenarios canary-rollout,az-outage] [--time-scale N]`: runs each scenario
 * `--runs` times in a row through the CLI, as a user runs it, and counts passes; a failed run's
 * report directory is kept and named. The default is every scenario of scenarios/ (a long run: for
 * the integrator's machine, not a shared one).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scenarioNames } from '../harness/cli/scenario-catalog.ts';
import { REPO_ROOT } from '../system/repo-root.ts';

export async function benchStability(args: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const runs = Number(arg('--runs') ?? 20);
  const names = arg('--scenarios')?.split(',') ?? scenarioNames(REPO_ROOT);
  const scale = arg('--time-scale');
  const reports = mkdtempSync(path.join(os.tmpdir(), 'twin-stability-'));
  console.log(
    `stability: ${names.join(', ')} × ${runs}${scale ? ` at time scale ×${scale}` : ''} (reports of failed runs under ${reports})`,
  );
  const lines: string[] = [];
  let failed = 0;
  for (const name of names) {
    let passed = 0;
    const seconds: number[] = [];
    const failures: string[] = [];
    for (let i = 1; i <= runs; i++) {
      const dir = path.join(reports, `${name}-${i}`);
      const t0 = performance.now();
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            'harness/cli/main.ts',
            'scenario',
            name,
            '--report-dir',
            dir,
            ...(scale ? ['--time-scale', scale] : []),
          ],
          { cwd: REPO_ROOT, stdio: 'ignore', env: { ...process.env, TWIN_QUIET: '1' } },
        );
        child.once('exit', (c) => resolve(c));
      });
      seconds.push((performance.now() - t0) / 1000);
      if (code === 0) {
        passed++;
        rmSync(dir, { recursive: true, force: true });
      } else failures.push(`run ${i} exit ${code}: ${dir}`);
      console.log(
        `${name} run ${i}/${runs}: ${code === 0 ? 'passed' : `FAILED (exit ${code}, ${dir})`} in ${seconds.at(-1)!.toFixed(1)} s`,
      );
    }
    failed += runs - passed;
    const sorted = [...seconds].sort((a, b) => a - b);
    lines.push(
      `${name}: ${passed}/${runs} passed, wall time median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} s${failures.length ? `; ${failures.join('; ')}` : ''}`,
    );
  }
  console.log(`\n${lines.join('\n')}`);
  if (failed === 0) rmSync(reports, { recursive: true, force: true });
  else process.exitCode = 1;
}
