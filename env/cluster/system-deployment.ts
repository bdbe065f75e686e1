import { stringify } from 'yaml';
import { TwinError } from '../../core/errors.ts';
import type { KubeObject, ObjectRef } from '../../kube/object.ts';
import { FIELD_MANAGER, forApply } from '../kube-client.ts';

/** What a deployment needs of the cluster's API (ClientNodeKubeApi; tests pass a fake). */
export interface DeploymentApi {
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  apply(objects: KubeObject | KubeObject[]): Promise<KubeObject[]>;
  list(type: { apiVersion?: string; kind: string }, options?: { namespace?: string }): Promise<KubeObject[]>;
  delete(ref: ObjectRef): Promise<void>;
}

/** CRDs, then Namespaces, then everything else in manifest order (what `kubectl apply` users arrange). */
export function applyOrder(objects: KubeObject[]): KubeObject[] {
  const rank = (o: KubeObject) =>
    o.kind === 'CustomResourceDefinition' ? 0 : o.kind === 'Namespace' ? 1 : 2;
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
    .map(({ o }) => forApply(o));
}

export function refOf(o: KubeObject): ObjectRef {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    name: o.metadata.name,
    ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
  };
}

export function describeRef(r: ObjectRef): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

const isTrue = (o: KubeObject, type: string) =>
  (o.status?.conditions ?? []).some((c: any) => c.type === type && c.status === 'True');

/** The workloads of a namespace (all namespaces when undefined) not yet available, as "Kind ns/name". */
export async function workloadsNotReady(api: DeploymentApi, namespace?: string): Promise<string[]> {
  const ns = namespace ? { namespace } : {};
  const name = (kind: string, o: KubeObject) => `${kind} ${o.metadata.namespace}/${o.metadata.name}`;
  const pending: string[] = [];
  for (const d of await api.list({ kind: 'Deployment' }, ns))
    if ((d.status?.availableReplicas ?? 0) < (d.spec?.replicas ?? 1)) pending.push(name('Deployment', d));
  for (const s of await api.list({ kind: 'StatefulSet' }, ns))
    if ((s.status?.readyReplicas ?? 0) < (s.spec?.replicas ?? 1)) pending.push(name('StatefulSet', s));
  return pending;
}

