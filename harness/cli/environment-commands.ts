import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isTwinError, TwinError } from '../../core/errors.ts';
import { processRuns as alive } from '../../core/process.ts';
import type { Environment } from '../../env/environment.ts';
import { upEnvironment } from '../../env/registry.ts';
import { progress } from '../scenario/progress.ts';
import { runOptionsFromEnv } from '../scenario/run-options.ts';

interface UpState {
  pid: number;
  system: string;
  env: string;
  /** The cluster profile the twin was brought up as (eks when none was given). */
  profile?: string;
  startedAt: string;
  timeScale: number;
  workDir: string;
  ingresses: Record<string, string>;
  workloads: string[];
  /** The environment's kubeconfig (`twin kubeconfig` prints it). */
  kubeconfig?: string;
}

const stateFile = (workDir: string) => path.join(workDir, 'state.json');

/**
 * `twin up`: the twin lives in this process, so up stays in the foreground until Ctrl-C or
 * `twin down` (SIGTERM), then tears everything down. It leaves a state file for `status`/`down`.
 */
export async function environmentUp(opts: {
  system: string;
  overlay?: string;
  profile?: string;
  env: string;
  timeScale?: string;
  workDir: string;
  kubeconfig?: string;
  context?: string;
}): Promise<number> {
  const root = path.resolve(opts.workDir);
  const existing = await readState(root);
  if (existing && alive(existing.pid)) {
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `an environment is already up (pid ${existing.pid}, ${existing.system} on ${existing.env}); run \`twin down\` first`,
    );
  }
  if (opts.timeScale !== undefined) process.env['TWIN_TIME_SCALE'] = opts.timeScale;
  const { timeScale } = runOptionsFromEnv({ ...process.env, TWIN_ENV: opts.env });
  const workDir = path.join(root, 'environment');
  await rm(workDir, { recursive: true, force: true });
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let env: Environment | undefined;
  try {
    env = await upEnvironment(opts.env, {
      system: opts.system,
      ...(opts.overlay ? { overlay: opts.overlay } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      timeScale,
      workDir,
      progress,
      signal: controller.signal,
      ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
      ...(opts.context ? { context: opts.context } : {}),
    });
    const ingresses: Record<string, string> = {};
    for (const ing of await env.kube.list({ kind: 'Ingress' })) {
      const ref = { namespace: ing.metadata.namespace ?? 'default', name: ing.metadata.name };
      ingresses[`${ref.namespace}/${ref.name}`] = await env.net.ingressUrl(ref);
    }
    const workloads: string[] = [];
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout']) {
      // a kind the cluster does not serve (Rollout without Argo Rollouts) has no workloads
      const listed = await env.kube.list({ kind }).catch((err: unknown) => {
        if (isTwinError(err, 'TWIN_NOT_FOUND')) return [];
        throw err;
      });
      for (const w of listed) workloads.push(`${kind} ${w.metadata.namespace}/${w.metadata.name}`);
    }
    const state: UpState = {
      pid: process.pid,
      system: opts.system,
      env: opts.env,
      ...(opts.profile ? { profile: opts.profile } : {}),
      startedAt: new Date().toISOString(),
      timeScale,
      workDir,
      ingresses,
      workloads,
      ...(env.kubeconfig ? { kubeconfig: env.kubeconfig } : {}),
    };
    await mkdir(root, { recursive: true });
    await writeFile(stateFile(root), JSON.stringify(state, null, 2));
    for (const [name, url] of Object.entries(ingresses)) progress(`Ingress ${name}: ${url}`);
    if (env.kubeconfig)
      progress(`kubeconfig: ${env.kubeconfig} (kubectl --kubeconfig ${env.kubeconfig} get pods -A)`);
    progress(
      `${opts.system} is up on ${opts.env}${opts.profile ? ` (profile ${opts.profile})` : ''}; Ctrl-C or \`twin down\` stops it`,
    );
    await new Promise<void>((resolve) =>
      controller.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    progress('stopping');
    return 0;
  } finally {
    await env?.down();
    await rm(stateFile(root), { force: true });
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export async function environmentStatus(workDir: string): Promise<number> {
  const root = path.resolve(workDir);
  const state = await readState(root);
  if (!state || !alive(state.pid)) {
    process.stdout.write('no environment is up (start one with `twin up`)\n');
    return state ? 1 : 0;
  }
  const lines = [
    `${state.system} on ${state.env}${state.profile ? ` (profile ${state.profile})` : ''} (pid ${state.pid}, since ${state.startedAt}, time scale ×${state.timeScale})`,
    ...Object.entries(state.ingresses).map(([n, u]) => `  Ingress ${n}: ${u}`),
    ...state.workloads.map((w) => `  ${w}`),
    `  pod logs: ${path.join(state.workDir, 'pods')}`,
    ...(state.kubeconfig ? [`  kubeconfig: ${state.kubeconfig}`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** `twin kubeconfig`: the path of the running environment's kubeconfig (for `kubectl --kubeconfig` / KUBECONFIG). */
export async function environmentKubeconfig(workDir: string): Promise<number> {
  const state = await readState(path.resolve(workDir));
  if (!state || !alive(state.pid) || !state.kubeconfig) {
    process.stderr.write(
      'twin: no environment is up (start one with `twin up`), so there is no kubeconfig\n',
    );
    return 1;
  }
  process.stdout.write(`${state.kubeconfig}\n`);
  return 0;
}

export async function environmentDown(workDir: string): Promise<number> {
  const root = path.resolve(workDir);
  const state = await readState(root);
  if (!state || !alive(state.pid)) {
    await rm(stateFile(root), { force: true });
    process.stdout.write('no environment is up\n');
    return 0;
  }
  process.kill(state.pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (alive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(state.pid))
    throw new TwinError('TWIN_TIMEOUT', `the environment (pid ${state.pid}) did not stop within 20 s`);
  process.stdout.write(`${state.system} on ${state.env} is down\n`);
  return 0;
}

async function readState(root: string): Promise<UpState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile(root), 'utf8'));
  } catch {
    return undefined;
  }
}
