import type { KubeObject } from '../../env/environment.ts';
import type { CaseContext } from './conformance-case.ts';

/** Plain builders and readers of the objects the cases use: the JSON a manifest would hold. */

export const ZONE = 'topology.kubernetes.io/zone';
export const HOSTNAME = 'kubernetes.io/hostname';
/** The node pool label EKS managed node groups carry (the topology's pools; k3d agents keep it). */
export const POOL = 'eks.amazonaws.com/nodegroup';

export interface PodOptions {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  requests?: Record<string, string>;
  limits?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  affinity?: unknown;
  topologySpreadConstraints?: unknown[];
  /** A container that stays not Ready for the whole case (a readiness probe that starts after a day). */
  neverReady?: boolean;
  /** Run a shell command instead of the long-running image. */
  command?: string;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  ports?: Array<{ name?: string; containerPort: number }>;
}

/** A pod template (`spec.template`) from the case's images. */
export function podTemplate(t: CaseContext, o: PodOptions): KubeObject['spec'] {
  const container: Record<string, unknown> = {
    name: 'main',
    image: o.command !== undefined ? t.images.shell : t.images.longRunning,
  };
  if (o.command !== undefined) container['command'] = ['sh', '-c', o.command];
  if (o.requests || o.limits)
    container['resources'] = {
      ...(o.requests ? { requests: o.requests } : {}),
      ...(o.limits ? { limits: o.limits } : {}),
    };
  if (o.env) container['env'] = o.env;
  if (o.ports) container['ports'] = o.ports;
  if (o.neverReady)
    container['readinessProbe'] = {
      tcpSocket: { port: 65000 },
      initialDelaySeconds: 86_400,
      periodSeconds: 10,
    };
  const spec: Record<string, unknown> = {
    containers: [container],
    // pause exits at once on SIGTERM; a shell as PID 1 ignores it: keep deletions quick on a cluster.
    terminationGracePeriodSeconds: 1,
  };
  if (o.restartPolicy) spec['restartPolicy'] = o.restartPolicy;
  if (o.nodeSelector) spec['nodeSelector'] = o.nodeSelector;
  if (o.tolerations) spec['tolerations'] = o.tolerations;
  if (o.affinity) spec['affinity'] = o.affinity;
  if (o.topologySpreadConstraints) spec['topologySpreadConstraints'] = o.topologySpreadConstraints;
  return {
    metadata: { labels: o.labels, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec,
  };
}

/** A bare Pod. */
export function pod(t: CaseContext, name: string, o: PodOptions): KubeObject {
  const template = podTemplate(t, o);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...template.metadata },
    spec: template.spec,
  };
}

export function deployment(
  t: CaseContext,
  name: string,
  replicas: number,
  o: Partial<PodOptions> & { spec?: Record<string, unknown> } = {},
): KubeObject {
  const labels = o.labels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: podTemplate(t, { ...o, labels }),
      ...(o.spec ?? {}),
    },
  };
}

export function isReady(obj: KubeObject): boolean {
  return condition(obj, 'Ready')?.status === 'True';
}

