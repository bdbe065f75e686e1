import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { isTwinError, TwinError } from '../../core/errors.ts';
import { interruption } from '../../core/interrupt.ts';
import { processRuns } from '../../core/process.ts';
import { TeardownStack } from '../../core/teardown.ts';
import { waitUntil } from '../../core/wait.ts';
import { environmentBackend, upEnvironment } from '../../env/registry.ts';
import { REPO_ROOT } from '../../system/repo-root.ts';
import { progress } from '../scenario/progress.ts';
import type { RunOptions } from '../scenario/run-options.ts';
import {
  claimUpState,
  readUpState,
  releaseUpState,
  stateFile,
  stateOwnerRuns,
  type UpState,
  updateUpState,
} from './up-state.ts';

/** Where `twin up` keeps the environment's files inside the work directory. */
const environmentDir = (root: string) => path.join(root, 'environment');

/**
 * `twin up`: the twin lives in this process, so up stays in the foreground until Ctrl-C, SIGTERM,
 * SIGHUP or `twin down`, then tears everything down and removes what it created. The state file is
 * claimed first (the work directory's lock): a second `up` on the same work directory fails and
 * deletes nothing; what a crashed `up` left is removed before this one starts.
 */
export async function environmentUp(run: RunOptions): Promise<number> {
  const root = run.workDir!;
  const system = run.system ?? 'ai-platform';
  const backend = environmentBackend(run.env);
  await backend.preflight({
    ...(run.kubeconfig !== undefined ? { kubeconfig: run.kubeconfig } : {}),
    ...(run.context !== undefined ? { context: run.context } : {}),
  });
  await using teardown = new TeardownStack(progress);
  if (!existsSync(root)) {
    mkdirSync(root, { recursive: true });
    teardown.defer('work directory', () => {
      try {
        rmdirSync(root); // only when empty
      } catch {}
    });
  }
  const state = {
    kind: 'TwinUpState' as const,
    phase: 'starting' as const,
    system,
    env: run.env,
    ...(run.profile ? { profile: run.profile } : {}),
    startedAt: new Date().toISOString(),
    timeScale: run.timeScale,
    workDir: environmentDir(root),
    ingresses: {},
    workloads: [],
  };
  for (;;) {
    const claim = claimUpState(root, state);
    if (claim.claimed) break;
    const holder = claim.holder;
    if (stateOwnerRuns(holder))
      throw new TwinError(
        'TWIN_ALREADY_RUNNING',
        `${root}: an environment is already ${holder.phase} there (pid ${holder.pid}, ${holder.system} on ${holder.env}, since ${holder.startedAt}); run \`twin down${workDirFlag(root)}\` first, or give another --work-dir`,
      );
    await reclaim(root, holder);
  }
  const me = readUpState(root)!;
  teardown.defer('state file', () => releaseUpState(root, me));
  teardown.defer('environment directory', () => rm(environmentDir(root), { recursive: true, force: true }));
  const env = teardown.adopt(
    'environment',
    await upEnvironment(run.env, {
      system,
      ...(run.overlay ? { overlay: run.overlay } : {}),
      ...(run.profile ? { profile: run.profile } : {}),
      ...(run.kubeconfig ? { kubeconfig: run.kubeconfig } : {}),
      ...(run.context ? { context: run.context } : {}),
      timeScale: run.timeScale,
      gpu: run.gpu,
      workDir: environmentDir(root),
      progress,
      signal: interruption(),
    }),
  );
  const ingresses: Record<string, string> = {};
  for (const ing of await env.kube.list({ kind: 'Ingress' })) {
    const ref = { namespace: ing.metadata.namespace ?? 'default', name: ing.metadata.name };
    ingresses[`${ref.namespace}/${ref.name}`] = await env.net.ingressUrl(ref);
  }
  const workloads: string[] = [];
  for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout']) {
    // A system without Argo Rollouts has no Rollout kind to list (no matches for kind, as kubectl says).
    const listed = await env.kube.list({ kind }).catch((err: unknown) => {
      if (isTwinError(err, 'TWIN_NOT_FOUND') || (err as { code?: number }).code === 404) return [];
      throw err;
    });
    for (const w of listed) workloads.push(`${kind} ${w.metadata.namespace}/${w.metadata.name}`);
  }
  updateUpState(root, {
    phase: 'up',
    ingresses,
    workloads,
    ...(env.kubeconfig ? { kubeconfig: env.kubeconfig } : {}),
  });
  for (const [name, url] of Object.entries(ingresses)) progress(`Ingress ${name}: ${url}`);
  if (env.kubeconfig)
    progress(`kubeconfig: ${env.kubeconfig} (kubectl --kubeconfig ${env.kubeconfig} get pods -A)`);
  progress(
    `${system} is up on ${run.env}${run.profile ? ` (profile ${run.profile})` : ''}; Ctrl-C or \`twin down${workDirFlag(root)}\` stops it`,
  );
  await new Promise<void>((resolve) => {
    if (interruption().aborted) return resolve();
    interruption().addEventListener('abort', () => resolve(), { once: true });
  });
  progress('stopping');
  return 0;
}

