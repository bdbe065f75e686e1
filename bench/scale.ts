/**
 * `npm run bench -- scale [--nodes 100,300,1000] [--with-3000] [--pods-per-node 30] [--timeout 600]`:
 * the twin at production size (issue 16). For each node count N: a system of N m5.2xlarge nodes
 * round-robin over three zones (a /20 node subnet each) and 30 Deployments of N replicas, every
 * container emulated (no image is bound), brought up by `Twin.up` at ×100. Each size runs in a
 * process of its own (bench/scale-run.ts), so its peak RSS is its own. Printed per size: the time from
 * the start of `up` until every pod is bound to a node, until every pod is Ready, until `up` returned,
 * the scheduling throughput (pods bound per second from the first to the last bind) and the peak
 * resident set size of the process. Targets (issue 16): 1,000 nodes / 30,000 pods all bound ≤ 10 s,
 * all Ready ≤ 20 s, peak RSS ≤ 2 GB, ≥ 3,000 pods/s, and the time per pod growing no more than 1.5×
 * from 100 to 1,000 nodes.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { REPO_ROOT } from '../system/system.ts';

export interface ScaleResult {
  nodes: number;
  pods: number;
  /** Seconds from the start of up until the last pod was bound; undefined when not all were. */
  boundS?: number;
  readyS?: number;
  upS?: number;
  /** Pods bound per second between the first and the last bind. */
  podsPerSecond?: number;
  bound: number;
  ready: number;
  peakRssMb: number;
  error?: string;
  loadAverage: number;
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

function runSize(nodes: number, podsPerNode: number, timeoutS: number): Promise<ScaleResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/scale-run.ts', String(nodes), String(podsPerNode), String(timeoutS)],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out
        .trim()
        .split('\n')
        .find((l) => l.startsWith('{'));
      if (!line) return reject(new Error(`bench scale ${nodes} nodes: exit ${code} without a result`));
      resolve(JSON.parse(line) as ScaleResult);
    });
  });
}

const s = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(1)} s`);

export async function benchScale(args: string[]): Promise<void> {
  const sizes = (option(args, '--nodes') ?? '100,300,1000')
    .split(',')
    .map((n) => Number(n.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  if (args.includes('--with-3000') && !sizes.includes(3000)) sizes.push(3000);
  const podsPerNode = Number(option(args, '--pods-per-node') ?? 30);
  const timeoutS = Number(option(args, '--timeout') ?? 600);
  const results: ScaleResult[] = [];
  console.log(
    `scale: ${podsPerNode} emulated pods per node, 30 Deployments, 3 zones, ×100; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at the start`,
  );
  console.log(
    '| nodes / pods | all bound | all Ready | `up` returned | pods/s bound | µs per pod | peak RSS | load |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const nodes of sizes) {
    const r = await runSize(nodes, podsPerNode, timeoutS);
    results.push(r);
    const perPod = r.podsPerSecond ? `${(1e6 / r.podsPerSecond).toFixed(0)}` : '—';
    console.log(
      `| ${r.nodes.toLocaleString('en')} / ${r.pods.toLocaleString('en')} | ${r.boundS !== undefined ? s(r.boundS) : `${r.bound} bound`} | ${r.readyS !== undefined ? s(r.readyS) : `${r.ready} Ready`} | ${s(r.upS)} | ${r.podsPerSecond?.toFixed(0) ?? '—'} | ${perPod} | ${r.peakRssMb.toFixed(0)} MB | ${r.loadAverage.toFixed(2)} |${r.error ? ` ${r.error}` : ''}`,
    );
  }
  const first = results.find((r) => r.podsPerSecond);
  const last = [...results].reverse().find((r) => r.podsPerSecond);
  if (first && last && first !== last)
    console.log(
      `bench:scale  time per pod grows ${(first.podsPerSecond! / last.podsPerSecond!).toFixed(2)}× from ${first.nodes} to ${last.nodes} nodes (target ≤ 1.5×)`,
    );
  const big = results.find((r) => r.nodes === 1000);
  if (big)
    console.log(
      `bench:scale  1,000 nodes: all bound ${s(big.boundS)} (target ≤ 10 s), all Ready ${s(big.readyS)} (≤ 20 s), ${big.podsPerSecond?.toFixed(0) ?? '—'} pods/s (≥ 3,000), peak RSS ${big.peakRssMb.toFixed(0)} MB (≤ 2,048)`,
    );
  if (results.some((r) => r.error)) process.exitCode = 1;
}
