import { controllerOf, type KubeObject, ownerReferenceTo } from '../../kube/object.ts';
import { keyOf, ReconcileController, splitKey } from '../controllers/controller.ts';
import type { WatchEvent, WatchFilter } from '../store/object-store.ts';
import {
  albActionAnnotationKey,
  albForwardAction,
  albIngresses,
  albOf,
  canaryWeightOf,
  MANAGED_ALB_ACTIONS_ANNOTATION,
} from './alb-actions.ts';
import { newAnalysisRun, REVISION_ANNOTATION } from './analysis-run-factory.ts';
import { parsePauseDuration } from './duration.ts';
import { POD_TEMPLATE_HASH_LABEL, podTemplateHash } from './pod-template-hash.ts';
import {
  atDesiredReplicaCounts,
  calculateReplicaCounts,
  currentSetWeight,
  currentStep,
  type ReplicaSetCounts,
  specReplicas,
  surgeAndUnavailable,
} from './replica-counts.ts';
import {
  AvailableReason,
  calculateRolloutPhase,
  NewReplicaSetAvailableReason,
  ReplicaSetUpdatedReason,
  RolloutAbortedReason,
  RolloutCompletedReason,
  RolloutHealthyReason,
  RolloutPausedReason,
  RolloutResumedReason,
  removeCondition,
  setCondition,
} from './rollout-conditions.ts';
import { rolloutValidationError } from './rollout-validation.ts';
import {
  type AnalysisRun,
  ARGO_API_VERSION,
  type CanaryStep,
  isCompleted,
  type Rollout,
  type RolloutAnalysis,
  type RolloutStatus,
  type RunStatusRef,
} from './types.ts';

export const SCALE_DOWN_DEADLINE_ANNOTATION = 'scale-down-deadline';
export const MANAGED_BY_ROLLOUTS_ANNOTATION = 'argo-rollouts.argoproj.io/managed-by-rollouts';
export const CanaryPauseStep = 'CanaryPauseStep';
export const InconclusiveAnalysisRun = 'InconclusiveAnalysisRun';

const COMPONENT = 'rollouts-controller';
const InvalidSpecReason = 'InvalidSpec';
const DEFAULT_SCALE_DOWN_DELAY_SECONDS = 30;
const DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS = 30;
const RS_REF = { apiVersion: 'apps/v1', kind: 'ReplicaSet' } as const;

/** One reconcile's view of a Rollout: the status being built and the ReplicaSets it owns. */
interface Sync {
  ro: Rollout;
  prev: RolloutStatus;
  status: RolloutStatus;
  now: number;
  hash: string;
  revision: number;
  steps: CanaryStep[];
  newRS: KubeObject;
  stableRS: KubeObject | undefined;
  otherRSs: KubeObject[];
  abortMessage: string | undefined;
  /** Control-plane times at which to look again (pause expiry, scale-down deadlines). */
  wakeAt: number[];
  requeue: boolean;
  canaryWeight: number | undefined;
}

/**
 * Argo Rollouts' canary strategy on the twin: ReplicaSets per pod template hash, steps (setWeight,
 * pause, analysis, setCanaryScale), background analysis, the stable/canary Services, the ALB
 * router's action annotation, promotion, abort and the scale-down delays, with Argo's status,
 * conditions and events.
 *
 * Twin simplification: blueGreen, experiments, header/mirror routes, anti-affinity,
 * progressDeadlineSeconds, dynamicStableScale and routers other than ALB are not modelled; an
 * experiment, setHeaderRoute or setMirrorRoute step completes at once.
 */
export class RolloutController extends ReconcileController {
  readonly name = 'argo-rollouts';