/** Rollouts (Argo Rollouts) of a namespace not yet Healthy; none when the cluster serves no Rollout kind. */
async function rolloutsNotReady(api: DeploymentApi, namespace: string): Promise<string[]> {
  const rollouts = await api
    .list({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' }, { namespace })
    .catch(() => []);
  return rollouts
    .filter(
      (r) => r.status?.phase !== 'Healthy' || (r.status?.availableReplicas ?? 0) < (r.spec?.replicas ?? 1),
    )
    .map((r) => `Rollout ${r.metadata.namespace}/${r.metadata.name}`);
}

/**
 * A system's rendered objects on a cluster: server-side applied (field manager infra-twin, conflicts
 * forced, as `kubectl apply --server-side --force-conflicts`) in apply order, remembering which objects
 * did not exist before, so that `remove()` deletes exactly what this run created and leaves what was
 * there (a system already deployed, a cluster's own objects) as the apply left it.
 */
export class SystemDeployment {
  /** The objects this run created, in the order it created them. */
  readonly created: ObjectRef[] = [];
  readonly objects: KubeObject[];

  constructor(
    private readonly api: DeploymentApi,
    objects: KubeObject[],
  ) {
    this.objects = applyOrder(objects);
  }

  /** The namespaces whose workloads must become available. */
  get workloadNamespaces(): string[] {
    return workloadNamespaces(this.objects);
  }

  async apply(progress: (m: string) => void = () => {}, signal?: AbortSignal): Promise<void> {
    const crds = this.objects.filter((o) => o.kind === 'CustomResourceDefinition');
    let crdsEstablished = crds.length === 0;
    let existing = 0;
    for (const o of this.objects) {
      if (signal?.aborted) throw new TwinError('TWIN_ABORTED', 'interrupted while applying the system');
      if (!crdsEstablished && o.kind !== 'CustomResourceDefinition') {
        await this.waitEstablished(crds, signal);
        crdsEstablished = true;
      }
      const ref = refOf(o);
      const before = await this.api.get(ref);
      try {
        await this.api.apply(o);
      } catch (err) {
        const body = (err as { body?: { message?: string } }).body;
        throw new TwinError(
          'TWIN_INVALID',
          `the cluster refused ${describeRef(ref)}: ${body?.message ?? (err as Error).message}`,
        );
      }
      if (before) existing++;
      else this.created.push(ref);
    }
    progress(
      `applied ${this.objects.length} objects server-side (${this.created.length} created, ${existing} already there and updated in place)`,
    );
  }

  private async waitEstablished(crds: KubeObject[], signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const pending: string[] = [];
      for (const c of crds) {
        const now = await this.api.get(refOf(c));
        if (!now || !isTrue(now, 'Established')) pending.push(c.metadata.name);
      }
      if (pending.length === 0) return;
      if (signal?.aborted || Date.now() > deadline)
        throw new TwinError(
          'TWIN_TIMEOUT',
          `the system's CustomResourceDefinitions are not Established after 60 s: ${pending.join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Waits until every Deployment, StatefulSet and Rollout of the system's namespaces is available. */
  async waitReady(options: { timeoutMs: number; signal?: AbortSignal; progress?: (m: string) => void }) {
    const deadline = Date.now() + options.timeoutMs;
    let last = '';
    for (;;) {
      const pending: string[] = [];
      for (const ns of this.workloadNamespaces)
        pending.push(...(await workloadsNotReady(this.api, ns)), ...(await rolloutsNotReady(this.api, ns)));
      if (pending.length === 0) return;
      const now = `waiting for ${pending.length} workloads: ${pending.slice(0, 4).join(', ')}${pending.length > 4 ? ', …' : ''}`;
      if (now !== last) options.progress?.(now);
      last = now;
      if (options.signal?.aborted)
        throw new TwinError('TWIN_ABORTED', 'interrupted waiting for the workloads');
      if (Date.now() > deadline)
        throw new TwinError(
          'TWIN_TIMEOUT',
          `the system's workloads are not available after ${Math.round(options.timeoutMs / 1000)} s: ${pending.join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /**
   * Deletes what `apply` created, newest first, then waits (up to `timeoutMs`) until the Namespaces it
   * created are gone, so that the next run does not meet a Terminating namespace. Returns what is left.
   */
  async remove(options: { timeoutMs?: number; progress?: (m: string) => void } = {}): Promise<string[]> {
    const failed: string[] = [];
    for (const ref of [...this.created].reverse()) {
      // Objects in a Namespace this run created go with it.
      if (ref.namespace && this.created.some((c) => c.kind === 'Namespace' && c.name === ref.namespace))
        continue;
      await this.api
        .delete(ref)
        .catch((err) => failed.push(`${describeRef(ref)}: ${(err as Error).message}`));
    }
    const namespaces = this.created.filter((c) => c.kind === 'Namespace');
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    let left = namespaces;
    while (left.length > 0 && Date.now() < deadline) {
      const still: ObjectRef[] = [];
      for (const ns of left) if (await this.api.get(ns).catch(() => undefined)) still.push(ns);
      left = still;
      if (left.length > 0) await new Promise((r) => setTimeout(r, 1000));
    }
    const remaining = [...failed, ...left.map((ns) => `${describeRef(ns)} still terminating`)];
    options.progress?.(
      `removed the ${this.created.length} objects this run created${remaining.length ? `; left: ${remaining.join(', ')}` : ''}`,
    );
    this.created.length = 0;
    return remaining;
  }
}

function workloadNamespaces(objects: KubeObject[]): string[] {
  return [
    ...new Set(
      objects
        .filter((o) => ['Deployment', 'Rollout', 'StatefulSet'].includes(o.kind))
        .map((o) => o.metadata.namespace ?? 'default'),
    ),
  ];
}

/** The dry-run text of a deployment, numbered from `startAt`: the server-side apply bodies, then the waits. */
export function deploymentPlanText(objects: KubeObject[], startAt: number): { text: string; steps: number } {
  const ordered = applyOrder(objects);
  const body = ordered
    .map((o) =>
      `--- # ${describeRef(refOf(o))}\n${stringify(o, { lineWidth: 0 }).trimEnd()}`
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n'),
    )
    .join('\n');
  const waits = workloadNamespaces(ordered).map(
    (ns, i) =>
      `# ${startAt + 1 + i}. workloads in ${ns} available\nwait deployments, statefulsets, rollouts -n ${ns}`,
  );
  const apply = `# ${startAt}. the system's ${ordered.length} objects (CRDs and Namespaces first); down deletes those this run created\napply --server-side --field-manager=${FIELD_MANAGER} --force-conflicts (${ordered.length} objects):\n${body}`;
  return { text: [apply, ...waits].join('\n\n'), steps: 1 + waits.length };
}