export async function environmentStatus(root: string): Promise<number> {
  const state = readUpState(root);
  if (!state) {
    process.stdout.write('no environment is up (start one with `twin up`)\n');
    return 0;
  }
  if (!stateOwnerRuns(state)) {
    process.stdout.write(
      `the environment of pid ${state.pid} (${state.system} on ${state.env}) exited without tearing down; \`twin down${workDirFlag(root)}\` removes what it left\n`,
    );
    return 1;
  }
  const lines = [
    `${state.system} on ${state.env}${state.profile ? ` (profile ${state.profile})` : ''} is ${state.phase} (pid ${state.pid}, since ${state.startedAt}, time scale ×${state.timeScale})`,
    ...Object.entries(state.ingresses).map(([n, u]) => `  Ingress ${n}: ${u}`),
    ...state.workloads.map((w) => `  ${w}`),
    `  pod logs: ${path.join(state.workDir, 'pods')}`,
    ...(state.kubeconfig ? [`  kubeconfig: ${state.kubeconfig}`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** `twin kubeconfig`: the path of the running environment's kubeconfig (for `kubectl --kubeconfig` / KUBECONFIG). */
export async function environmentKubeconfig(root: string): Promise<number> {
  const state = readUpState(root);
  if (!state || !stateOwnerRuns(state) || !state.kubeconfig) {
    process.stderr.write(
      'twin: no environment is up (start one with `twin up`), so there is no kubeconfig\n',
    );
    return 1;
  }
  process.stdout.write(`${state.kubeconfig}\n`);
  return 0;
}

/** How long `twin down` waits for `twin up` to tear down (up forces its own exit after 9 s). */
const DOWN_TIMEOUT_MS = 15_000;

export async function environmentDown(root: string): Promise<number> {
  const state = readUpState(root);
  if (!state) {
    process.stdout.write('no environment is up\n');
    return 0;
  }
  if (!stateOwnerRuns(state)) {
    const removed = await reclaim(root, state);
    process.stdout.write(
      `${state.system} on ${state.env} (pid ${state.pid}) had exited without tearing down; removed ${removed.length ? removed.join(', ') : 'its state'}\n`,
    );
    return 0;
  }
  process.kill(state.pid, 'SIGTERM');
  const stopped = await waitUntil(() => !stateOwnerRuns(state), {
    what: `the environment (pid ${state.pid}) to tear down`,
    timeout: DOWN_TIMEOUT_MS,
    interval: 100,
  }).catch((err) => {
    if (!(err instanceof TwinError) || err.code !== 'TWIN_TIMEOUT') throw err;
    return false;
  });
  if (!stopped) {
    process.kill(state.pid, 'SIGKILL');
    await waitUntil(() => !processRuns(state.pid), { what: `pid ${state.pid} to exit`, timeout: 5000 });
    const removed = await reclaim(root, state);
    process.stdout.write(
      `${state.system} on ${state.env} did not stop within ${DOWN_TIMEOUT_MS / 1000} s of SIGTERM: killed pid ${state.pid}${removed.length ? `; removed ${removed.join(', ')}` : ''}\n`,
    );
    return 1;
  }
  process.stdout.write(`${state.system} on ${state.env} is down\n`);
  return 0;
}

/** Removes what the dead `up` of `state` left: its processes, directories and the state file. */
async function reclaim(root: string, state: UpState): Promise<string[]> {
  progress(
    `the environment of pid ${state.pid} (${state.system} on ${state.env}, since ${state.startedAt}) is gone; removing what it left`,
  );
  // The directory is always this work directory's: a state file never decides what gets deleted.
  const dir = environmentDir(root);
  const removed: string[] = [];
  try {
    removed.push(...((await environmentBackend(state.env).reclaim?.(dir)) ?? []));
  } catch (err) {
    progress(`reclaiming ${dir}: ${(err as Error).message}`);
  }
  if (existsSync(dir)) {
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  // Still the dead one's file (a concurrent `up` may have replaced it meanwhile): then remove it.
  releaseUpState(root, state);
  removed.push(stateFile(root));
  return removed;
}

function workDirFlag(root: string): string {
  return path.resolve(root) === path.join(REPO_ROOT, '.twin', 'up') ? '' : ` --work-dir ${root}`;
}
