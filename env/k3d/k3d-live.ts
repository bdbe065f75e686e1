import net from 'node:net';
import path from 'node:path';
import { KubeConfig, PortForward } from '@kubernetes/client-node';
import { isTwinError, TwinError } from '../../core/errors.ts';
import { TeardownStack } from '../../core/teardown.ts';
import { waitUntil } from '../../core/wait.ts';
import { describeChaos } from '../../kube/chaos-mesh.ts';
import { ScaledClock } from '../../kube/clock.ts';
import {
  type ConnectCheck,
  type ConnectResult,
  DEFAULT_CONNECT_TIMEOUT_MS,
} from '../../kube/connectivity.ts';
import type { KubeObject } from '../../kube/object.ts';
import { REPO_ROOT } from '../../system/system.ts';
import type {
  AwsEndpoint,
  ChaosInjection,
  Environment,
  EnvironmentOptions,
  KubeApi,
  Network,
  TimelineEvent,
} from '../environment.ts';
import { FaultLedger } from '../fault-ledger.ts';
import { ClientNodeKubeApi } from '../kube-client.ts';
import { gpuStatusPatch, gpusToRepatch } from './k3d-addons.ts';
import { chaosInjected, chaosTargets, chaosWaitingFor } from './k3d-chaos-mesh.ts';
import { connectCheckArgv, connectOutcome } from './k3d-connect-check.ts';
import { agentsInZone, type K3dAgent, type K3dClusterPlan } from './k3d-plan.ts';
import { type K3dRunPlan, k3dSettings, planK3dRun } from './k3d-run-plan.ts';
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

