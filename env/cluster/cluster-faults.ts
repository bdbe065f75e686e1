import { TwinError } from '../../core/errors.ts';
import { describeChaos } from '../../kube/chaos-mesh.ts';
import type { DrainReport } from '../../kube/drain.ts';
import type { KubeObject } from '../../kube/object.ts';
import type { ChaosInjection, EvictionAnswer, Faults, TimelineEvent } from '../environment.ts';
import { type FaultName, type FaultSupport, faultUnsupported } from '../fault-needs.ts';
import type { ClientNodeKubeApi } from '../kube-client.ts';
import { chaosInjected, chaosTargets, chaosWaitingFor } from './chaos-mesh-status.ts';

/**
 * Faults through the Kubernetes API of a real cluster: pods deleted, nodes cordoned and drained through
 * the Eviction API, Chaos Mesh objects applied as given. Faults on a node's machine (power, network)
 * need access the API does not give: here they throw the error that says so; an environment that has
 * that access (k3d, through Docker) overrides them.
 */
export class ClusterFaults implements Faults {
  private readonly chaosInEffect = new Map<string, () => Promise<void>>();
  /** Nodes cordoned by a fault and not uncordoned since: down() uncordons them. */
  private readonly cordoned = new Set<string>();

  constructor(
    protected readonly kube: ClientNodeKubeApi,
    protected readonly emit: (e: TimelineEvent) => void,
    protected readonly environment: { name: string; faultSupport: FaultSupport },
  ) {}

  /** The node's name in the cluster (k3d maps the production node an agent stands for). */
  protected nodeName(name: string): string {
    return name;
  }

  protected event(kind: string, object: string, message: string): void {
    this.emit({ t: Date.now(), kind, object, message, type: 'Warning' });
  }

  protected unsupported(fault: FaultName): never {
    throw faultUnsupported(this.environment.name, fault, this.environment.faultSupport);
  }

  async killPod(ref: { namespace: string; name: string }): Promise<void> {
    this.event('FaultPodKilled', `Pod ${ref.namespace}/${ref.name}`, 'pod deleted with grace period 0');
    await this.kube.killPod(ref);
  }

  async stopNode(_name: string): Promise<void> {
    this.unsupported('stopNode');
  }

  async startNode(_name: string): Promise<void> {
    this.unsupported('startNode');
  }

  async failZone(_zone: string): Promise<string[]> {
    this.unsupported('failZone');
  }

  async restoreZone(_zone: string): Promise<string[]> {
    this.unsupported('restoreZone');
  }

  async partitionNode(_name: string): Promise<{ mode: 'partition' | 'stop'; how: string }> {
    this.unsupported('partitionNode');
  }

  async cordon(name: string): Promise<void> {
    const node = this.nodeName(name);
    await this.kube.patch({ kind: 'Node', name: node }, (n) => {
      if (!n.spec?.unschedulable) this.cordoned.add(node);
      n.spec = { ...(n.spec ?? {}), unschedulable: true };
    });
  }

  async uncordon(name: string): Promise<void> {
    const node = this.nodeName(name);
    this.cordoned.delete(node);
    await this.kube.patch({ kind: 'Node', name: node }, (n) => {
      if (n.spec) delete n.spec.unschedulable;
    });
  }

  async evict(ref: { namespace: string; name: string }): Promise<EvictionAnswer> {
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
  async drain(name: string, options: { timeoutSeconds?: number } = {}): Promise<DrainReport> {
    const node = this.nodeName(name);
    const t0 = Date.now();
    const deadline = t0 + (options.timeoutSeconds ?? 300) * 1000;
    await this.cordon(node);
    const evicted: string[] = [];
    const ignored: string[] = [];
    let refused = 0;
    for (;;) {
      const pods = (await this.kube.list({ kind: 'Pod' })).filter(
        (p) => p.spec?.nodeName === node && !['Succeeded', 'Failed'].includes(p.status?.phase),
      );
      const movable = pods.filter((p) => {
        const daemon = (p.metadata.ownerReferences ?? []).some((o) => o.kind === 'DaemonSet');
        if (daemon && !ignored.includes(`${p.metadata.namespace}/${p.metadata.name}`))
          ignored.push(`${p.metadata.namespace}/${p.metadata.name}`);
        return !daemon;
      });
      if (movable.length === 0 || Date.now() > deadline)
        return {
          node,
          evicted,
          ignored,
          refused,
          remaining: movable.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
          durationMs: Date.now() - t0,
        };
      for (const p of movable) {
        const ref = { namespace: p.metadata.namespace ?? 'default', name: p.metadata.name };
        const answer = await this.evict(ref);
        if (answer.code === 200) evicted.push(`${ref.namespace}/${ref.name}`);
        else if (answer.code === 429) refused++;
      }
      await new Promise((r) => setTimeout(r, 5000));
    }
  }

  /**
   * The chaos object applied exactly as given: Chaos Mesh (installed in the cluster) selects and
   * injects; resolved once its AllInjected condition is True, with the pods of its records.
   */
  async chaos(object: KubeObject): Promise<ChaosInjection> {
    const name = describeChaos(object);
    const ref = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.metadata.namespace ?? 'default',
      name: object.metadata.name,
    };
    this.event('ChaosInjected', name, `kubectl apply of ${name} (Chaos Mesh injects it)`);
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
        throw new TwinError('TWIN_TIMEOUT', `${(err as Error).message}; ${chaosWaitingFor(last)}`);
      });
    const targets = chaosTargets(injected);
    let recovered = false;
    const recover = async () => {
      if (recovered) return;
      recovered = true;
      this.chaosInEffect.delete(name);
      await this.kube.delete(ref);
      await this.kube.waitFor(ref, (o) => o === undefined, {
        timeout: 180_000,
        what: `${name} deleted (Chaos Mesh recovers its targets before removing its finalizer)`,
      });
      this.emit({
        t: Date.now(),
        kind: 'ChaosRecovered',
        object: name,
        message: `${name} deleted`,
        type: 'Normal',
      });
    };
    this.chaosInEffect.set(name, recover);
    return { name, targets, recover };
  }

  /** Undoes what the faults left in effect (down() calls it): chaos deleted, nodes a fault cordoned uncordoned. */
  async undo(): Promise<void> {
    for (const recover of [...this.chaosInEffect.values()].reverse()) await recover().catch(() => {});
    for (const node of [...this.cordoned]) await this.uncordon(node).catch(() => {});
  }
}
