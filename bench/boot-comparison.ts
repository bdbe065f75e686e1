/**
 * `npm run bench -- boot --against <git ref> [--runs N]`: `twin up` of the AI platform here and at
 * another commit, on the same machine at the same time, for targets stated against an earlier twin
 * ("no more than 10 % slower than today", issue 10). The other commit's tree is exported with
 * `git archive` into a temporary directory that uses this checkout's node_modules; the runs alternate
 * (theirs, ours, theirs, …), each in a process of its own running that tree's own `bench boot`, so a
 * machine that gets busier or quieter during the comparison weighs on both sides alike.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../system/system.ts';

type BootRun = { seconds: number; ready: string } | { failed: string };

/** One `bench boot --runs 1` in `tree`; its line "boot run 1: 4.12 s until 25/25 pods Ready". */
function bootOnce(tree: string): Promise<BootRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/main.ts', 'boot', '--runs', '1'], {
      cwd: tree,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const m = /boot run 1: ([\d.]+) s until (\d+\/\d+) pods Ready/.exec(out);
      if (code === 0 && m) resolve({ seconds: Number(m[1]), ready: m[2]! });
      // A boot that fails (a workload not ready in time) is a result too: say which and why.
      else
        resolve({
          failed: /TwinError: ([^\n]+)/.exec(err)?.[1] ?? `exit ${code}: ${err.trim().split('\n').at(-1)}`,
        });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchBootAgainst(ref: string, runs: number): Promise<void> {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: REPO_ROOT })
    .toString()
    .trim();
  const subject = execFileSync('git', ['log', '-1', '--format=%h %s', commit], { cwd: REPO_ROOT })
    .toString()
    .trim();
  const here = execFileSync('git', ['log', '-1', '--format=%h %s', 'HEAD'], { cwd: REPO_ROOT })
    .toString()
    .trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT })
    .toString()
    .trim();
  const tree = mkdtempSync(path.join(os.tmpdir(), 'twin-bench-against-'));
  try {
    execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C '${tree}'`], { cwd: REPO_ROOT });
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(tree, 'node_modules'));
    console.log(`boot against ${subject}`);
    console.log(`         this ${here}${dirty ? ' (with uncommitted changes)' : ''}`);
    const theirs: number[] = [];
    const ours: number[] = [];
    const show = (r: BootRun) =>
      'failed' in r ? `failed (${r.failed})` : `${r.seconds.toFixed(2)} s (${r.ready} Ready)`;
    for (let i = 0; i < runs; i++) {
      const a = await bootOnce(tree);
      if (!('failed' in a)) theirs.push(a.seconds);
      const b = await bootOnce(REPO_ROOT);
      if (!('failed' in b)) ours.push(b.seconds);
      console.log(
        `pair ${i + 1}: ${ref} ${show(a)}, this ${show(b)}, load average ${os.loadavg()[0]!.toFixed(1)}`,
      );
    }
    const failed = `${runs - ours.length}/${runs} failed here, ${runs - theirs.length}/${runs} at ${ref}`;
    if (ours.length === 0 || theirs.length === 0) {
      console.log(`bench:boot-against  no comparison: ${failed}`);
      process.exitCode = 1;
      return;
    }
    const t = median(theirs);
    const o = median(ours);
    const change = ((o - t) / t) * 100;
    console.log(
      `bench:boot-against  median ${o.toFixed(2)} s here vs ${t.toFixed(2)} s at ${ref} over ${runs} alternating runs (${failed}): ${change >= 0 ? '+' : ''}${change.toFixed(1)} % (target ≤ +10 %)`,
    );
    if (ours.length < runs) process.exitCode = 1;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}
