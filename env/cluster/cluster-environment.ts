import net from 'node:net';
import { type KubeConfig, PortForward } from '@kubernetes/client-node';
import { execa } from 'execa';
import { TwinError } from '../../core/errors.ts';
import type { Clock } from '../../kube/clock.ts';
import {
  type ConnectCheck,
  type ConnectResult,
  DEFAULT_CONNECT_TIMEOUT_MS,
} from '../../kube/connectivity.ts';
import type { KubeObject } from '../../kube/object.ts';
import type { AwsEndpoint, Environment, KubeApi, Network, TimelineEvent } from '../environment.ts';
import type { ClientNodeKubeApi } from '../kube-client.ts';
import type { ClusterFaults } from './cluster-faults.ts';
import { connectCheckArgv, connectOutcome } from './connect-check.ts';
import type { SystemDeployment } from './system-deployment.ts';

/** A cluster the environment talks to: its API, and the kubeconfig file (and context) real clients use. */
export interface ClusterConnection {
  kc: KubeConfig;
  kube: ClientNodeKubeApi;
  /** A kubeconfig file for kubectl and the scenario's clients while the environment is up. */
  kubeconfigFile: string;
  context?: string;
}

/** What an environment built on a cluster adds to it (k3d: the cluster it created, node faults, its ingress port). */
export interface ClusterEnvironmentParts {
  name: string;
  connection: ClusterConnection;
  deployment: SystemDeployment;
  clock: Clock;
  faults: (emit: (e: TimelineEvent) => void) => ClusterFaults;
  aws?: AwsEndpoint;
  /** The host-reachable URL of an Ingress; default: its load balancer address from status.loadBalancer. */
  ingressUrl?: (ref: { namespace: string; name: string }) => Promise<string>;
  /** Runs a command (kubectl exec of the connection probe); default: execa. */
  exec?: (argv: string[]) => Promise<string>;
  /** Watches of its own, stopped on down. */
  watches?: Array<() => void>;
  /** False when down() need not delete the system's objects one by one (k3d deletes the cluster it created). */
  removeDeployment?: boolean;
  /** Runs on down() after the system's objects are removed (k3d: containers it started, the cluster it created). */
  teardown?: () => Promise<void>;
  progress?: (message: string) => void;
}

/**
 * A system deployed on a real cluster, behind the Environment API scenarios use: the same client-node
 * KubeApi, faults through the Kubernetes API (plus what the parts add), Ingress and Service URLs,
 * connection checks by `kubectl exec`. down() undoes the faults, deletes what the deployment created
 * and never deletes the cluster itself (unless the parts' teardown, k3d's, created it).
 */
export class ClusterEnvironment implements Environment {
  readonly name: string;
  readonly kube: KubeApi;
  readonly kubeconfig: string;
  readonly net: Network;
  readonly aws: AwsEndpoint | undefined;
  readonly clock: Clock;
  readonly faults: ClusterFaults;
  readonly client: ClientNodeKubeApi;
  private readonly handlers = new Set<(e: TimelineEvent) => void>();
  private readonly forwards = new Set<net.Server>();
  private readonly stopEvents: () => void;
  private downed = false;

