import {
  controllerOf,
  type KubeObject,
  type OwnerReference,
  ownerReferenceTo,
  refOf,
} from '../../kube/object.ts';
import type { WatchEvent, WatchFilter } from '../store/object-store.ts';
import { keyOf, ReconcileController, splitKey } from './controller.ts';
import { controllerKeys, listControlledBy } from './ownership.ts';
import {
  isPodAvailable,
  isPodReady,
  isPodRunningAndReady,
  isPodTerminal,
  isPodTerminating,
  nextAvailableIn,
} from './pod-state.ts';
import { podFromTemplate, podTemplateHash } from './pod-template.ts';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

const STS_TYPE = { apiVersion: 'apps/v1', kind: 'StatefulSet' };
const REVISION_TYPE = { apiVersion: 'apps/v1', kind: 'ControllerRevision' };

/** <template>-<set>-<ordinal> (getPersistentVolumeClaimName). */
export function claimName(set: KubeObject, template: KubeObject, ordinal: number): string {
  return `${template.metadata.name}-${set.metadata.name}-${ordinal}`;
}

/**
 * The claim's owner references under the set's retention policy (updateClaimOwnerRefForSetAndPod,
 * Kubernetes 1.32): refs to this set and pod are replaced by a controller ref to the set when
 * whenDeleted is Delete and the ordinal is in range, and to the pod when whenScaled is Delete and the
 * pod is being scaled away. Undefined when nothing changes; a claim another controller owns is left alone.
 */
export function claimOwnerReferences(
  claim: KubeObject,
  set: KubeObject,
  pod: KubeObject | undefined,
  ordinal: number,
): OwnerReference[] | undefined {
  const current = claim.metadata.ownerReferences ?? [];
  const ours = (r: OwnerReference) =>
    r.uid === set.metadata.uid || (pod !== undefined && r.uid === pod.metadata.uid);
  if (current.some((r) => r.controller && !ours(r))) return undefined;
  const policy = set.spec?.persistentVolumeClaimRetentionPolicy ?? {};
  const whenDeleted = policy.whenDeleted ?? 'Retain';
  const whenScaled = policy.whenScaled ?? 'Retain';
  const start: number = set.spec?.ordinals?.start ?? 0;
  const scaledDown = ordinal < start || ordinal >= start + (set.spec?.replicas ?? 1);
  const refs = current.filter((r) => !ours(r));
  if (whenScaled === 'Delete' && scaledDown && pod) refs.push(ownerReferenceTo(pod));
  else if (whenDeleted === 'Delete' && !(whenScaled === 'Delete' && scaledDown))
    refs.push(ownerReferenceTo(set));
  return JSON.stringify(refs) === JSON.stringify(current) ? undefined : refs;
}

function ordinalOf(set: KubeObject, pod: KubeObject): number {
  const prefix = `${set.metadata.name}-`;
  const n = pod.metadata.name.startsWith(prefix)
    ? Number(pod.metadata.name.slice(prefix.length))
    : Number.NaN;
  return Number.isInteger(n) ? n : -1;
}

/**
 * The StatefulSet controller: pods <name>-<ordinal> with stable identity, created and removed in
 * order (OrderedReady) or all at once (Parallel), rolled from the highest ordinal down to the
 * partition, with one PersistentVolumeClaim per volumeClaimTemplate and ordinal. Revisions are
 * ControllerRevision objects named <name>-<hash>, as in the real controller. Claims are named
 * <template>-<set>-<ordinal> and kept or deleted as persistentVolumeClaimRetentionPolicy says
 * (whenDeleted: the set owns them; whenScaled: a condemned pod owns them). See
 * https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#persistentvolumeclaim-retention
 */
export class StatefulSetController extends ReconcileController {
  readonly name = 'statefulset-controller';

