import { isTwinError, TwinError } from '../../core/errors.ts';
import { waitUntil } from '../../core/wait.ts';
import { describeChaos } from '../../kube/chaos-mesh.ts';
import type { DrainReport } from '../../kube/drain.ts';
import type { KubeObject } from '../../kube/object.ts';
import type { ChaosInjection, EvictionAnswer, Faults, TimelineEvent } from '../environment.ts';
import { FaultLedger } from '../fault-ledger.ts';
import { type FaultName, type FaultSupport, faultUnsupported } from '../fault-needs.ts';
import type { ClientNodeKubeApi } from '../kube-client.ts';
import { chaosInjected, chaosTargets, chaosWaitingFor } from './chaos-mesh-status.ts';

/**
 * Faults through the Kubernetes API of a real cluster: pods deleted, nodes cordoned and drained through
 * the Eviction API, Chaos Mesh objects applied as given. Faults on a node's machine (power, network)
 * need access the API does not give: here they throw the error that says so; an environment that has
 * that access (k3d, through Docker) overrides them. Every fault is on the timeline under its
 * FAULT_EVENTS name and registers its undo on the ledger before it is applied (env/fault-ledger.ts).
 */
export class ClusterFaults implements Faults {
  protected readonly ledger: FaultLedger;

  constructor(
    protected readonly kube: ClientNodeKubeApi,
    emit: (e: TimelineEvent) => void,
    protected readonly environment: { name: string; faultSupport: FaultSupport },
  ) {
    this.ledger = new FaultLedger(emit, () => Date.now());
  }

  /** The node's name in the cluster (k3d maps the production node an agent stands for). */
  protected nodeName(name: string): string {
    return name;
  }

  protected unsupported(fault: FaultName): never {
    throw faultUnsupported(this.environment.name, fault, this.environment.faultSupport);
  }

  async killPod(ref: { namespace: string; name: string }): Promise<void> {
    this.ledger.record('PodKilled', `Pod ${ref.namespace}/${ref.name}`, 'pod deleted with grace period 0');
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
    this.ledger.record('NodeCordoned', `Node ${node}`, `fault: node ${node} cordoned`, 'Normal');
    await this.kube.patch({ kind: 'Node', name: node }, (n) => {
      // a node that was cordoned before the fault stays cordoned after down()
      if (!n.spec?.unschedulable) this.ledger.willUndo(`cordon/${node}`, () => this.uncordon(node));
      n.spec = { ...(n.spec ?? {}), unschedulable: true };
    });
  }

  async uncordon(name: string): Promise<void> {
    const node = this.nodeName(name);
    this.ledger.undone(`cordon/${node}`);
    this.ledger.record('NodeUncordoned', `Node ${node}`, `node ${node} uncordoned`, 'Normal');
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
    return { name, targets: chaosTargets(injected), recover };
  }

  /**
   * Undoes every fault still in effect, newest first (down() calls it): chaos objects deleted, cordons
   * lifted, and what an environment's own faults registered (k3d: nodes started and reconnected).
   */
  async undo(): Promise<void> {
    await this.ledger.undoAll();
  }
}