  constructor(private readonly parts: ClusterEnvironmentParts) {
    const { connection } = parts;
    this.name = parts.name;
    this.client = connection.kube;
    this.kube = connection.kube;
    this.kubeconfig = connection.kubeconfigFile;
    this.clock = parts.clock;
    this.aws = parts.aws;
    this.faults = parts.faults((e) => this.emit(e));
    this.net = {
      ingressUrl: (ref) => (parts.ingressUrl ? parts.ingressUrl(ref) : this.loadBalancerUrl(ref)),
      serviceUrl: (ref) => this.forwardService(ref),
      // No proxy of ours sits in a cluster's traffic path: only client-side figures exist.
      trafficByVersion: () => ({}),
      canConnect: (check) => this.canConnect(check),
    };
    this.stopEvents = this.client.watch({ apiVersion: 'v1', kind: 'Event' }, (e) => {
      if (e.type !== 'ADDED') return;
      const ev = e.object as any;
      this.emit({
        t: Date.parse(ev.lastTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp) || this.clock.now(),
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

  /**
   * The Ingress's load balancer as the cluster's controller published it (status.loadBalancer.ingress:
   * an ALB's hostname on EKS, an address with its port on the twin), waited for up to 5 minutes.
   */
  private async loadBalancerUrl(ref: { namespace: string; name: string }): Promise<string> {
    const ing = await this.client.waitFor(
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', ...ref },
      (o) => ((o?.status?.loadBalancer?.ingress ?? []) as unknown[]).length > 0,
      { timeout: 300_000, what: `Ingress ${ref.namespace}/${ref.name} to get a load balancer address` },
    );
    return ingressUrlOf(ing!);
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
    const forward = new PortForward(this.parts.connection.kc);
    const server = net.createServer((socket) => {
      void forward
        .portForward(ref.namespace, pod.metadata.name, [target], socket, null, socket)
        .catch(() => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.forwards.add(server);
    return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }

  /** `kubectl exec` of a connection probe in the source pod (the cluster's NetworkPolicy plugin judges it). */
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
      kubeconfig: this.parts.connection.kubeconfigFile,
      ...(this.parts.connection.context ? { context: this.parts.connection.context } : {}),
      from: check.from,
      host,
      port,
      timeoutMs,
    });
    const t0 = Date.now();
    const out = await (this.parts.exec ?? execaStdout)(argv);
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
    for (const stop of this.parts.watches ?? []) stop();
    for (const s of this.forwards) s.close();
    try {
      await this.faults.undo();
      if (this.parts.removeDeployment !== false)
        await this.parts.deployment.remove({
          ...(this.parts.progress ? { progress: this.parts.progress } : {}),
        });
    } finally {
      await this.parts.teardown?.();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}

/** The URL of an Ingress's first load balancer entry: its port when the status gives one, else 443 with TLS, 80 without. */
export function ingressUrlOf(ing: KubeObject): string {
  const lb = (ing.status?.loadBalancer?.ingress ?? [])[0] as
    | { ip?: string; hostname?: string; ports?: { port: number }[] }
    | undefined;
  const host = lb?.hostname ?? lb?.ip;
  if (!host)
    throw new TwinError(
      'TWIN_NOT_FOUND',
      `Ingress ${ing.metadata.namespace}/${ing.metadata.name} has no load balancer address in status.loadBalancer.ingress`,
    );
  const tls = ((ing.spec?.tls ?? []) as unknown[]).length > 0;
  const port = lb?.ports?.[0]?.port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  if (port !== undefined) return `${port === 443 ? 'https' : 'http'}://${hostPart}:${port}`;
  return tls ? `https://${hostPart}` : `http://${hostPart}`;
}

async function execaStdout(argv: string[]): Promise<string> {
  const [file, ...args] = argv;
  const r = await execa(file!, args, { reject: false, stdin: 'ignore' });
  if (r.failed)
    throw new TwinError(
      'TWIN_PROCESS_FAILED',
      `${file} ${args.slice(0, 6).join(' ')} … failed (exit ${r.exitCode ?? r.signal}): ${String(
        r.stderr || r.message,
      )
        .trim()
        .split('\n')
        .slice(-3)
        .join('\n')}`,
    );
  return String(r.stdout);
}

export function targetPort(pod: KubeObject, target: number | string): number {
  if (typeof target === 'number') return target;
  for (const c of pod.spec?.containers ?? [])
    for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  throw new TwinError('TWIN_NOT_FOUND', `pod ${pod.metadata.name} has no port named ${target}`);
}

/**
 * Deploys a system on a cluster and returns the environment: server-side apply of its objects, then
 * its workloads available. If that fails, what was created is removed and the parts' teardown runs.
 */
export async function deployOnCluster(
  parts: ClusterEnvironmentParts,
  options: { readyTimeoutMs?: number; signal?: AbortSignal } = {},
): Promise<ClusterEnvironment> {
  const progress = parts.progress ?? (() => {});
  try {
    await parts.deployment.apply(progress, options.signal);
    await parts.deployment.waitReady({
      timeoutMs: options.readyTimeoutMs ?? 10 * 60_000,
      progress,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (parts.removeDeployment !== false) await parts.deployment.remove({ progress }).catch(() => {});
    for (const stop of parts.watches ?? []) stop();
    await parts.teardown?.().catch(() => {});
    throw err;
  }
  return new ClusterEnvironment(parts);
}
