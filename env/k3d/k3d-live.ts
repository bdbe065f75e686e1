import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { TwinError } from '../../core/errors.ts';
import { TeardownStack } from '../../core/teardown.ts';
import { ScaledClock } from '../../kube/clock.ts';
import type { KubeObject } from '../../kube/object.ts';
import { REPO_ROOT } from '../../system/system.ts';
import { ClusterFaults, deployOnCluster, SystemDeployment } from '../cluster/index.ts';
import type { Environment, EnvironmentOptions, TimelineEvent } from '../environment.ts';
import { ClientNodeKubeApi } from '../kube-client.ts';
import { gpuStatusPatch, gpusToRepatch } from './k3d-addons.ts';
import { k3dEnvironment } from './k3d-environment.ts';
import { agentsInZone, type K3dAgent, type K3dClusterPlan } from './k3d-plan.ts';
import { k3dSettings, planK3dRun } from './k3d-run-plan.ts';
import { execaCommand, fetchText, type K3dRunnerDeps, type K3dRunState, runK3dSteps } from './k3d-runner.ts';
import type { K3dStep } from './k3d-steps.ts';
import {
  dockerBuildArgv,
  imagesOf,
  k3dImageImportArgv,
  kubeconfigFile,
  LOCALSTACK_ENDPOINT_VAR,
} from './k3d-up-plan.ts';

async function clusterExists(name: string): Promise<boolean> {
  const out = await execaCommand(['k3d', 'cluster', 'list', '--output', 'json']);
  return (JSON.parse(out || '[]') as { name: string }[]).some((c) => c.name === name);
}

/**
 * Brings a system up on k3d (after preflight): the k3d cluster is made (or reused) by the plan's steps,
 * then the system is deployed on it as on any existing cluster (env/cluster), with what k3d adds: node
 * faults through Docker, the ingress on a host port, images built and imported when first used, the
 * LocalStack it started, and the cluster deleted on down when this run created it.
 */
