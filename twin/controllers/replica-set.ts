import { matchesSelector } from '../../kube/labels.ts';
import { type KubeObject, refOf } from '../../kube/object.ts';
import { podsPrefix } from '../store/name-generator.ts';
import type { WatchEvent, WatchFilter } from '../store/object-store.ts';
import { keyOf, ReconcileController, splitKey } from './controller.ts';
import { controllerKeys, listControlledByShared } from './ownership.ts';
import { podsToDelete } from './pod-deletion-order.ts';
import { isPodActive, isPodAvailable, isPodReady, nextAvailableIn } from './pod-state.ts';
import { podFromTemplate } from './pod-template.ts';

/** The kube-controller-manager's burst limit for pod creations and deletions in one sync. */
const BURST_REPLICAS = 500;

/**
 * The ReplicaSet controller: keeps spec.replicas active pods of the template, whoever owns the
 * ReplicaSet (a Deployment, an Argo Rollout, nobody).
 * Twin simplification: pods are only those the ReplicaSet created (controller reference); orphans matching the selector are not adopted.
 */
export class ReplicaSetController extends ReconcileController {
  readonly name = 'replicaset-controller';

  protected watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }> {
    return [
      { filter: { apiVersion: 'apps/v1', kind: 'ReplicaSet' }, keys: (e) => [keyOf(e.object)] },
      { filter: { kind: 'Pod' }, keys: (e) => controllerKeys('ReplicaSet', e.object, e.oldObject) },
    ];
  }

  protected override onStart(): void {
    this.enqueue(...this.ctx.store.list({ apiVersion: 'apps/v1', kind: 'ReplicaSet' }).map(keyOf));
  }

  protected reconcile(key: string): void {
    const { store, events } = this.ctx;
    const { namespace, name } = splitKey(key);
    const rs = store.get({ apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace, name });
    if (!rs) return;
    // Read only: the stored pods themselves.
    const pods = listControlledByShared(store, { kind: 'Pod' }, rs);
    const active = pods.filter(isPodActive);
    const replicas: number = rs.spec?.replicas ?? 1;
    const diff = active.length - replicas;

    if (diff < 0) {
      for (let i = 0; i < Math.min(-diff, BURST_REPLICAS); i++) {
        const pod = store.create(
          podFromTemplate(rs.spec?.template, {
            generateName: podsPrefix(rs.metadata.name),
            namespace,
            owner: rs,
          }),
        );
        active.push(pod);
        events.record(
          rs,
          'Normal',
          'SuccessfulCreate',
          `Created pod: ${pod.metadata.name}`,
          'replicaset-controller',
        );
      }
    } else if (diff > 0) {
      for (const pod of podsToDelete(active, Math.min(diff, BURST_REPLICAS))) {
        store.delete({ kind: 'Pod', namespace, name: pod.metadata.name });
        active.splice(active.indexOf(pod), 1);
        events.record(
          rs,
          'Normal',
          'SuccessfulDelete',
          `Deleted pod: ${pod.metadata.name}`,
          'replicaset-controller',
        );
      }
    }
    this.updateStatus(rs, active);
  }

  private updateStatus(rs: KubeObject, active: KubeObject[]): void {
    const now = this.ctx.clock.now();
    const minReadySeconds: number = rs.spec?.minReadySeconds ?? 0;
    const templateLabels: Record<string, string> = rs.spec?.template?.metadata?.labels ?? {};
    const status = {
      ...(rs.status ?? {}),
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) =>
        matchesSelector({ matchLabels: templateLabels }, p.metadata.labels ?? {}),
      ).length,
      readyReplicas: active.filter(isPodReady).length,
      availableReplicas: active.filter((p) => isPodAvailable(p, minReadySeconds, now)).length,
      observedGeneration: rs.metadata.generation,
    };
    this.ctx.store.patch(refOf(rs), (o) => {
      o.status = status;
    });
    const wait = nextAvailableIn(active, minReadySeconds, now);
    if (wait !== undefined) this.enqueueAfter(keyOf(rs), wait);
  }
}
