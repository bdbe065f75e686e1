import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { TwinError } from '../../core/errors.ts';
import { waitUntil } from '../../core/wait.ts';
import type { KubeObject } from '../../kube/object.ts';
import { parseYamlDocuments, toKubeObjects } from '../../system/render/index.ts';
import { workloadsNotReady } from '../cluster/index.ts';
import type { ClientNodeKubeApi } from '../kube-client.ts';
import { formatStep, type K3dStep, shellQuote } from './k3d-steps.ts';

/** What running the steps needs; tests pass fakes. */
export interface K3dRunnerDeps {
  /** Runs a command; returns its stdout. Rejects with the command's stderr when it fails. */
  exec(argv: string[], options?: { cwd?: string; env?: Record<string, string> }): Promise<string>;
  /** Starts (or finds running) a service container; `stop` is undefined for one this run did not start. */
  startContainer?(
    step: Extract<K3dStep, { kind: 'container' }>,
  ): Promise<{ endpoint: string; stop?: () => Promise<void> }>;
  /** The cluster's API, available once the kubeconfig step has run. */
  kube(kubeconfigText: string): ClientNodeKubeApi;
  fetchText(url: string): Promise<string>;
  progress(message: string): void;
  cwd: string;
  signal?: AbortSignal;
  /** Real-time limit of each wait step. */
  waitTimeoutMs?: number;
}

export async function execaCommand(
  argv: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const [file, ...args] = argv;
  const r = await execa(file!, args, {
    cwd: options.cwd,
    reject: false,
    stdin: 'ignore',
    ...(options.env ? { env: options.env } : {}),
  });
  if (r.failed) {
    const what = argv.map(shellQuote).join(' ');
    throw new TwinError(
      'TWIN_PROCESS_FAILED',
      `\`${what}\` failed (exit ${r.exitCode ?? r.signal}): ${String(r.stderr || r.stdout || r.message)
        .trim()
        .split('\n')
        .slice(-5)
        .join('\n')}`,
    );
  }
  return String(r.stdout);
}

export async function fetchText(url: string): Promise<string> {
  const res = await fetch(url, { redirect: 'follow' });
  if (!res.ok) throw new TwinError('TWIN_PROCESS_FAILED', `GET ${url}: HTTP ${res.status} ${res.statusText}`);
  return res.text();
}

/** What a run has so far: the API client once the kubeconfig is known, endpoints, containers it started. */
export interface K3dRunState {
  kube?: ClientNodeKubeApi;
  vars: Record<string, string>;
  started: { name: string; stop: () => Promise<void> }[];
}

/** `{VAR}` in an argument → the run's value for it (an endpoint known only once its container runs). */
export function substitute(arg: string, vars: Record<string, string>): string {
  return arg.replace(/\{([A-Z_]+)\}/g, (m, name: string) => vars[name] ?? m);
}

/** Executes the steps in order, recording into `state` what later steps and down() need. */
export async function runK3dSteps(
  steps: K3dStep[],
  deps: K3dRunnerDeps,
  state: K3dRunState = { vars: {}, started: [] },
): Promise<K3dRunState> {
  let kube = state.kube;
  const timeoutMs = deps.waitTimeoutMs ?? 10 * 60_000;
  const needKube = (): ClientNodeKubeApi => {
    if (!kube) throw new TwinError('TWIN_INVALID', 'a Kubernetes step ran before the kubeconfig step');
    return kube;
  };
  for (const [i, step] of steps.entries()) {
    if (deps.signal?.aborted) throw new TwinError('TWIN_ABORTED', 'k3d: interrupted');
    deps.progress(`k3d ${i + 1}/${steps.length}: ${step.why}`);
    switch (step.kind) {
      case 'run': {
        const argv = step.argv.map((a) => substitute(a, state.vars));
        const out = await deps.exec(argv, { cwd: deps.cwd, ...(step.env ? { env: step.env } : {}) });
        if (step.stdoutTo) {
          await mkdir(path.dirname(step.stdoutTo), { recursive: true });
          await writeFile(step.stdoutTo, out, { mode: 0o600 });
          if (step.argv[1] === 'kubeconfig') state.kube = kube = deps.kube(out);
        }
        break;
      }
      case 'container': {
        if (!deps.startContainer) throw new TwinError('TWIN_INVALID', `no way to start ${step.image} here`);
        const c = await deps.startContainer(step);
        state.vars[step.endpointVar] = c.endpoint;
        if (c.stop) state.started.push({ name: step.image, stop: c.stop });
        break;
      }
      case 'write':
        await mkdir(path.dirname(step.file), { recursive: true });
        await writeFile(step.file, step.content);
        break;
      case 'apply':
        await needKube().apply(step.objects);
        break;
      case 'apply-url': {
        const objects = toKubeObjects(parseYamlDocuments(await deps.fetchText(step.url), step.url), step.url);
        await needKube().applyManifest(objects, step.namespace);
        break;
      }
      case 'patch-node-status':
        await needKube().patchNodeStatus(step.node, step.patch);
        break;
      case 'wait':
        await waitStep(needKube(), step, timeoutMs, deps.signal);
        break;
    }
  }
  return state;
}

async function waitStep(
  kube: ClientNodeKubeApi,
  step: Extract<K3dStep, { kind: 'wait' }>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  await waitUntil(
    async (progress) => {
      const pending = await notYet(kube, step);
      if (pending.length === 0) return true;
      progress.status(`still waiting for ${pending.slice(0, 5).join(', ')}`);
      return false;
    },
    { what: `k3d: ${step.why}`, timeout: timeoutMs, interval: 2000, ...(signal ? { signal } : {}) },
  );
}

/** What a wait step is still waiting for (empty when done). */
export async function notYet(
  kube: ClientNodeKubeApi,
  step: Extract<K3dStep, { kind: 'wait' }>,
): Promise<string[]> {
  const cond = (o: KubeObject, type: string) =>
    (o.status?.conditions ?? []).some((c: any) => c.type === type && c.status === 'True');
  switch (step.what) {
    case 'nodes-ready': {
      const nodes = await kube.list({ kind: 'Node' });
      if (nodes.length === 0) return ['any node'];
      return nodes.filter((n) => !cond(n, 'Ready')).map((n) => `Node ${n.metadata.name}`);
    }
    case 'crds-established':
      return (await kube.list({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' }))
        .filter((c) => !cond(c, 'Established'))
        .map((c) => `CRD ${c.metadata.name}`);
    case 'deployments-available':
      return workloadsNotReady(kube, step.namespace);
  }
}

/** The dry run: every step as it would run, numbered, paths shown relative to `cwd`. */
export function dryRunText(steps: K3dStep[], cwd: string, startAt = 1): string {
  return steps
    .map((s, i) => formatStep(s, startAt + i))
    .join('\n\n')
    .replaceAll(`${cwd}${path.sep}`, '');
}