export async function upK3d(options: EnvironmentOptions): Promise<Environment> {
  const progress = options.progress ?? (() => {});
  const settings = k3dSettings(options.system);
  const exists = await clusterExists(settings.clusterName);
  if (exists)
    progress(`k3d: reusing the running cluster ${settings.clusterName} (it stays up after this run)`);
  const run = await planK3dRun(
    {
      system: options.system,
      ...(options.overlay ? { overlay: options.overlay } : {}),
      stateDir: path.join(options.workDir, 'k3d'),
      createCluster: !exists,
    },
    settings,
  );
  // Images the run built; a scenario that moves a workload to another tag gets it built and imported first.
  const ready = new Set(
    run.steps.flatMap((st) => (st.kind === 'run' && st.argv[1] === 'build' ? [st.argv.at(-2)!] : [])),
  );
  const beforeWrite = async (obj: KubeObject) => {
    for (const image of imagesOf([obj])) {
      const build = ready.has(image) ? undefined : run.buildFor(image);
      if (!build) continue;
      progress(`k3d: building and importing ${image} (first used now)`);
      await execaCommand(dockerBuildArgv(build), { cwd: REPO_ROOT });
      await execaCommand(k3dImageImportArgv(run.cluster.clusterName, [image]));
      ready.add(image);
    }
  };
  let kc: KubeConfig | undefined;
  const deps: K3dRunnerDeps = {
    exec: execaCommand,
    kube: (text) => {
      kc = new KubeConfig();
      kc.loadFromString(text);
      return new ClientNodeKubeApi(kc, beforeWrite);
    },
    fetchText,
    startContainer,
    progress,
    cwd: REPO_ROOT,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const state: K3dRunState = { vars: {}, started: [] };
  // Registered before the steps run: a failure or Ctrl-C halfway undoes what had started (newest first).
  const stack = new TeardownStack(progress);
  stack.defer('k3d down steps', () => runK3dSteps(run.downSteps, deps));
  stack.defer('containers this run started', () => stopStarted(state));
  const teardown = () => stack.unwind();
  try {
    await runK3dSteps(run.steps, deps, state);
    if (!state.kube || !kc) throw new TwinError('TWIN_INVALID', 'k3d: no kubeconfig step in the plan');
  } catch (err) {
    await teardown().catch(() => {});
    throw err;
  }
  const client = state.kube;
  const endpoint = state.vars[LOCALSTACK_ENDPOINT_VAR];
  // Emulated GPUs: a kubelet that restarts re-registers without the extended resource; put it back.
  const gpuWatch =
    run.cluster.gpu === 'emulated'
      ? client.watch({ apiVersion: 'v1', kind: 'Node' }, (e) => {
          const gpus = e.type === 'DELETED' ? 0 : gpusToRepatch(run.cluster.agents, e.object);
          if (gpus > 0)
            void client.patchNodeStatus(e.object.metadata.name, gpuStatusPatch(gpus)).catch(() => {});
        })
      : () => {};
  return deployOnCluster(
    {
      name: 'k3d',
      connection: { kc, kube: client, kubeconfigFile: kubeconfigFile(run.stateDir) },
      deployment: new SystemDeployment(client, run.objects),
      clock: new ScaledClock(1),
      faults: (emit) => new K3dFaults(run.cluster, client, deps, emit),
      ...(endpoint
        ? {
            aws: {
              endpoint,
              region: run.cluster.region,
              credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
            },
          }
        : {}),
      ingressUrl: async () => `http://127.0.0.1:${run.cluster.ingressHostPort}`,
      watches: [gpuWatch],
      // A cluster this run created goes as a whole; on a reused one, what the run created is deleted.
      removeDeployment: exists,
      teardown,
      progress,
    },
    { ...(options.signal ? { signal: options.signal } : {}) },
  );
}

/** LocalStack from the running compose stack when there is one, else a testcontainers container this run owns. */
async function startContainer(
  step: Extract<K3dStep, { kind: 'container' }>,
): Promise<{ endpoint: string; stop?: () => Promise<void> }> {
  const { composeStack, runningComposeServices } = await import('../containers/compose.ts');
  const compose = composeStack(await runningComposeServices());
  if (compose?.localstackUrl) return { endpoint: compose.localstackUrl };
  const { LocalstackContainer } = await import('@testcontainers/localstack');
  const { localstackEnvironment } = await import('../containers/images.ts');
  const started = await new LocalstackContainer(step.image)
    .withEnvironment({ ...localstackEnvironment(step.image), SERVICES: 's3,dynamodb,kinesis,sts,sqs,iam' })
    .start();
  return { endpoint: started.getConnectionUri(), stop: async () => void (await started.stop()) };
}

async function stopStarted(state: K3dRunState): Promise<void> {
  for (const c of state.started.splice(0).reverse()) await c.stop().catch(() => {});
}

/**
 * Faults on k3d act on the real thing: a node is the agent's container (`k3d node stop/start`), a zone
 * is every agent labelled with it, a partition disconnects the container from the cluster's Docker
 * network (its processes keep running). The faults through the Kubernetes API are the cluster's; all
 * of them are on the cluster faults' ledger, so down() undoes them together, newest first.
 */
export class K3dFaults extends ClusterFaults {
  private readonly stopped = new Set<string>();
  private readonly partitioned = new Set<string>();

  constructor(
    private readonly plan: K3dClusterPlan,
    kube: ClientNodeKubeApi,
    private readonly deps: Pick<K3dRunnerDeps, 'exec' | 'cwd'>,
    emit: (e: TimelineEvent) => void,
  ) {
    super(kube, emit, k3dEnvironment);
  }

  /** The agent by k3d node name or by the production node it stands for. */
  agent(name: string): K3dAgent {
    const a = this.plan.agents.find((x) => x.nodeName === name || x.topologyNode === name);
    if (!a)
      throw new TwinError(
        'TWIN_NOT_FOUND',
        `node ${name}: not an agent of ${this.plan.clusterName} (agents: ${this.plan.agents.map((x) => `${x.nodeName} (${x.topologyNode})`).join(', ')})`,
      );
    return a;
  }

  protected override nodeName(name: string): string {
    return this.agent(name).nodeName;
  }

  override async stopNode(name: string): Promise<void> {
    const a = this.agent(name);
    this.ledger.willUndo(`node/${a.nodeName}`, () => this.startNode(a.nodeName));
    this.ledger.record(
      'NodeStopped',
      `Node ${a.nodeName}`,
      `k3d node stop ${a.nodeName} (${a.topologyNode})`,
    );
    this.stopped.add(a.nodeName);
    await this.deps.exec(['k3d', 'node', 'stop', a.nodeName]);
  }

  override async startNode(name: string): Promise<void> {
    const a = this.agent(name);
    this.ledger.undone(`node/${a.nodeName}`);
    if (this.partitioned.delete(a.nodeName)) {
      await this.deps.exec(['docker', 'network', 'connect', `k3d-${this.plan.clusterName}`, a.nodeName]);
    } else {
      await this.deps.exec(['k3d', 'node', 'start', a.nodeName]);
      this.stopped.delete(a.nodeName);
    }
    this.ledger.record('NodeStarted', `Node ${a.nodeName}`, `node ${a.nodeName} back`, 'Normal');
    await this.kube.waitFor(
      { kind: 'Node', name: a.nodeName },
      (n) => (n?.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
      { timeout: 180_000, what: `Node ${a.nodeName} Ready again` },
    );
    // The kubelet re-registers with what it knows: emulated GPUs are advertised again.
    if (this.plan.gpu === 'emulated' && a.gpus > 0)
      await this.kube.patchNodeStatus(a.nodeName, gpuStatusPatch(a.gpus));
  }

  override async failZone(zone: string): Promise<string[]> {
    const agents = agentsInZone(this.plan, zone);
    if (agents.length === 0)
      throw new TwinError(
        'TWIN_NOT_FOUND',
        `zone ${zone}: no agent in it (zones: ${this.plan.zones.join(', ')})`,
      );
    this.ledger.record(
      'ZoneFailed',
      `zone ${zone}`,
      `fault: zone ${zone} failed: ${agents.length} nodes stopped (${agents.map((a) => a.nodeName).join(', ')})`,
    );
    for (const a of agents) await this.stopNode(a.nodeName);
    return agents.map((a) => a.nodeName);
  }

  override async restoreZone(zone: string): Promise<string[]> {
    const agents = agentsInZone(this.plan, zone).filter((a) => this.stopped.has(a.nodeName));
    this.ledger.record(
      'ZoneRestored',
      `zone ${zone}`,
      `fault undone: zone ${zone} restored: ${agents.length} nodes started`,
      'Normal',
    );
    for (const a of agents) await this.startNode(a.nodeName);
    return agents.map((a) => a.nodeName);
  }

  override async partitionNode(name: string): Promise<{ mode: 'partition' | 'stop'; how: string }> {
    const a = this.agent(name);
    const argv = ['docker', 'network', 'disconnect', `k3d-${this.plan.clusterName}`, a.nodeName];
    this.ledger.willUndo(`node/${a.nodeName}`, () => this.startNode(a.nodeName));
    this.partitioned.add(a.nodeName);
    this.ledger.record('NodePartitioned', `Node ${a.nodeName}`, argv.join(' '));
    await this.deps.exec(argv);
    return { mode: 'partition', how: argv.join(' ') };
  }
}