  protected watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }> {
    const byOwner = (e: WatchEvent): string[] => {
      const owner = controllerOf(e.object);
      return owner?.kind === 'Rollout' ? [`${e.object.metadata.namespace ?? ''}/${owner.name}`] : [];
    };
    // A Service or Ingress that a Rollout names may appear after it.
    const byReference = (e: WatchEvent): string[] => {
      if (e.type !== 'ADDED') return [];
      const name = e.object.metadata.name;
      return this.ctx.store
        .list(
          { apiVersion: ARGO_API_VERSION, kind: 'Rollout' },
          { namespace: e.object.metadata.namespace ?? 'default' },
        )
        .filter((ro) => {
          const canary = (ro as Rollout).spec?.strategy?.canary;
          const alb = canary?.trafficRouting?.alb;
          return (
            canary?.stableService === name ||
            canary?.canaryService === name ||
            (alb !== undefined && albIngresses(alb).includes(name))
          );
        })
        .map(keyOf);
    };
    return [
      {
        filter: { apiVersion: ARGO_API_VERSION, kind: 'Rollout' },
        keys: (e) => (e.type === 'DELETED' ? [] : [keyOf(e.object)]),
      },
      { filter: { ...RS_REF }, keys: byOwner },
      { filter: { apiVersion: ARGO_API_VERSION, kind: 'AnalysisRun' }, keys: byOwner },
      { filter: { kind: 'Service' }, keys: byReference },
      { filter: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' }, keys: byReference },
    ];
  }

  protected override onStart(): void {
    for (const ro of this.ctx.store.list({ apiVersion: ARGO_API_VERSION, kind: 'Rollout' }))
      this.enqueue(keyOf(ro));
  }

  protected reconcile(key: string): void {
    const { namespace, name } = splitKey(key);
    const ro = this.ctx.store.get({ apiVersion: ARGO_API_VERSION, kind: 'Rollout', namespace, name }) as
      | Rollout
      | undefined;
    if (!ro?.spec?.strategy?.canary) return;
    const invalid = rolloutValidationError(ro);
    if (invalid) {
      this.markInvalid(ro, invalid);
      return;
    }
    const sync = this.begin(ro);
    if (sync.status.conditions?.some((c) => c.type === InvalidSpecReason))
      sync.status.conditions = removeCondition(sync.status.conditions, InvalidSpecReason);
    this.syncPodHash(sync);
    this.applyRequests(sync);
    this.reconcileAnalysis(sync);
    this.reconcileAbort(sync);
    this.reconcilePause(sync);
    this.reconcileReplicaSets(sync);
    this.reconcileServices(sync);
    this.reconcileTrafficRouting(sync);
    this.completeStep(sync);
    this.promoteStable(sync);
    this.persist(sync);
  }

  /**
   * An invalid spec stops the Rollout before anything is scaled: the InvalidSpec condition says why
   * ("The Rollout \"<name>\" is invalid: <field>: …") and the phase turns Degraded.
   */
  private markInvalid(ro: Rollout, error: string): void {
    const now = new Date(this.ctx.clock.now()).toISOString();
    const message = `The Rollout "${ro.metadata.name}" is invalid: ${error}`;
    this.ctx.store.patch(refOf(ro), (obj) => {
      const status: RolloutStatus = { ...(obj.status ?? {}) };
      status.conditions = setCondition(
        status.conditions ?? [],
        InvalidSpecReason,
        'True',
        InvalidSpecReason,
        message,
        now,
      );
      const { phase, message: phaseMessage } = calculateRolloutPhase(obj.spec ?? {}, status);
      status.phase = phase;
      status.message = phaseMessage;
      status.observedGeneration = String(obj.metadata.generation ?? 1);
      obj.status = status;
    });
  }

  // --- ReplicaSets and the pod template hash ---------------------------------------------------

  private begin(ro: Rollout): Sync {
    const { store, clock } = this.ctx;
    const now = clock.now();
    const hash = podTemplateHash(ro.spec?.template);
    const owned = store
      .list(RS_REF, { namespace: ro.metadata.namespace ?? 'default' })
      .filter((rs) => controllerOf(rs)?.uid === ro.metadata.uid);
    let newRS = owned.find((rs) => rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === hash);
    if (!newRS) {
      const revision = Math.max(0, ...owned.map(revisionOf)) + 1;
      newRS = store.create(this.newReplicaSet(ro, hash, revision));
      this.event(
        ro,
        'Normal',
        'NewReplicaSetCreated',
        `Created ReplicaSet ${newRS.metadata.name} (revision ${revision})`,
      );
    }
    const revision = revisionOf(newRS);
    if (ro.metadata.annotations?.[REVISION_ANNOTATION] !== String(revision)) {
      store.patch(refOf(ro), (obj) => {
        obj.metadata.annotations = { ...obj.metadata.annotations, [REVISION_ANNOTATION]: String(revision) };
      });
    }
    const prev = structuredClone(ro.status ?? {});
    const status: RolloutStatus = structuredClone(prev);
    const progressing = prev.conditions?.find((c) => c.type === 'Progressing');
    const abortMessage =
      prev.abort && progressing?.reason === RolloutAbortedReason
        ? progressing.message.replace(/^Rollout aborted update to revision \d+:? ?/, '')
        : undefined;
    const sync: Sync = {
      ro: { ...ro, status },
      prev,
      status,
      now,
      hash,
      revision,
      steps: ro.spec?.strategy?.canary?.steps ?? [],
      newRS,
      stableRS: undefined,
      otherRSs: [],
      abortMessage: abortMessage || undefined,
      wakeAt: [],
      requeue: false,
      canaryWeight: undefined,
    };
    const rest = owned.filter((rs) => rs.metadata.name !== newRS.metadata.name);
    sync.otherRSs = rest;
    return sync;
  }

  private newReplicaSet(ro: Rollout, hash: string, revision: number): KubeObject {
    const template = structuredClone(ro.spec?.template ?? {});
    const labels = { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    template.metadata = { ...(template.metadata ?? {}), labels };
    const selector = structuredClone(ro.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    return {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${ro.metadata.name}-${hash}`,
        namespace: ro.metadata.namespace ?? 'default',
        labels,
        annotations: { [REVISION_ANNOTATION]: String(revision) },
        ownerReferences: [ownerReferenceTo(ro)],
      },
      spec: { replicas: 0, minReadySeconds: ro.spec?.minReadySeconds ?? 0, selector, template },
    };
  }

  /** A new pod template (or new steps) restarts the steps; the first revision becomes stable at once. */
  private syncPodHash(sync: Sync): void {
    const { status, steps, hash, ro } = sync;
    const stepHash = podTemplateHash(steps);
    const templateChanged = status.currentPodHash !== hash;
    const stepsChanged = status.currentStepHash !== undefined && status.currentStepHash !== stepHash;
    if (templateChanged || stepsChanged) {
      if (templateChanged && status.currentPodHash !== undefined) {
        this.event(ro, 'Normal', 'RolloutUpdated', `Rollout updated to revision ${sync.revision}`);
      }
      status.currentPodHash = hash;
      status.currentStepIndex = 0;
      delete status.abort;
      delete status.abortedAt;
      delete status.pauseConditions;
      delete status.controllerPause;
      delete status.promoteFull;
      sync.abortMessage = undefined;
      status.canary = { ...(status.canary?.weights ? { weights: status.canary.weights } : {}) };
      if (status.stableRS === hash && steps.length > 0) {
        this.event(ro, 'Normal', 'SkipSteps', 'Rollback to stable ReplicaSets');
        status.currentStepIndex = steps.length;
      }
      sync.requeue = true;
    }
    status.currentStepHash = stepHash;
    if (status.stableRS === undefined) {
      status.stableRS = hash;
      if (steps.length > 0) status.currentStepIndex = steps.length;
      this.event(
        ro,
        'Normal',
        RolloutCompletedReason,
        `Rollout completed update to revision ${sync.revision} (${hash}): Initial deploy`,
      );
    }
    if (steps.length === 0) delete status.currentStepIndex;
    sync.stableRS = [sync.newRS, ...sync.otherRSs].find(
      (rs) => rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === status.stableRS,
    );
    sync.otherRSs = sync.otherRSs.filter((rs) => rs !== sync.stableRS);
  }

  private fullyPromoted(sync: Sync): boolean {
    return sync.status.stableRS === sync.status.currentPodHash;
  }

  // --- Analysis ----------------------------------------------------------------------------------

  private reconcileAnalysis(sync: Sync): void {
    const { status, ro } = sync;
    const wanted = new Set<string>();
    status.canary ??= {};
    if (!this.fullyPromoted(sync) && !status.abort) {
      const background = ro.spec?.strategy?.canary?.analysis;
      const { step, index } = currentStep(sync.ro);
      if (background?.templates?.length && (status.currentStepIndex ?? 0) >= (background.startingStep ?? 0)) {
        const ref = this.ensureRun(sync, 'Background', background, 'currentBackgroundAnalysisRunStatus');
        if (ref) wanted.add(ref.name);
      } else delete status.canary.currentBackgroundAnalysisRunStatus;
      if (step?.analysis && !ro.spec?.paused) {
        const ref = this.ensureRun(sync, 'Step', step.analysis, 'currentStepAnalysisRunStatus', index);
        if (ref) wanted.add(ref.name);
      } else delete status.canary.currentStepAnalysisRunStatus;
    }
    for (const run of this.ownedRuns(ro)) {
      if (!wanted.has(run.metadata.name) && !isCompleted(run.status?.phase) && !run.spec?.terminate) {
        this.ctx.store.patch(refOf(run), (obj) => {
          obj.spec = { ...obj.spec, terminate: true };
        });
      }
    }
  }

  private ownedRuns(ro: Rollout): AnalysisRun[] {
    return this.ctx.store
      .list(
        { apiVersion: ARGO_API_VERSION, kind: 'AnalysisRun' },
        { namespace: ro.metadata.namespace ?? 'default' },
      )
      .filter((r) => controllerOf(r)?.uid === ro.metadata.uid) as AnalysisRun[];
  }

  /**
   * Creates the step or background AnalysisRun when there is none and follows its phase: Failed or
   * Error aborts the update; Inconclusive pauses it, and a resumed Rollout gets a new run.
   */
  private ensureRun(
    sync: Sync,
    kind: 'Step' | 'Background',
    analysis: RolloutAnalysis,
    field: 'currentStepAnalysisRunStatus' | 'currentBackgroundAnalysisRunStatus',
    stepIndex?: number,
  ): RunStatusRef | undefined {
    const { store } = this.ctx;
    const { ro, status } = sync;
    status.canary ??= {};
    const canary = status.canary;
    let ref = canary[field];
    const namespace = ro.metadata.namespace ?? 'default';
    const run = ref
      ? (store.get({ apiVersion: ARGO_API_VERSION, kind: 'AnalysisRun', namespace, name: ref.name }) as
          | AnalysisRun
          | undefined)
      : undefined;
    const resumedAfterInconclusive =
      run?.status?.phase === 'Inconclusive' &&
      ref?.status === 'Inconclusive' &&
      !status.pauseConditions?.some((p) => p.reason === InconclusiveAnalysisRun);
    if (!run || resumedAfterInconclusive) {
      const base =
        kind === 'Step'
          ? `${ro.metadata.name}-${sync.hash}-${sync.revision}-${stepIndex}`
          : `${ro.metadata.name}-${sync.hash}-${sync.revision}`;
      let name = base;
      for (let i = 1; store.get({ apiVersion: ARGO_API_VERSION, kind: 'AnalysisRun', namespace, name }); i++)
        name = `${base}.${i}`;
      try {
        store.create(
          newAnalysisRun(store, sync.ro, analysis, {
            name,
            type: kind,
            podHash: sync.hash,
            revision: sync.revision,
            ...(stepIndex !== undefined ? { stepIndex } : {}),
          }),
        );
      } catch (err) {
        // Twin simplification: a missing template aborts the update (Argo sets an InvalidSpec condition).
        this.addAbort(sync, `${kind} analysis: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      }
      ref = { name, status: 'Running' };
      canary[field] = ref;
      this.event(
        ro,
        'Normal',
        'AnalysisRunRunning',
        `${kind} Analysis Run '${name}' Status New: 'Running' Previous: ''`,
      );
      return ref;
    }
    const phase = run.status?.phase ?? 'Running';
    const previous = ref!.status;
    if (phase !== previous) {
      const type = phase === 'Failed' || phase === 'Error' ? 'Warning' : 'Normal';
      this.event(
        ro,
        type,
        `AnalysisRun${phase}`,
        `${kind} Analysis Run '${run.metadata.name}' Status New: '${phase}' Previous: '${previous}'`,
      );
    }
    ref = {
      name: run.metadata.name,
      status: phase,
      ...(run.status?.message ? { message: run.status.message } : {}),
    };
    canary[field] = ref;
    if (phase === 'Failed' || phase === 'Error') {
      this.addAbort(sync, run.status?.message ?? `${kind} Analysis Run '${run.metadata.name}' ${phase}`);
    } else if (phase === 'Inconclusive' && previous !== 'Inconclusive') {
      this.addPause(sync, InconclusiveAnalysisRun);
    }
    return ref;
  }

  // --- Abort and pause ---------------------------------------------------------------------------

  private addAbort(sync: Sync, message: string): void {
    sync.status.abort = true;
    sync.abortMessage = message;
  }

  /** What promote --full and retry asked for through status.promoteFull and status.abort. */
  private applyRequests(sync: Sync): void {
    const { status } = sync;
    if (status.promoteFull && !this.fullyPromoted(sync)) {
      delete status.abort;
      delete status.abortedAt;
      delete status.pauseConditions;
      delete status.controllerPause;
      sync.abortMessage = undefined;
      if (sync.steps.length > 0) status.currentStepIndex = sync.steps.length;
    }
    if (!status.abort && sync.prev.abort) {
      // Retried: the steps start again with new analysis runs.
      delete status.abortedAt;
      status.canary = { ...(status.canary?.weights ? { weights: status.canary.weights } : {}) };
      sync.abortMessage = undefined;
      sync.requeue = true;
    }
  }

  private reconcileAbort(sync: Sync): void {
    const { status, ro } = sync;
    if (!status.abort) return;
    if (this.fullyPromoted(sync)) {
      // Twin simplification: aborting a Rollout that has nothing in flight only clears the flag.
      delete status.abort;
      return;
    }
    if (!status.abortedAt) {
      status.abortedAt = new Date(sync.now).toISOString();
      this.event(ro, 'Warning', RolloutAbortedReason, this.abortConditionMessage(sync));
      for (const run of this.ownedRuns(ro)) {
        if (!isCompleted(run.status?.phase) && !run.spec?.terminate) {
          this.ctx.store.patch(refOf(run), (obj) => {
            obj.spec = { ...obj.spec, terminate: true };
          });
        }
      }
    }
    delete status.pauseConditions;
    delete status.controllerPause;
    if (sync.steps.length > 0) status.currentStepIndex = 0;
  }

  private abortConditionMessage(sync: Sync): string {
    const base = `Rollout aborted update to revision ${sync.revision}`;
    return sync.abortMessage ? `${base}: ${sync.abortMessage}` : base;
  }

  private addPause(sync: Sync, reason: string): void {
    const { status } = sync;
    if (status.pauseConditions?.some((p) => p.reason === reason)) return;
    status.pauseConditions = [
      ...(status.pauseConditions ?? []),
      { reason, startTime: new Date(sync.now).toISOString() },
    ];
    status.controllerPause = true;
    this.event(sync.ro, 'Normal', RolloutPausedReason, `Rollout is paused (${reason})`);
  }

  /** A pause step holds the Rollout: for `duration` of control-plane time, or until promoted. */
  private reconcilePause(sync: Sync): void {
    const { status } = sync;
    if (this.fullyPromoted(sync) || status.abort) return;
    const { step } = currentStep(sync.ro);
    if (!step?.pause) return;
    // controllerPause without pause conditions: someone resumed this pause step.
    const resumed = status.controllerPause === true && (status.pauseConditions?.length ?? 0) === 0;
    if (!resumed) this.addPause(sync, CanaryPauseStep);
  }

  private pauseStepCompleted(sync: Sync, pause: NonNullable<CanaryStep['pause']>): boolean {
    const { status } = sync;
    const cond = status.pauseConditions?.find((p) => p.reason === CanaryPauseStep);
    if (pause.duration !== undefined) {
      if (!cond) return false;
      const expires = Date.parse(cond.startTime) + parsePauseDuration(pause.duration);
      if (sync.now >= expires) return true;
      sync.wakeAt.push(expires);
      return false;
    }
    return status.controllerPause === true && (status.pauseConditions?.length ?? 0) === 0;
  }

  // --- Replica counts ----------------------------------------------------------------------------

  private reconcileReplicaSets(sync: Sync): void {
    const { ro, status, newRS, stableRS, otherRSs } = sync;
    const canary = ro.spec?.strategy?.canary ?? {};
    const trafficRouting = canary.trafficRouting !== undefined;
    const replicas = specReplicas(ro);
    if (this.fullyPromoted(sync)) {
      this.scale(sync, newRS, replicas);
    } else {
      const counts = calculateReplicaCounts(
        sync.ro,
        countsOf(newRS),
        stableRS && countsOf(stableRS),
        otherRSs.map(countsOf),
      );
      let canaryReplicas = counts.canary;
      if (status.abort && trafficRouting) {
        const delay = canary.abortScaleDownDelaySeconds ?? DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS;
        canaryReplicas =
          delay === 0 ? specOf(newRS) : this.afterDeadline(sync, newRS, delay) ? 0 : specOf(newRS);
      } else this.clearDeadline(newRS);
      this.scale(sync, newRS, canaryReplicas);
      if (stableRS) {
        this.clearDeadline(stableRS);
        this.scale(sync, stableRS, counts.stable);
      }
    }
    for (const rs of otherRSs) {
      if (specOf(rs) === 0) continue;
      // Twin simplification: without traffic routing older ReplicaSets scale to 0 at once, not by availability.
      if (!trafficRouting) this.scale(sync, rs, 0);
      else if (
        this.afterDeadline(sync, rs, canary.scaleDownDelaySeconds ?? DEFAULT_SCALE_DOWN_DELAY_SECONDS)
      ) {
        this.scale(sync, rs, 0);
      }
    }
  }

  /** Whether the ReplicaSet's scale-down-deadline has passed, setting it `delaySeconds` ahead when absent. */
  private afterDeadline(sync: Sync, rs: KubeObject, delaySeconds: number): boolean {
    const existing = rs.metadata.annotations?.[SCALE_DOWN_DEADLINE_ANNOTATION];
    const deadline = existing ? Date.parse(existing) : sync.now + delaySeconds * 1000;
    if (!existing) {
      const updated = this.ctx.store.patch(refOf(rs), (obj) => {
        obj.metadata.annotations = {
          ...obj.metadata.annotations,
          [SCALE_DOWN_DEADLINE_ANNOTATION]: new Date(deadline).toISOString(),
        };
      });
      if (updated) rs.metadata = updated.metadata;
    }
    if (sync.now >= deadline) return true;
    sync.wakeAt.push(deadline);
    return false;
  }

  private clearDeadline(rs: KubeObject): void {
    if (!rs.metadata.annotations?.[SCALE_DOWN_DEADLINE_ANNOTATION]) return;
    const updated = this.ctx.store.patch(refOf(rs), (obj) => {
      delete obj.metadata.annotations?.[SCALE_DOWN_DEADLINE_ANNOTATION];
    });
    if (updated) rs.metadata = updated.metadata;
  }

  private scale(sync: Sync, rs: KubeObject, replicas: number): void {
    const from = specOf(rs);
    if (from === replicas) return;
    const updated = this.ctx.store.patch(refOf(rs), (obj) => {
      obj.spec = { ...obj.spec, replicas };
      if (replicas === 0) delete obj.metadata.annotations?.[SCALE_DOWN_DEADLINE_ANNOTATION];
    });
    if (!updated) return;
    rs.spec = updated.spec;
    rs.metadata = updated.metadata;
    const direction = replicas > from ? 'up' : 'down';
    this.event(
      sync.ro,
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${direction} ReplicaSet ${rs.metadata.name} (revision ${revisionOf(rs)}) from ${from} to ${replicas}`,
    );
  }

  // --- Services and traffic routing --------------------------------------------------------------

  /** The stableService selects the stable hash and the canaryService the current one. */
  private reconcileServices(sync: Sync): void {
    const canary = sync.ro.spec?.strategy?.canary ?? {};
    const targets: Array<[string | undefined, string | undefined]> = [
      [canary.stableService, sync.status.stableRS],
      [canary.canaryService, sync.status.currentPodHash],
    ];
    for (const [name, hash] of targets) {
      if (!name || !hash) continue;
      const ref = { kind: 'Service', namespace: sync.ro.metadata.namespace ?? 'default', name };
      const svc = this.ctx.store.get(ref);
      if (!svc) {
        this.ctx.log(`${this.name}: Rollout ${keyOf(sync.ro)}: Service "${name}" not found`);
        continue;
      }
      if (
        svc.spec?.selector?.[POD_TEMPLATE_HASH_LABEL] === hash &&
        svc.metadata.annotations?.[MANAGED_BY_ROLLOUTS_ANNOTATION] === sync.ro.metadata.name
      )
        continue;
      this.ctx.store.patch(ref, (obj) => {
        obj.spec = {
          ...obj.spec,
          selector: { ...(obj.spec?.selector ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash },
        };
        obj.metadata.annotations = {
          ...obj.metadata.annotations,
          [MANAGED_BY_ROLLOUTS_ANNOTATION]: sync.ro.metadata.name,
        };
      });
    }
  }

  /** The canary weight for the router, as Argo's reconcileTrafficRouting chooses it. */
  private desiredWeight(sync: Sync): number {
    const { status, newRS, stableRS, otherRSs, steps } = sync;
    if (this.fullyPromoted(sync) || status.abort) return 0;
    if (numberAt(newRS.status?.availableReplicas) === 0) return 0;
    const index = status.currentStepIndex ?? steps.length;
    const atDesired = atDesiredReplicaCounts(
      sync.ro,
      countsOf(newRS),
      stableRS && countsOf(stableRS),
      otherRSs.map(countsOf),
    );
    if (!atDesired && !status.promoteFull) {
      // The canary pods for the new weight are not all available yet: keep the previous weight.
      for (let i = index - 1; i >= 0; i--) {
        const w = steps[i]?.setWeight;
        if (w !== undefined) return w;
      }
      return 0;
    }
    if (index < steps.length) return currentSetWeight(sync.ro);
    return 100;
  }

  private reconcileTrafficRouting(sync: Sync): void {
    const { ro, status } = sync;
    const alb = albOf(ro);
    if (!ro.spec?.strategy?.canary?.trafficRouting) return;
    const canary = ro.spec.strategy.canary;
    const weight = this.desiredWeight(sync);
    if (alb) {
      const key = albActionAnnotationKey(ro);
      const value = JSON.stringify(albForwardAction(ro, weight));
      let written = true;
      let from: number | undefined;
      for (const name of albIngresses(alb)) {
        const ref = {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          namespace: ro.metadata.namespace ?? 'default',
          name,
        };
        const ingress = this.ctx.store.get(ref);
        if (!ingress) {
          this.ctx.log(`${this.name}: Rollout ${keyOf(ro)}: Ingress "${name}" not found`);
          written = false;
          continue;
        }
        from ??= canaryWeightOf(ro, ingress.metadata.annotations?.[key]);
        const managed = `${ro.metadata.name}:${key}`;
        if (
          ingress.metadata.annotations?.[key] === value &&
          ingress.metadata.annotations?.[MANAGED_ALB_ACTIONS_ANNOTATION] === managed
        )
          continue;
        this.ctx.store.patch(ref, (obj) => {
          obj.metadata.annotations = {
            ...obj.metadata.annotations,
            [key]: value,
            [MANAGED_ALB_ACTIONS_ANNOTATION]: managed,
          };
        });
      }
      if (written && from !== weight) {
        this.event(
          ro,
          'Normal',
          'TrafficWeightUpdated',
          `Traffic weight updated from ${from ?? 0} to ${weight}`,
        );
      }
      sync.canaryWeight = written ? weight : from;
    } else {
      // Twin simplification: routers other than ALB are not written; the weight is recorded in status only.
      sync.canaryWeight = weight;
    }
    const w = sync.canaryWeight ?? 0;
    status.canary = {
      ...status.canary,
      weights: {
        canary: {
          weight: w,
          podTemplateHash: status.currentPodHash ?? '',
          serviceName: canary.canaryService ?? '',
        },
        stable: {
          weight: 100 - w,
          podTemplateHash: status.stableRS ?? '',
          serviceName: canary.stableService ?? '',
        },
        verified: true,
      },
    };
  }

  // --- Steps and promotion -----------------------------------------------------------------------

  private completeStep(sync: Sync): void {
    const { status, ro, steps } = sync;
    if (this.fullyPromoted(sync) || status.abort || ro.spec?.paused || status.promoteFull) return;
    const { step, index } = currentStep(sync.ro);
    if (!step) return;
    let completed = false;
    if (step.pause) completed = this.pauseStepCompleted(sync, step.pause);
    else if (step.setCanaryScale || step.setWeight !== undefined) {
      completed = atDesiredReplicaCounts(
        sync.ro,
        countsOf(sync.newRS),
        sync.stableRS && countsOf(sync.stableRS),
        sync.otherRSs.map(countsOf),
      );
      if (completed && step.setWeight !== undefined && ro.spec?.strategy?.canary?.trafficRouting) {
        completed = sync.canaryWeight === currentSetWeight(sync.ro);
      }
    } else if (step.analysis)
      completed = status.canary?.currentStepAnalysisRunStatus?.status === 'Successful';
    else completed = true;
    if (!completed) return;
    status.currentStepIndex = index + 1;
    if (status.canary) delete status.canary.currentStepAnalysisRunStatus;
    const pauses = (status.pauseConditions ?? []).filter((p) => p.reason !== CanaryPauseStep);
    if (pauses.length > 0) status.pauseConditions = pauses;
    else {
      delete status.pauseConditions;
      delete status.controllerPause;
    }
    this.event(
      ro,
      'Normal',
      'RolloutStepCompleted',
      `Rollout step ${index + 1}/${steps.length} completed (${stepString(step)})`,
    );
    sync.requeue = true;
  }

  /** The canary becomes stable once every step is done (or a full promotion asked) and all its pods are available. */
  private promoteStable(sync: Sync): void {
    const { status, ro, steps, newRS } = sync;
    if (this.fullyPromoted(sync) || status.abort) return;
    if (numberAt(newRS.status?.availableReplicas) !== specReplicas(ro) || specOf(newRS) !== specReplicas(ro))
      return;
    let reason: string | undefined;
    if (status.promoteFull) reason = 'Full promotion requested';
    else if ((status.currentStepIndex ?? steps.length) >= steps.length && !ro.spec?.paused)
      reason = `Completed all ${steps.length} canary steps`;
    if (!reason) return;
    status.stableRS = status.currentPodHash;
    delete status.promoteFull;
    delete status.pauseConditions;
    delete status.controllerPause;
    if (steps.length > 0) status.currentStepIndex = steps.length;
    if (status.canary) {
      delete status.canary.currentStepAnalysisRunStatus;
      delete status.canary.currentBackgroundAnalysisRunStatus;
    }
    for (const run of this.ownedRuns(ro)) {
      if (!isCompleted(run.status?.phase) && !run.spec?.terminate) {
        this.ctx.store.patch(refOf(run), (obj) => {
          obj.spec = { ...obj.spec, terminate: true };
        });
      }
    }
    this.event(
      ro,
      'Normal',
      RolloutCompletedReason,
      `Rollout completed update to revision ${sync.revision} (${status.currentPodHash}): ${reason}`,
    );
    sync.requeue = true;
  }

  // --- Status --------------------------------------------------------------------------------------

  private persist(sync: Sync): void {
    const { ro, status, prev, newRS, stableRS, otherRSs } = sync;
    const now = new Date(sync.now).toISOString();
    const all = [newRS, ...(stableRS && stableRS !== newRS ? [stableRS] : []), ...otherRSs];
    const sum = (f: (rs: KubeObject) => unknown) => all.reduce((a, rs) => a + numberAt(f(rs)), 0);
    status.replicas = sum((rs) => rs.status?.replicas);
    status.updatedReplicas = numberAt(newRS.status?.replicas);
    status.readyReplicas = sum((rs) => rs.status?.readyReplicas);
    status.availableReplicas = sum((rs) => rs.status?.availableReplicas);
    status.selector = selectorString(ro.spec?.selector?.matchLabels ?? {});
    status.observedGeneration = String(ro.metadata.generation ?? 1);

    let conditions = status.conditions ?? [];
    const paused = (status.pauseConditions?.length ?? 0) > 0 || ro.spec?.paused === true;
    const completed = this.fullyPromoted(sync);
    if (status.abort) {
      conditions = setCondition(
        conditions,
        'Progressing',
        'False',
        RolloutAbortedReason,
        this.abortConditionMessage(sync),
        now,
      );
    } else if (paused) {
      conditions = setCondition(
        conditions,
        'Progressing',
        'Unknown',
        RolloutPausedReason,
        'Rollout is paused',
        now,
      );
    } else if (
      completed &&
      status.availableReplicas >= specReplicas(ro) &&
      status.replicas === status.updatedReplicas
    ) {
      conditions = setCondition(
        conditions,
        'Progressing',
        'True',
        NewReplicaSetAvailableReason,
        `ReplicaSet "${newRS.metadata.name}" has successfully progressed.`,
        now,
      );
    } else {
      conditions = setCondition(
        conditions,
        'Progressing',
        'True',
        ReplicaSetUpdatedReason,
        `ReplicaSet "${newRS.metadata.name}" is progressing.`,
        now,
      );
    }
    const minAvailable = specReplicas(ro) - surgeAndUnavailable(ro).maxUnavailable;
    conditions =
      status.availableReplicas >= minAvailable
        ? setCondition(
            conditions,
            'Available',
            'True',
            AvailableReason,
            'Rollout has minimum availability',
            now,
          )
        : setCondition(
            conditions,
            'Available',
            'False',
            AvailableReason,
            'Rollout does not have minimum availability',
            now,
          );
    if (paused)
      conditions = setCondition(conditions, 'Paused', 'True', RolloutPausedReason, 'Rollout is paused', now);
    else if (conditions.some((c) => c.type === 'Paused')) {
      conditions = setCondition(
        conditions,
        'Paused',
        'False',
        RolloutResumedReason,
        'Rollout is resumed',
        now,
      );
    }
    conditions = completed
      ? setCondition(
          conditions,
          'Completed',
          'True',
          RolloutCompletedReason,
          'Rollout completed update to revision ' + sync.revision,
          now,
        )
      : setCondition(
          conditions,
          'Completed',
          'False',
          RolloutCompletedReason,
          `Rollout not completed, started update to revision ${sync.revision}`,
          now,
        );
    status.conditions = conditions;
    const { phase, message } = calculateRolloutPhase(ro.spec ?? {}, status);
    status.conditions = setCondition(
      status.conditions,
      'Healthy',
      phase === 'Healthy' ? 'True' : 'False',
      RolloutHealthyReason,
      phase === 'Healthy' ? 'Rollout is healthy' : 'Rollout is not healthy',
      now,
    );
    status.phase = phase;
    status.message = message;

    const wasPaused = prev.conditions?.some((c) => c.type === 'Paused' && c.status === 'True');
    if (wasPaused && !paused && !status.abort) {
      this.event(ro, 'Normal', RolloutResumedReason, 'Rollout is resumed');
    }
    const written = this.ctx.store.patch(refOf(ro), (obj) => {
      obj.status = cleanStatus(status);
    });
    if (!written) return;
    const key = keyOf(ro);
    if (sync.requeue) this.enqueue(key);
    if (sync.wakeAt.length > 0)
      this.enqueueAfter(key, Math.max(0, Math.min(...sync.wakeAt) - this.ctx.clock.now()));
  }

  private event(ro: Rollout, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.ctx.events.record(ro, type, reason, message, COMPONENT);
  }
}

function refOf(obj: KubeObject): { apiVersion: string; kind: string; namespace: string; name: string } {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata.namespace ?? 'default',
    name: obj.metadata.name,
  };
}

function revisionOf(rs: KubeObject): number {
  return Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0) || 0;
}

function numberAt(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function specOf(rs: KubeObject): number {
  return numberAt(rs.spec?.replicas);
}

function countsOf(rs: KubeObject): ReplicaSetCounts {
  return {
    name: rs.metadata.name,
    specReplicas: specOf(rs),
    availableReplicas: numberAt(rs.status?.availableReplicas),
    replicas: numberAt(rs.status?.replicas),
  };
}

function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** How Argo names a step in events (rolloututil.CanaryStepString). */
export function stepString(step: CanaryStep): string {
  if (step.setWeight !== undefined) return `setWeight: ${step.setWeight}`;
  if (step.pause) return step.pause.duration !== undefined ? `pause: ${step.pause.duration}` : 'pause';
  if (step.analysis) return 'analysis';
  if (step.setCanaryScale) {
    const s = step.setCanaryScale;
    if (s.matchTrafficWeight) return 'setCanaryScale{matchTrafficWeight: true}';
    if (s.replicas !== undefined) return `setCanaryScale{replicas: ${s.replicas}}`;
    return `setCanaryScale{weight: ${s.weight}}`;
  }
  if (step.experiment) return 'experiment';
  if (step.setHeaderRoute) return 'setHeaderRoute';
  if (step.setMirrorRoute) return 'setMirrorRoute';
  return 'unknown';
}

function cleanStatus(status: RolloutStatus): RolloutStatus {
  const order: Array<keyof RolloutStatus> = [
    'phase',
    'message',
    'observedGeneration',
    'currentPodHash',
    'stableRS',
    'currentStepIndex',
    'currentStepHash',
    'replicas',
    'updatedReplicas',
    'readyReplicas',
    'availableReplicas',
    'selector',
    'abort',
    'abortedAt',
    'promoteFull',
    'controllerPause',
    'pauseConditions',
    'canary',
    'conditions',
  ];
  const out: Record<string, unknown> = {};
  for (const k of order) if (status[k] !== undefined) out[k] = status[k];
  if (status.canary) {
    const { currentStepAnalysisRunStatus, currentBackgroundAnalysisRunStatus, weights } = status.canary;
    out['canary'] = {
      ...(currentStepAnalysisRunStatus ? { currentStepAnalysisRunStatus } : {}),
      ...(currentBackgroundAnalysisRunStatus ? { currentBackgroundAnalysisRunStatus } : {}),
      ...(weights ? { weights } : {}),
    };
  }
  return out as RolloutStatus;
}