  protected watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }> {
    return [
      { filter: STS_TYPE, keys: (e) => [keyOf(e.object)] },
      { filter: { kind: 'Pod' }, keys: (e) => controllerKeys('StatefulSet', e.object, e.oldObject) },
    ];
  }

  protected override onStart(): void {
    this.enqueue(...this.ctx.store.list(STS_TYPE).map(keyOf));
  }

  protected reconcile(key: string): void {
    const { store, events } = this.ctx;
    const { namespace, name } = splitKey(key);
    const set = store.get({ ...STS_TYPE, namespace, name });
    if (!set) return;
    const updateRevision = this.ensureRevision(set);
    const currentRevision: string = set.status?.currentRevision ?? updateRevision;
    const replicas: number = set.spec?.replicas ?? 1;
    const start: number = set.spec?.ordinals?.start ?? 0;
    const parallel = set.spec?.podManagementPolicy === 'Parallel';
    const strategy = set.spec?.updateStrategy?.type ?? 'RollingUpdate';
    const partition: number = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;

    const owned = listControlledBy(store, { kind: 'Pod' }, set).filter((p) => !isPodTerminating(p));
    const byOrdinal = new Map<number, KubeObject>();
    for (const p of owned) byOrdinal.set(ordinalOf(set, p), p);
    const inRange = (o: number) => o >= start && o < start + replicas;

    const revisionFor = (ordinal: number) =>
      strategy === 'RollingUpdate' && currentRevision !== updateRevision && ordinal - start < partition
        ? currentRevision
        : updateRevision;
    let blocked = false;
    for (let o = start; o < start + replicas; o++) {
      let pod = byOrdinal.get(o);
      if (pod && isPodTerminal(pod)) {
        store.delete(refOf(pod));
        events.record(
          set,
          'Normal',
          'SuccessfulDelete',
          `delete Pod ${pod.metadata.name} in StatefulSet ${name} successful`,
          this.name,
        );
        byOrdinal.delete(o);
        pod = undefined;
        if (!parallel) {
          blocked = true;
          break;
        }
      }
      if (!pod) {
        pod = this.createPod(set, o, revisionFor(o));
        byOrdinal.set(o, pod);
        if (!parallel) {
          blocked = true;
          break;
        }
        continue;
      }
      // A Pending pod whose claim was deleted gets it again (createMissingPersistentVolumeClaims);
      // every pod's claims follow the retention policy.
      this.ensureClaims(set, o, pod, (pod.status?.phase ?? 'Pending') === 'Pending');
      if (!parallel && !isPodRunningAndReady(pod)) {
        blocked = true;
        break;
      }
    }

    const condemned = [...byOrdinal.entries()].filter(([o]) => !inRange(o)).sort(([a], [b]) => b - a);
    if (condemned.length > 0 && (parallel || !blocked)) {
      for (const [o, pod] of parallel ? condemned : condemned.slice(0, 1)) {
        // whenScaled: Delete hands the claims of a condemned pod to that pod before it goes.
        this.ensureClaims(set, o, pod, false);
        store.delete(refOf(pod));
        byOrdinal.delete(o);
        events.record(
          set,
          'Normal',
          'SuccessfulDelete',
          `delete Pod ${pod.metadata.name} in StatefulSet ${name} successful`,
          this.name,
        );
      }
      blocked = true;
    }

    const live = () => [...byOrdinal.entries()].filter(([o]) => inRange(o));
    if (!blocked && strategy === 'RollingUpdate' && live().every(([, p]) => isPodRunningAndReady(p))) {
      const stale = live()
        .filter(
          ([o, p]) =>
            o - start >= partition && p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] !== updateRevision,
        )
        .sort(([a], [b]) => b - a)[0];
      if (stale) {
        store.delete(refOf(stale[1]));
        byOrdinal.delete(stale[0]);
        events.record(
          set,
          'Normal',
          'SuccessfulDelete',
          `delete Pod ${stale[1].metadata.name} in StatefulSet ${name} successful`,
          this.name,
        );
      }
    }
    this.writeStatus(set, [...byOrdinal.values()], currentRevision, updateRevision);
  }

  private ensureRevision(set: KubeObject): string {
    const { store } = this.ctx;
    const revisionName = `${set.metadata.name}-${podTemplateHash(set.spec?.template, set.status?.collisionCount ?? 0)}`;
    const namespace = set.metadata.namespace ?? '';
    if (!store.get({ ...REVISION_TYPE, namespace, name: revisionName })) {
      const existing = listControlledBy(store, REVISION_TYPE, set);
      const revision = existing.reduce((n, r) => Math.max(n, Number(r.revision ?? 0)), 0) + 1;
      store.create({
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        metadata: {
          name: revisionName,
          namespace,
          labels: {
            ...(set.spec?.selector?.matchLabels ?? {}),
            [CONTROLLER_REVISION_HASH_LABEL]: revisionName,
          },
          ownerReferences: [ownerReferenceTo(set)],
        },
        data: { spec: { template: structuredClone(set.spec?.template ?? {}) } },
        revision,
      });
      const limit: number = set.spec?.revisionHistoryLimit ?? 10;
      const keep = new Set([revisionName, set.status?.currentRevision]);
      const old = existing
        .filter((r) => !keep.has(r.metadata.name))
        .sort((a, b) => Number(a.revision) - Number(b.revision));
      for (const r of old.slice(0, Math.max(0, old.length - limit))) store.delete(refOf(r));
    }
    return revisionName;
  }

  private createPod(set: KubeObject, ordinal: number, revision: string): KubeObject {
    const { store, events } = this.ctx;
    const namespace = set.metadata.namespace ?? '';
    const name = `${set.metadata.name}-${ordinal}`;
    const stored = store.get({ ...REVISION_TYPE, namespace, name: revision });
    const template =
      (stored?.data as { spec?: { template?: unknown } } | undefined)?.spec?.template ?? set.spec?.template;
    const pod = podFromTemplate(template, {
      name,
      namespace,
      owner: set,
      labels: {
        [CONTROLLER_REVISION_HASH_LABEL]: revision,
        [POD_NAME_LABEL]: name,
        [POD_INDEX_LABEL]: String(ordinal),
      },
    });
    pod.spec.hostname = name;
    if (set.spec?.serviceName) pod.spec.subdomain = set.spec.serviceName;
    for (const claim of (set.spec?.volumeClaimTemplates ?? []) as KubeObject[]) {
      const volumes = ((pod.spec.volumes ?? []) as Array<{ name: string }>).filter(
        (v) => v.name !== claim.metadata.name,
      );
      pod.spec.volumes = [
        ...volumes,
        { name: claim.metadata.name, persistentVolumeClaim: { claimName: claimName(set, claim, ordinal) } },
      ];
    }
    this.ensureClaims(set, ordinal, undefined, true);
    const created = store.create(pod);
    events.record(
      set,
      'Normal',
      'SuccessfulCreate',
      `create Pod ${name} in StatefulSet ${set.metadata.name} successful`,
      this.name,
    );
    return created;
  }

  /**
   * Creates the pod's missing claims from the volumeClaimTemplates (createPersistentVolumeClaims) and
   * sets their owner references by the retention policy (updateClaimOwnerRefForSetAndPod). A claim is
   * created unbound: the PV controller and the scheduler bind it.
   */
  private ensureClaims(set: KubeObject, ordinal: number, pod: KubeObject | undefined, create: boolean): void {
    const { store, events } = this.ctx;
    const namespace = set.metadata.namespace ?? '';
    for (const template of (set.spec?.volumeClaimTemplates ?? []) as KubeObject[]) {
      const name = claimName(set, template, ordinal);
      const existing = store.get({ kind: 'PersistentVolumeClaim', namespace, name });
      if (existing) {
        const refs = claimOwnerReferences(existing, set, pod, ordinal);
        if (refs)
          store.patch(refOf(existing), (c) => {
            c.metadata.ownerReferences = refs;
            if (refs.length === 0) delete c.metadata.ownerReferences;
          });
        continue;
      }
      if (!create) continue;
      const pvc: KubeObject = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name,
          namespace,
          // The set's selector labels win over the template's own (getPersistentVolumeClaims).
          labels: { ...(template.metadata.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) },
          ...(template.metadata.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        },
        spec: structuredClone(template.spec ?? {}),
      };
      const refs = claimOwnerReferences(pvc, set, pod, ordinal);
      if (refs?.length) pvc.metadata.ownerReferences = refs;
      store.create(pvc);
      events.record(
        set,
        'Normal',
        'SuccessfulCreate',
        `create Claim ${name} Pod ${set.metadata.name}-${ordinal} in StatefulSet ${set.metadata.name} success`,
        this.name,
      );
    }
  }

  private writeStatus(
    set: KubeObject,
    pods: KubeObject[],
    currentRevision: string,
    updateRevision: string,
  ): void {
    const now = this.ctx.clock.now();
    const minReadySeconds: number = set.spec?.minReadySeconds ?? 0;
    const live = pods.filter((p) => !isPodTerminal(p) && controllerOf(p)?.uid === set.metadata.uid);
    const revisionOf = (p: KubeObject) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
    const updated = live.filter((p) => revisionOf(p) === updateRevision).length;
    const replicas: number = set.spec?.replicas ?? 1;
    const ready = live.filter(isPodReady).length;
    // The rollout is complete when every replica is on the update revision: it becomes the current one.
    const current =
      updated === replicas && ready === replicas && live.length === replicas
        ? updateRevision
        : currentRevision;
    const status = {
      ...(set.status ?? {}),
      observedGeneration: set.metadata.generation,
      replicas: live.length,
      readyReplicas: ready,
      currentReplicas: live.filter((p) => revisionOf(p) === current).length,
      updatedReplicas: updated,
      availableReplicas: live.filter((p) => isPodAvailable(p, minReadySeconds, now)).length,
      currentRevision: current,
      updateRevision,
      collisionCount: set.status?.collisionCount ?? 0,
    };
    this.ctx.store.patch(refOf(set), (o) => {
      o.status = status;
    });
    const wait = nextAvailableIn(live, minReadySeconds, now);
    if (wait !== undefined) this.enqueueAfter(keyOf(set), wait);
  }
}
