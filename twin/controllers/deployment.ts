import { type KubeObject, ownerReferenceTo, refOf } from '../../kube/object.ts';
import type { WatchEvent, WatchFilter } from '../store/object-store.ts';
import { type Condition, findCondition, setCondition } from './conditions.ts';
import { keyOf, ReconcileController, splitKey } from './controller.ts';
import { scaledValue } from './int-or-percent.ts';
import { controllerKeys, creationTime, listControlledBy, listControlledByShared } from './ownership.ts';
import { isPodActive, isPodAvailable, isPodReady } from './pod-state.ts';
import { podTemplateHash, stableStringify } from './pod-template.ts';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

const NOT_COPIED_ANNOTATIONS = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
]);

const RS_TYPE = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };

/** maxSurge and maxUnavailable resolved against spec.replicas (deploymentutil.ResolveFenceposts). */
export function resolveFenceposts(deployment: KubeObject): { maxSurge: number; maxUnavailable: number } {
  const replicas: number = deployment.spec?.replicas ?? 1;
  if (deployment.spec?.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: replicas };
  const ru = deployment.spec?.strategy?.rollingUpdate ?? {};
  const maxSurge = scaledValue(ru.maxSurge, replicas, true, '25%');
  let maxUnavailable = scaledValue(ru.maxUnavailable, replicas, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

function isExplicitZero(v: unknown): boolean {
  return v === 0 || v === '0' || v === '0%';
}

function templateWithoutHash(template: any): string {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) delete t.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  return stableStringify(t);
}

function revisionOf(rs: KubeObject): number {
  const n = Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0);
  return Number.isFinite(n) ? n : 0;
}

interface RsView {
  rs: KubeObject;
  spec: number;
  active: KubeObject[];
  available: number;
}

/**
 * The Deployment controller: one ReplicaSet per pod template (named by its pod-template-hash),
 * rolled by RollingUpdate (maxSurge/maxUnavailable) or Recreate, with revisions, pause,
 * progress deadline and history limit as in pkg/controller/deployment.
 * Twin simplification: replica counts are read from the pods themselves rather than from ReplicaSet
 * status, which stands in for the real controller's expectations; a scale change during a rollout
 * is not spread proportionally across ReplicaSets.
 */
export class DeploymentController extends ReconcileController {
  readonly name = 'deployment-controller';
  private deadlineTimers = new Map<string, number>();