export function condition(
  obj: KubeObject | undefined,
  type: string,
):
  | { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }
  | undefined {
  return (obj?.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
}

export function running(pods: KubeObject[]): KubeObject[] {
  return pods.filter((p) => p.status?.phase === 'Running');
}

export function readyPods(pods: KubeObject[]): KubeObject[] {
  return pods.filter((p) => p.status?.phase === 'Running' && isReady(p));
}

/** Pods the scheduler could not place (PodScheduled False, reason Unschedulable). */
export function unschedulable(pods: KubeObject[]): KubeObject[] {
  return pods.filter((p) => {
    const c = condition(p, 'PodScheduled');
    return !p.spec?.nodeName && c?.status === 'False' && c.reason === 'Unschedulable';
  });
}

export function scheduledMessage(p: KubeObject): string {
  return condition(p, 'PodScheduled')?.message ?? '';
}

export function nodeLabel(node: KubeObject | undefined, key: string): string | undefined {
  return node?.metadata.labels?.[key];
}

export function nodesOfPool(nodes: KubeObject[], pool: string): KubeObject[] {
  return nodes.filter((n) => n.metadata.labels?.[POOL] === pool);
}

/** The zone of each pod's node. */
export async function zonesOf(t: CaseContext, pods: KubeObject[]): Promise<string[]> {
  const nodes = new Map((await t.nodes()).map((n) => [n.metadata.name, n]));
  return pods.map((p) => nodeLabel(nodes.get(p.spec?.nodeName), ZONE) ?? '?');
}

export function countBy<T>(xs: T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/** CPU quantity in millicores ("1930m", "4", "0.5"). */
export function milliCpu(q: string | number | undefined): number {
  if (q === undefined) return 0;
  const s = String(q);
  if (s.endsWith('m')) return Number(s.slice(0, -1));
  return Math.round(Number(s) * 1000);
}

/** The taints of a node that keep pods without tolerations off it (NoSchedule, NoExecute). */
export function hardTaints(node: KubeObject): Array<{ key: string; value?: string; effect: string }> {
  return (node.spec?.taints ?? []).filter((x: { effect: string }) => x.effect !== 'PreferNoSchedule');
}

/** Taints a node for the case and takes the taint off again afterwards (kubectl taint). */
export async function taintNode(
  t: CaseContext,
  node: string,
  taint: { key: string; value?: string; effect: string },
): Promise<void> {
  t.defer(async () => {
    await t.patch({ kind: 'Node', name: node }, (n) => {
      n.spec.taints = (n.spec.taints ?? []).filter(
        (x: { key: string; effect: string }) => !(x.key === taint.key && x.effect === taint.effect),
      );
      if (n.spec.taints.length === 0) delete n.spec.taints;
    });
  });
  await t.patch({ kind: 'Node', name: node }, (n) => {
    n.spec ??= {};
    n.spec.taints = [...(n.spec.taints ?? []), { ...taint }];
  });
}

/** Seconds between two RFC 3339 timestamps. */
export function secondsBetween(from: string | number, to: string | number): number {
  const a = typeof from === 'number' ? from : Date.parse(from);
  const b = typeof to === 'number' ? to : Date.parse(to);
  return (b - a) / 1000;
}

/** The general-pool node of a zone (one per zone in the conformance topology). */
export async function generalNode(t: CaseContext, zone: string): Promise<KubeObject> {
  const node = nodesOfPool(await t.nodes(), 'general').find((n) => nodeLabel(n, ZONE) === zone);
  if (!node) throw new Error(`no general node in ${zone}`);
  return node;
}

/** CPU (millicores) a node has left: allocatable minus the requests of the pods bound to it. */
export async function freeCpu(t: CaseContext, node: KubeObject): Promise<number> {
  const pods = await t.env.kube.list({ kind: 'Pod' });
  const used = pods
    .filter((p) => p.spec?.nodeName === node.metadata.name)
    .filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed')
    .flatMap((p) => p.spec?.containers ?? [])
    .reduce(
      (n: number, c: { resources?: { requests?: { cpu?: string } } }) =>
        n + milliCpu(c.resources?.requests?.cpu),
      0,
    );
  return milliCpu(node.status?.allocatable?.cpu) - used;
}

/**
 * Cordons the general nodes of these zones (kubectl cordon); they are uncordoned after the case, or
 * earlier by calling the function this returns.
 */
export async function cordonZones(t: CaseContext, zones: string[]): Promise<() => Promise<void>> {
  const names: string[] = [];
  for (const z of zones) names.push((await generalNode(t, z)).metadata.name);
  let undone = false;
  const undo = async () => {
    if (undone) return;
    undone = true;
    for (const name of names)
      await t.patch({ kind: 'Node', name }, (n) => {
        delete n.spec.unschedulable;
      });
  };
  t.defer(undo);
  for (const name of names)
    await t.patch({ kind: 'Node', name }, (n) => {
      n.spec.unschedulable = true;
    });
  return undo;
}