/** Brings a system up on k3d (after preflight): runs the plan's steps and returns the environment. */
export async function upK3d(options: EnvironmentOptions): Promise<Environment> {
  const progress = options.progress ?? (() => {});
  const settings = k3dSettings(options.system, process.env, options.gpu);
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
  const deps: K3dRunnerDeps = {
    exec: execaCommand,
    kube: (text) => {
      const kc = new KubeConfig();
      kc.loadFromString(text);
      return new ClientNodeKubeApi(kc);
    },
    fetchText,
    startContainer,
    progress,
    cwd: REPO_ROOT,
    ...(options.signal ? { signal: options.signal } : {}),
  };
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
  deps.kube = (text) => {
    const kc = new KubeConfig();
    kc.loadFromString(text);
    return new ClientNodeKubeApi(kc, beforeWrite);
  };
  const state: K3dRunState = { vars: {}, started: [] };
  // Registered before the steps run: a failure or Ctrl-C halfway undoes what had started.
  const teardown = new TeardownStack(progress);
  teardown.defer('k3d down steps', () => runK3dSteps(run.downSteps, deps));
  teardown.defer('containers this run started', () => stopStarted(state));
  try {
    await runK3dSteps(run.steps, deps, state);
    if (!state.kube) throw new TwinError('TWIN_INVALID', 'k3d: no kubeconfig step in the plan');
  } catch (err) {
    await teardown.unwind().catch(() => {});
    throw err;
  }
  return new K3dEnvironment(run, state, deps, teardown);
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

/** A system on a real k3s cluster in Docker: the same Environment API as the twin. */
export class K3dEnvironment implements Environment {
  readonly name = 'k3d';
  readonly kube: KubeApi;
  readonly kubeconfig: string;
  readonly net: Network;
  readonly aws: AwsEndpoint | undefined;
  readonly clock = new ScaledClock(1);
  readonly faults: K3dFaults;
  private readonly handlers = new Set<(e: TimelineEvent) => void>();
  private readonly forwards = new Set<net.Server>();
  private readonly stopEvents: () => void;
  private readonly stopGpuWatch: () => void;
  private downed = false;

  readonly client: ClientNodeKubeApi;

  constructor(
    readonly run: K3dRunPlan,
    state: K3dRunState,
    private readonly deps: K3dRunnerDeps,
    private readonly teardown: TeardownStack,
  ) {
    const client = state.kube!;
    this.kubeconfig = path.join(run.stateDir, 'kubeconfig');
    this.client = client;
    this.kube = client;
    const endpoint = state.vars[LOCALSTACK_ENDPOINT_VAR];
    this.aws = endpoint
      ? {
          endpoint,
          region: run.cluster.region,
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        }
      : undefined;
    this.faults = new K3dFaults(run.cluster, client, deps, (e) => this.emit(e));
    const port = run.cluster.ingressHostPort;
    this.net = {
      ingressUrl: async () => `http://127.0.0.1:${port}`,
      serviceUrl: (ref) => this.forwardService(ref),
      // On k3d no proxy of ours sits in the traffic path: only client-side figures exist.
      trafficByVersion: () => ({}),
      canConnect: (check) => this.canConnect(check),
    };
    // Emulated GPUs: a kubelet that restarts re-registers without the extended resource; put it back.
    this.stopGpuWatch =
      run.cluster.gpu === 'emulated'
        ? client.watch({ apiVersion: 'v1', kind: 'Node' }, (e) => {
            const gpus = e.type === 'DELETED' ? 0 : gpusToRepatch(run.cluster.agents, e.object);
            if (gpus > 0)
              void client.patchNodeStatus(e.object.metadata.name, gpuStatusPatch(gpus)).catch(() => {});
          })
        : () => {};
    this.stopEvents = client.watch({ apiVersion: 'v1', kind: 'Event' }, (e) => {
      if (e.type !== 'ADDED') return;
      const ev = e.object as any;
      this.emit({
        t: Date.parse(ev.lastTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp) || Date.now(),
        kind: ev.reason ?? 'Event',
        object: `${ev.involvedObject?.kind} ${ev.involvedObject?.namespace ?? ''}/${ev.involvedObject?.name}`,
        message: ev.message ?? '',
        type: ev.type === 'Warning' ? 'Warning' : 'Normal',
      });
    });
  }

  onEvent(handler: (e: TimelineEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  private emit(e: TimelineEvent): void {
    for (const h of this.handlers) h(e);
  }

  /** `kubectl port-forward svc/…`: a loopback port forwarding to one ready pod behind the Service. */
  private async forwardService(ref: {
    namespace: string;
    name: string;
    port?: number | string;
  }): Promise<string> {
    const svc = await this.client.get({ kind: 'Service', namespace: ref.namespace, name: ref.name });
    if (!svc) throw new TwinError('TWIN_NOT_FOUND', `Service ${ref.namespace}/${ref.name} not found`);
    const ports: any[] = svc.spec?.ports ?? [];
    const sp = ports.find((p) => ref.port === undefined || p.port === ref.port || p.name === ref.port);
    if (!sp)
      throw new TwinError('TWIN_NOT_FOUND', `Service ${ref.namespace}/${ref.name} has no port ${ref.port}`);
    const pods = await this.client.list(
      { kind: 'Pod' },
      { namespace: ref.namespace, labelSelector: { matchLabels: svc.spec?.selector ?? {} } },
    );
    const pod = pods.find((p) =>
      (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
    );
    if (!pod) throw new TwinError('TWIN_NOT_FOUND', `Service ${ref.namespace}/${ref.name} has no ready pod`);
    const target = targetPort(pod, sp.targetPort ?? sp.port);
    const kc = new KubeConfig();
    kc.loadFromString(await readKubeconfig(this.run.stateDir));
    const forward = new PortForward(kc);
    const server = net.createServer((socket) => {
      void forward
        .portForward(ref.namespace, pod.metadata.name, [target], socket, null, socket)
        .catch(() => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.forwards.add(server);
    return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }

  /** `kubectl exec` of a connection probe in the source pod (k3s enforces NetworkPolicy with its own controller). */
  private async canConnect(check: ConnectCheck): Promise<ConnectResult> {
    const timeoutMs = check.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let host: string;
    let port: number;
    let what: string;
    if ('pod' in check.to) {
      what = `Pod ${check.to.namespace}/${check.to.pod}`;
      const pod = await this.client.get({ kind: 'Pod', namespace: check.to.namespace, name: check.to.pod });
      if (!pod?.status?.podIP)
        throw new TwinError('TWIN_NOT_FOUND', `${what} not found or has no address yet`);
      host = pod.status.podIP;
      port = targetPort(pod, check.port);
    } else {
      what = `Service ${check.to.namespace}/${check.to.service}`;
      const svc = await this.client.get({
        kind: 'Service',
        namespace: check.to.namespace,
        name: check.to.service,
      });
      const sp = ((svc?.spec?.ports ?? []) as any[]).find(
        (p) => p.port === check.port || p.name === check.port,
      );
      if (!svc?.spec?.clusterIP || svc.spec.clusterIP === 'None' || !sp)
        throw new TwinError('TWIN_NOT_FOUND', `${what} with a cluster IP and port ${check.port} not found`);
      host = svc.spec.clusterIP;
      port = sp.port;
    }
    const argv = connectCheckArgv({
      kubeconfig: kubeconfigFile(this.run.stateDir),
      from: check.from,
      host,
      port,
      timeoutMs,
    });
    const t0 = Date.now();
    const out = await this.deps.exec(argv);
    const outcome = connectOutcome(out, `Pod ${check.from.namespace}/${check.from.pod} → ${what}`);
    return {
      outcome,
      elapsedMs: Date.now() - t0,
      detail: `kubectl exec -n ${check.from.namespace} ${check.from.pod} -- (probe ${host} ${port}, ${Math.ceil(timeoutMs / 1000)} s)`,
    };
  }

  async down(): Promise<void> {
    if (this.downed) return;
    this.downed = true;
    this.stopEvents();
    this.stopGpuWatch();
    for (const s of this.forwards) s.close();
    await this.faults.undo();
    await this.teardown.unwind();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}

async function readKubeconfig(stateDir: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(path.join(stateDir, 'kubeconfig'), 'utf8');
}

function targetPort(pod: KubeObject, target: number | string): number {
  if (typeof target === 'number') return target;
  for (const c of pod.spec?.containers ?? [])
    for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  throw new TwinError('TWIN_NOT_FOUND', `pod ${pod.metadata.name} has no port named ${target}`);
}

/**
 * Faults on k3d act on the real thing: a node is the agent's container (`k3d node stop/start`), a zone
 * is every agent labelled with it, a partition disconnects the container from the cluster's Docker
 * network (its processes keep running), evictions go through the Eviction API.
 */
export class K3dFaults {
  private readonly stopped = new Set<string>();
  private readonly partitioned = new Set<string>();
  private readonly ledger: FaultLedger;

  constructor(
    private readonly plan: K3dClusterPlan,
    private readonly kube: ClientNodeKubeApi,
    private readonly deps: Pick<K3dRunnerDeps, 'exec' | 'cwd'>,
    emit: (e: TimelineEvent) => void,
  ) {
    this.ledger = new FaultLedger(emit, () => Date.now());
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

  async killPod(ref: { namespace: string; name: string }): Promise<void> {
    this.ledger.record('PodKilled', `Pod ${ref.namespace}/${ref.name}`, 'pod deleted with grace period 0');
    await this.kube.killPod(ref);
  }

  async stopNode(name: string): Promise<void> {
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

  async startNode(name: string): Promise<void> {
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

  async failZone(zone: string): Promise<string[]> {
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

  async restoreZone(zone: string): Promise<string[]> {
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

  async partitionNode(name: string): Promise<{ mode: 'partition' | 'stop'; how: string }> {
    const a = this.agent(name);
    const argv = ['docker', 'network', 'disconnect', `k3d-${this.plan.clusterName}`, a.nodeName];
    this.ledger.willUndo(`node/${a.nodeName}`, () => this.startNode(a.nodeName));
    this.partitioned.add(a.nodeName);
    this.ledger.record('NodePartitioned', `Node ${a.nodeName}`, argv.join(' '));
    await this.deps.exec(argv);
    return { mode: 'partition', how: argv.join(' ') };
  }

  async cordon(name: string): Promise<void> {
    const node = this.agent(name).nodeName;
    this.ledger.willUndo(`cordon/${node}`, () => this.uncordon(node));
    this.ledger.record('NodeCordoned', `Node ${node}`, `fault: node ${node} cordoned`, 'Normal');
    await this.kube.patch({ kind: 'Node', name: node }, (n) => {
      n.spec = { ...(n.spec ?? {}), unschedulable: true };
    });
  }

  async uncordon(name: string): Promise<void> {
    const node = this.agent(name).nodeName;
    this.ledger.undone(`cordon/${node}`);
    this.ledger.record('NodeUncordoned', `Node ${node}`, `node ${node} uncordoned`, 'Normal');
    await this.kube.patch({ kind: 'Node', name: node }, (n) => {
      if (n.spec) delete n.spec.unschedulable;
    });
  }

  async evict(ref: {
    namespace: string;
    name: string;
  }): Promise<{ code: 200 | 404 | 429 | 500; message: string }> {
    try {
      await this.kube.evict(ref);
      return { code: 200, message: `evicted ${ref.namespace}/${ref.name}` };
    } catch (err) {
      const code = (err as { code?: number }).code;
      const message = String((err as { body?: unknown }).body ?? (err as Error).message);
      return { code: code === 404 || code === 429 ? code : 500, message };
    }
  }

  /** kubectl drain --ignore-daemonsets: cordon, then evict every other pod, retrying refusals (429) every 5 s. */
  async drain(name: string, options: { timeoutSeconds?: number } = {}) {
    const node = this.agent(name).nodeName;
    const t0 = Date.now();
    await this.cordon(node);
    this.ledger.record(
      'NodeDrain',
      `Node ${node}`,
      `fault: draining node ${node} (kubectl drain --ignore-daemonsets)`,
      'Normal',
    );
    const evicted: string[] = [];
    const ignored: string[] = [];
    let refused = 0;
    let remaining: string[] = [];
    await waitUntil(
      async () => {
        const pods = (await this.kube.list({ kind: 'Pod' })).filter(
          (p) => p.spec?.nodeName === node && !['Succeeded', 'Failed'].includes(p.status?.phase),
        );
        const movable = pods.filter((p) => {
          const daemon = (p.metadata.ownerReferences ?? []).some((o) => o.kind === 'DaemonSet');
          if (daemon && !ignored.includes(`${p.metadata.namespace}/${p.metadata.name}`))
            ignored.push(`${p.metadata.namespace}/${p.metadata.name}`);
          return !daemon;
        });
        remaining = movable.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
        if (movable.length === 0) return true;
        for (const p of movable) {
          const ref = { namespace: p.metadata.namespace ?? 'default', name: p.metadata.name };
          const answer = await this.evict(ref);
          if (answer.code === 200) evicted.push(`${ref.namespace}/${ref.name}`);
          else if (answer.code === 429) refused++;
        }
        return false;
      },
      { what: `node ${node} to drain`, timeout: (options.timeoutSeconds ?? 300) * 1000, interval: 5000 },
    ).catch((err) => {
      // kubectl drain --timeout: what is left is reported, not thrown.
      if (!isTwinError(err, 'TWIN_TIMEOUT')) throw err;
    });
    const report = { node, evicted, ignored, refused, remaining, durationMs: Date.now() - t0 };
    this.ledger.record(
      'NodeDrained',
      `Node ${node}`,
      `node ${node} drained in ${(report.durationMs / 1000).toFixed(0)} s: ${evicted.length} evicted, ${refused} evictions refused (retried), ${remaining.length} left`,
      'Normal',
    );
    return report;
  }

  /**
   * The chaos object applied exactly as given: Chaos Mesh (installed from the system's add-on list)
   * selects and injects; resolved once its AllInjected condition is True, with the pods of its records.
   * Its deletion is registered on the ledger before it is applied, so down() recovers it.
   */
  async chaos(object: KubeObject): Promise<ChaosInjection> {
    const name = describeChaos(object);
    const ref = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.metadata.namespace ?? 'default',
      name: object.metadata.name,
    };
    let recovered = false;
    const recover = async () => {
      if (recovered) return;
      recovered = true;
      this.ledger.undone(`chaos/${name}`);
      await this.kube.delete(ref);
      await this.kube.waitFor(ref, (o) => o === undefined, {
        timeout: 180_000,
        what: `${name} deleted (Chaos Mesh recovers its targets before removing its finalizer)`,
      });
      this.ledger.record('ChaosRecovered', name, `${name} deleted`, 'Normal');
    };
    this.ledger.willUndo(`chaos/${name}`, recover);
    this.ledger.record('ChaosInjected', name, `kubectl apply of ${name} (Chaos Mesh injects it)`);
    await this.kube.apply(object);
    let last: KubeObject | undefined;
    const injected = await this.kube
      .waitFor(
        ref,
        (o) => {
          last = o;
          return chaosInjected(o);
        },
        { timeout: 180_000, what: `${name} injected by Chaos Mesh (condition AllInjected)` },
      )
      .catch((err) => {
        if (!isTwinError(err, 'TWIN_TIMEOUT')) throw err;
        throw new TwinError('TWIN_TIMEOUT', `${(err as Error).message}; ${chaosWaitingFor(last)}`);
      });
    const targets = chaosTargets(injected);
    return { name, targets, recover };
  }

  /**
   * Undoes every fault in effect, newest first: chaos objects deleted, nodes started and reconnected,
   * cordons lifted (down() calls it).
   */
  async undo(): Promise<void> {
    await this.ledger.undoAll();
  }
}