  protected watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }> {
    return [
      { filter: { apiVersion: 'apps/v1', kind: 'Deployment' }, keys: (e) => [keyOf(e.object)] },
      { filter: RS_TYPE, keys: (e) => controllerKeys('Deployment', e.object, e.oldObject) },
    ];
  }

  protected override onStart(): void {
    this.enqueue(...this.ctx.store.list({ apiVersion: 'apps/v1', kind: 'Deployment' }).map(keyOf));
  }

  protected reconcile(key: string): void {
    const { store } = this.ctx;
    const { namespace, name } = splitKey(key);
    const d = store.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name });
    if (!d) {
      this.deadlineTimers.delete(key);
      return;
    }
    const strategy = d.spec?.strategy?.type ?? 'RollingUpdate';
    const ru = d.spec?.strategy?.rollingUpdate ?? {};
    if (strategy === 'RollingUpdate' && isExplicitZero(ru.maxSurge) && isExplicitZero(ru.maxUnavailable)) {
      if (d.status?.observedGeneration !== d.metadata.generation) {
        this.ctx.events.record(
          d,
          'Warning',
          'FailedValidation',
          'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0',
          this.name,
        );
        store.patch(refOf(d), (o) => {
          o.status = { ...(o.status ?? {}), observedGeneration: d.metadata.generation };
        });
      }
      return;
    }

    const conditions: Condition[] = [...(d.status?.conditions ?? [])];
    const state = {
      conditions,
      progressed: false,
      collisionCount: d.status?.collisionCount as number | undefined,
    };
    const views = this.views(d);
    const templateKey = templateWithoutHash(d.spec?.template);
    const sameTemplate = views
      .filter((v) => templateWithoutHash(v.rs.spec?.template) === templateKey)
      .sort((a, b) => creationTime(a.rs) - creationTime(b.rs));
    let newRS = sameTemplate[0];
    const oldRSs = () =>
      views.filter((v) => v !== newRS).sort((a, b) => creationTime(a.rs) - creationTime(b.rs));

    if (d.spec?.paused) {
      const cond = findCondition(conditions, 'Progressing');
      if (cond?.reason !== 'DeploymentPaused') {
        state.conditions = setCondition(
          conditions,
          {
            type: 'Progressing',
            status: 'Unknown',
            reason: 'DeploymentPaused',
            message: 'Deployment is paused',
          },
          this.ctx.clock.now(),
          'on-change',
        );
      }
      const activeRSs = views.filter((v) => v.spec > 0);
      const target = newRS ?? activeRSs.sort((a, b) => revisionOf(b.rs) - revisionOf(a.rs))[0];
      if (target && activeRSs.length <= 1 && target.spec !== (d.spec?.replicas ?? 1))
        this.scale(d, target, d.spec?.replicas ?? 1);
      this.cleanup(d, oldRSs());
      this.writeStatus(d, newRS, state, true);
      return;
    }
    if (findCondition(conditions, 'Progressing')?.reason === 'DeploymentPaused') {
      state.conditions = setCondition(
        conditions,
        {
          type: 'Progressing',
          status: 'Unknown',
          reason: 'DeploymentResumed',
          message: 'Deployment is resumed',
        },
        this.ctx.clock.now(),
        'on-change',
      );
    }

    const replicas: number = d.spec?.replicas ?? 1;
    if (strategy === 'Recreate') {
      let scaled = false;
      for (const old of oldRSs()) if (old.spec > 0) scaled = this.scale(d, old, 0) || scaled;
      const oldRunning = oldRSs().some((v) =>
        v.active.some((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'),
      );
      if (!scaled && !oldRunning) {
        newRS = newRS ?? this.createNewRS(d, views, state, replicas);
        if (newRS && newRS.spec !== replicas) this.scale(d, newRS, replicas);
      }
      if (newRS) this.syncRevision(d, newRS, views, state);
    } else {
      newRS = newRS ?? this.createNewRS(d, views, state, this.newReplicas(d, views, undefined));
      if (newRS) {
        this.syncRevision(d, newRS, views, state);
        if (!this.reconcileNew(d, views, newRS)) this.reconcileOld(d, views, newRS, oldRSs());
      }
    }
    this.writeStatus(d, newRS, state, false);
  }

  private views(d: KubeObject): RsView[] {
    const now = this.ctx.clock.now();
    const minReadySeconds: number = d.spec?.minReadySeconds ?? 0;
    return listControlledBy(this.ctx.store, RS_TYPE, d).map((rs) => {
      const active = listControlledByShared(this.ctx.store, { kind: 'Pod' }, rs).filter(isPodActive);
      return {
        rs,
        spec: rs.spec?.replicas ?? 1,
        active,
        available: active.filter((p) => isPodAvailable(p, minReadySeconds, now)).length,
      };
    });
  }

  /** deploymentutil.NewRSNewReplicas for RollingUpdate, counting pods not yet removed as still there. */
  private newReplicas(d: KubeObject, views: RsView[], newRS: RsView | undefined): number {
    const replicas: number = d.spec?.replicas ?? 1;
    const { maxSurge } = resolveFenceposts(d);
    const current = views.reduce((n, v) => n + Math.max(v.spec, v.active.length), 0);
    const maxTotal = replicas + maxSurge;
    const newSpec = newRS?.spec ?? 0;
    if (current >= maxTotal) return newSpec;
    return newSpec + Math.max(0, Math.min(maxTotal - current, replicas - newSpec));
  }

  private reconcileNew(d: KubeObject, views: RsView[], newRS: RsView): boolean {
    const replicas: number = d.spec?.replicas ?? 1;
    if (newRS.spec === replicas) return false;
    if (newRS.spec > replicas) return this.scale(d, newRS, replicas);
    const next = this.newReplicas(d, views, newRS);
    return next !== newRS.spec && this.scale(d, newRS, next);
  }

  private reconcileOld(d: KubeObject, views: RsView[], newRS: RsView, old: RsView[]): boolean {
    if (old.reduce((n, v) => n + v.spec, 0) === 0) return false;
    const replicas: number = d.spec?.replicas ?? 1;
    const { maxUnavailable } = resolveFenceposts(d);
    const minAvailable = replicas - maxUnavailable;
    const effectiveAvailable = (v: RsView) => Math.min(v.spec, v.available);
    const allPods = views.reduce((n, v) => n + v.spec, 0);
    const newUnavailable = newRS.spec - effectiveAvailable(newRS);
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;

    let scaled = 0;
    for (const v of old) {
      if (scaled >= maxScaledDown) break;
      const unhealthy = v.spec - effectiveAvailable(v);
      if (v.spec === 0 || unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown - scaled, unhealthy);
      this.scale(d, v, v.spec - down);
      scaled += down;
    }
    const available = views.reduce((n, v) => n + effectiveAvailable(v), 0);
    if (available > minAvailable) {
      let total = available - minAvailable;
      for (const v of old) {
        if (total <= 0) break;
        if (v.spec === 0) continue;
        const down = Math.min(v.spec, total);
        this.scale(d, v, v.spec - down);
        total -= down;
        scaled += down;
      }
    }
    return scaled > 0;
  }

  private scale(d: KubeObject, v: RsView, to: number): boolean {
    if (v.spec === to) return false;
    const { maxSurge } = resolveFenceposts(d);
    const replicas: number = d.spec?.replicas ?? 1;
    const direction = to > v.spec ? 'up' : 'down';
    this.ctx.store.patch(refOf(v.rs), (o) => {
      o.spec.replicas = to;
      o.metadata.annotations = {
        ...(o.metadata.annotations ?? {}),
        [DESIRED_REPLICAS_ANNOTATION]: String(replicas),
        [MAX_REPLICAS_ANNOTATION]: String(replicas + maxSurge),
      };
    });
    v.spec = to;
    this.ctx.events.record(
      d,
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${direction} replica set ${v.rs.metadata.name} to ${to}`,
      this.name,
    );
    return true;
  }

  private createNewRS(
    d: KubeObject,
    views: RsView[],
    state: { conditions: Condition[]; collisionCount: number | undefined },
    replicas: number,
  ): RsView | undefined {
    const { store, clock, events } = this.ctx;
    const namespace = d.metadata.namespace ?? '';
    const { maxSurge } = resolveFenceposts(d);
    const maxRevision = views.reduce((n, v) => Math.max(n, revisionOf(v.rs)), 0);
    for (let attempt = 0; attempt < 10; attempt++) {
      const hash = podTemplateHash(d.spec?.template, state.collisionCount ?? 0);
      const rsName = `${d.metadata.name}-${hash}`;
      if (store.get({ ...RS_TYPE, namespace, name: rsName })) {
        // A ReplicaSet of that name with another template: bump collisionCount as the real controller does.
        state.collisionCount = (state.collisionCount ?? 0) + 1;
        continue;
      }
      const template = structuredClone(d.spec?.template ?? {});
      template.metadata = {
        ...(template.metadata ?? {}),
        labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash },
      };
      const selector = structuredClone(d.spec?.selector ?? {});
      selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
      const annotations: Record<string, string> = {};
      for (const [k, val] of Object.entries(d.metadata.annotations ?? {}))
        if (!NOT_COPIED_ANNOTATIONS.has(k)) annotations[k] = val;
      annotations[REVISION_ANNOTATION] = String(maxRevision + 1);
      annotations[DESIRED_REPLICAS_ANNOTATION] = String(d.spec?.replicas ?? 1);
      annotations[MAX_REPLICAS_ANNOTATION] = String((d.spec?.replicas ?? 1) + maxSurge);
      const rs = store.create({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: rsName,
          namespace,
          labels: template.metadata.labels,
          annotations,
          ownerReferences: [ownerReferenceTo(d)],
        },
        spec: { replicas, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
      });
      if (replicas > 0)
        events.record(
          d,
          'Normal',
          'ScalingReplicaSet',
          `Scaled up replica set ${rsName} to ${replicas}`,
          this.name,
        );
      state.conditions = setCondition(
        state.conditions,
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetCreated',
          message: `Created new replica set "${rsName}"`,
        },
        clock.now(),
        'always',
      );
      const view: RsView = { rs, spec: replicas, active: [], available: 0 };
      views.push(view);
      return view;
    }
    return undefined;
  }

  /** The new ReplicaSet carries the highest revision (a rollback to an old template re-numbers it); the Deployment mirrors it. */
  private syncRevision(
    d: KubeObject,
    newRS: RsView,
    views: RsView[],
    state: { conditions: Condition[] },
  ): void {
    const maxOld = views.filter((v) => v !== newRS).reduce((n, v) => Math.max(n, revisionOf(v.rs)), 0);
    let revision = revisionOf(newRS.rs);
    if (revision <= maxOld) {
      revision = maxOld + 1;
      newRS.rs =
        this.ctx.store.patch(refOf(newRS.rs), (o) => {
          o.metadata.annotations = {
            ...(o.metadata.annotations ?? {}),
            [REVISION_ANNOTATION]: String(revision),
          };
        }) ?? newRS.rs;
    }
    if (!findCondition(state.conditions, 'Progressing')) {
      state.conditions = setCondition(
        state.conditions,
        {
          type: 'Progressing',
          status: 'True',
          reason: 'FoundNewReplicaSet',
          message: `Found new replica set "${newRS.rs.metadata.name}"`,
        },
        this.ctx.clock.now(),
        'always',
      );
    }
    if (d.metadata.annotations?.[REVISION_ANNOTATION] !== String(revision)) {
      this.ctx.store.patch(refOf(d), (o) => {
        o.metadata.annotations = {
          ...(o.metadata.annotations ?? {}),
          [REVISION_ANNOTATION]: String(revision),
        };
      });
    }
  }

  private cleanup(d: KubeObject, old: RsView[]): void {
    const limit: number = d.spec?.revisionHistoryLimit ?? 10;
    const cleanable = old.filter(
      (v) => v.spec === 0 && v.active.length === 0 && (v.rs.status?.replicas ?? 0) === 0,
    );
    const excess = cleanable.length - limit;
    if (excess <= 0) return;
    cleanable.sort((a, b) => revisionOf(a.rs) - revisionOf(b.rs) || creationTime(a.rs) - creationTime(b.rs));
    for (const v of cleanable.slice(0, excess)) this.ctx.store.delete(refOf(v.rs));
  }

  private writeStatus(
    d: KubeObject,
    newRS: RsView | undefined,
    state: { conditions: Condition[]; collisionCount: number | undefined },
    paused: boolean,
  ): void {
    const { store, clock } = this.ctx;
    const now = clock.now();
    const fresh = this.views(d);
    const replicas: number = d.spec?.replicas ?? 1;
    const newView = newRS ? fresh.find((v) => v.rs.metadata.uid === newRS.rs.metadata.uid) : undefined;
    const podCount = fresh.reduce((n, v) => n + v.active.length, 0);
    const updated = newView?.active.length ?? 0;
    const ready = fresh.reduce((n, v) => n + v.active.filter(isPodReady).length, 0);
    const available = fresh.reduce((n, v) => n + v.available, 0);
    const { maxUnavailable } = resolveFenceposts(d);
    let conditions = state.conditions;
    conditions =
      available >= replicas - (d.spec?.strategy?.type === 'Recreate' ? 0 : maxUnavailable)
        ? setCondition(
            conditions,
            {
              type: 'Available',
              status: 'True',
              reason: 'MinimumReplicasAvailable',
              message: 'Deployment has minimum availability.',
            },
            now,
            'on-change',
          )
        : setCondition(
            conditions,
            {
              type: 'Available',
              status: 'False',
              reason: 'MinimumReplicasUnavailable',
              message: 'Deployment does not have minimum availability.',
            },
            now,
            'on-change',
          );

    const deadlineSeconds: number | undefined = d.spec?.progressDeadlineSeconds ?? 600;
    const key = keyOf(d);
    if (!paused && newView && deadlineSeconds !== undefined) {
      const rsName = newView.rs.metadata.name;
      const prev = d.status ?? {};
      const complete = updated === replicas && podCount === replicas && available === replicas;
      const progressed =
        updated > (prev.updatedReplicas ?? 0) ||
        ready > (prev.readyReplicas ?? 0) ||
        available > (prev.availableReplicas ?? 0) ||
        podCount - updated < (prev.replicas ?? 0) - (prev.updatedReplicas ?? 0);
      const cond = findCondition(conditions, 'Progressing');
      if (complete) {
        if (cond?.reason !== 'NewReplicaSetAvailable') {
          conditions = setCondition(
            conditions,
            {
              type: 'Progressing',
              status: 'True',
              reason: 'NewReplicaSetAvailable',
              message: `ReplicaSet "${rsName}" has successfully progressed.`,
            },
            now,
            'always',
          );
        }
      } else if (progressed) {
        conditions = setCondition(
          conditions,
          {
            type: 'Progressing',
            status: 'True',
            reason: 'ReplicaSetUpdated',
            message: `ReplicaSet "${rsName}" is progressing.`,
          },
          now,
          'always',
        );
      } else if (
        cond &&
        cond.reason !== 'NewReplicaSetAvailable' &&
        cond.reason !== 'ProgressDeadlineExceeded'
      ) {
        const from = Date.parse(cond.lastUpdateTime ?? cond.lastTransitionTime ?? '') || now;
        if (from + deadlineSeconds * 1000 < now) {
          conditions = setCondition(
            conditions,
            {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: `ReplicaSet "${rsName}" has timed out progressing.`,
            },
            now,
            'always',
          );
          this.ctx.events.record(
            d,
            'Warning',
            'ProgressDeadlineExceeded',
            `Deployment "${d.metadata.name}" has timed out progressing.`,
            this.name,
          );
        }
      }
      const after = findCondition(conditions, 'Progressing');
      if (
        !complete &&
        after &&
        after.reason !== 'ProgressDeadlineExceeded' &&
        after.reason !== 'NewReplicaSetAvailable'
      ) {
        const at = (Date.parse(after.lastUpdateTime ?? '') || now) + deadlineSeconds * 1000 + 1;
        if (this.deadlineTimers.get(key) !== at) {
          this.deadlineTimers.set(key, at);
          this.enqueueAfter(key, Math.max(1, at - now));
        }
      }
      if (complete)
        this.cleanup(
          d,
          fresh.filter((v) => v.rs.metadata.uid !== newView.rs.metadata.uid),
        );
    }

    const status: Record<string, unknown> = {
      ...(d.status ?? {}),
      observedGeneration: d.metadata.generation,
      replicas: podCount,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, replicas - available),
      conditions: sortConditions(conditions),
    };
    if (state.collisionCount !== undefined) status.collisionCount = state.collisionCount;
    store.patch(refOf(d), (o) => {
      o.status = status;
    });
  }
}

function sortConditions(conditions: Condition[]): Condition[] {
  const order = ['Available', 'Progressing', 'ReplicaFailure'];
  return [...conditions].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}
