import { matchesSelector } from '../../kube/labels.ts';
import { controllerOf, type KubeObject, refOf } from '../../kube/object.ts';
import type { WatchEvent, WatchFilter } from '../store/object-store.ts';
import { type Condition, setCondition } from './conditions.ts';
import { keyOf, ReconcileController, splitKey } from './controller.ts';
import { scaledValue } from './int-or-percent.ts';
import { isPodReady, isPodTerminal, isPodTerminating } from './pod-state.ts';

const PDB_TYPE = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' };
const SCALED_KINDS = [
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Rollout',
  'ReplicationController',
];

/**
 * The disruption controller's status for PodDisruptionBudgets: expectedPods, currentHealthy,
 * desiredHealthy and disruptionsAllowed from the selected pods and the scale of their controllers.
 * Twin simplification: a controller's scale is read from its spec.replicas (status.desiredNumberScheduled for a
 * DaemonSet) instead of the /scale subresource; pods without a controller count as one each.
 */
export class PodDisruptionBudgetController extends ReconcileController {
  readonly name = 'disruption-controller';

  protected watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }> {
    const inNamespace = (e: WatchEvent) =>
      this.ctx.store.list(PDB_TYPE, { namespace: e.object.metadata.namespace ?? '' }).map(keyOf);
    return [
      { filter: PDB_TYPE, keys: (e) => [keyOf(e.object)] },
      { filter: { kind: 'Pod' }, keys: inNamespace },
      ...SCALED_KINDS.filter((k) => k !== 'Rollout').map((kind) => ({
        filter: { apiVersion: kind === 'ReplicationController' ? 'v1' : 'apps/v1', kind },
        keys: inNamespace,
      })),
      { filter: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' }, keys: inNamespace },
    ];
  }

  protected override onStart(): void {
    this.enqueue(...this.ctx.store.list(PDB_TYPE).map(keyOf));
  }

  /** The summed scale of the controllers of the pods (disruption.getExpectedScale), following ReplicaSets up to their Deployment or Rollout. */
  private expectedScale(pods: KubeObject[]): number {
    const { store } = this.ctx;
    const seen = new Map<string, number>();
    let unmanaged = 0;
    for (const pod of pods) {
      let ref = controllerOf(pod);
      if (!ref || !SCALED_KINDS.includes(ref.kind)) {
        unmanaged++;
        continue;
      }
      const namespace = pod.metadata.namespace ?? '';
      let owner = store.get({ apiVersion: ref.apiVersion, kind: ref.kind, namespace, name: ref.name });
      if (owner && ref.kind === 'ReplicaSet') {
        const up = controllerOf(owner);
        const parent =
          up && (up.kind === 'Deployment' || up.kind === 'Rollout')
            ? store.get({ apiVersion: up.apiVersion, kind: up.kind, namespace, name: up.name })
            : undefined;
        if (parent && up) {
          owner = parent;
          ref = up;
        }
      }
      if (!owner) {
        unmanaged++;
        continue;
      }
      const scale =
        ref.kind === 'DaemonSet' ? (owner.status?.desiredNumberScheduled ?? 0) : (owner.spec?.replicas ?? 1);
      seen.set(owner.metadata.uid ?? ref.uid, scale);
    }
    return [...seen.values()].reduce((a, b) => a + b, 0) + unmanaged;
  }

  protected reconcile(key: string): void {
    const { store, clock } = this.ctx;
    const { namespace, name } = splitKey(key);
    const pdb = store.get({ ...PDB_TYPE, namespace, name });
    if (!pdb) return;
    const pods = store
      .list({ kind: 'Pod' }, { namespace })
      .filter((p) => matchesSelector(pdb.spec?.selector, p.metadata.labels ?? {}) && !isPodTerminal(p));
    let expected: number;
    let desiredHealthy: number;
    const { minAvailable, maxUnavailable } = pdb.spec ?? {};
    if (maxUnavailable !== undefined) {
      expected = this.expectedScale(pods);
      desiredHealthy = Math.max(0, expected - scaledValue(maxUnavailable, expected, true, 0));
    } else if (minAvailable !== undefined && typeof minAvailable === 'string' && minAvailable.endsWith('%')) {
      expected = this.expectedScale(pods);
      desiredHealthy = scaledValue(minAvailable, expected, true, 0);
    } else {
      expected = pods.length;
      desiredHealthy = minAvailable === undefined ? 0 : scaledValue(minAvailable, expected, true, 0);
    }
    const currentHealthy = pods.filter((p) => !isPodTerminating(p) && isPodReady(p)).length;
    const disruptionsAllowed = Math.max(0, currentHealthy - desiredHealthy);
    const conditions: Condition[] = setCondition(
      pdb.status?.conditions ?? [],
      disruptionsAllowed > 0
        ? { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '' }
        : { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '' },
      clock.now(),
    );
    const status = {
      ...(pdb.status ?? {}),
      observedGeneration: pdb.metadata.generation,
      expectedPods: expected,
      currentHealthy,
      desiredHealthy,
      disruptionsAllowed,
      disruptedPods: pdb.status?.disruptedPods ?? {},
      conditions: conditions.map((c) => ({ ...c, observedGeneration: pdb.metadata.generation })),
    };
    store.patch(refOf(pdb), (o) => {
      o.status = status;
    });
  }
}
