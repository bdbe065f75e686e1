import { controllerOf, type KubeObject, refOf } from '../../kube/object.ts';
import { MAX_GENERATED_NAME_LENGTH, podsPrefix } from '../store/name-generator.ts';
import type { WatchEvent, WatchFilter } from '../store/object-store.ts';
import { type Condition, findCondition, setCondition } from './conditions.ts';
import { keyOf, ReconcileController, splitKey } from './controller.ts';
import { controllerKeys, creationTime, listControlledBy } from './ownership.ts';
import { podsToDelete } from './pod-deletion-order.ts';
import { matchPodFailurePolicy } from './pod-failure-policy.ts';
import { isPodActive, isPodReady, isPodTerminating } from './pod-state.ts';
import { podFromTemplate } from './pod-template.ts';

export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

const JOB_TYPE = { apiVersion: 'batch/v1', kind: 'Job' };
const BACKOFF_BASE_MS = 10_000;
const BACKOFF_MAX_MS = 360_000;

export function isJobFinished(job: KubeObject): 'Complete' | 'Failed' | undefined {
  for (const c of (job.status?.conditions ?? []) as Condition[]) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  }
  return undefined;
}

/** "0-2,4": the compressed list of completed indexes. */
function formatIndexes(indexes: number[]): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function indexOf(pod: KubeObject): number {
  return Number(pod.metadata.annotations?.[COMPLETION_INDEX_ANNOTATION] ?? -1);
}

function finishedAt(pod: KubeObject): number {
  let t = 0;
  for (const cs of (pod.status?.containerStatuses ?? []) as Array<{
    state?: { terminated?: { finishedAt?: string } };
  }>) {
    t = Math.max(t, Date.parse(cs.state?.terminated?.finishedAt ?? '') || 0);
  }
  const ready = ((pod.status?.conditions ?? []) as Condition[]).find((c) => c.type === 'Ready');
  return t || Date.parse(ready?.lastTransitionTime ?? '') || creationTime(pod);
}

/**
 * With restartPolicy OnFailure a failing container restarts in its pod instead of failing it: the
 * retries are the restarts of the Pending and Running pods' containers, and the Job has failed once
 * they reach backoffLimit (any restart when it is 0), as pastBackoffLimitOnFailure counts them.
 */
export function pastBackoffLimitOnFailure(
  job: KubeObject,
  pods: KubeObject[],
  backoffLimit: number,
): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    if (p.status?.phase !== 'Pending' && p.status?.phase !== 'Running') continue;
    for (const c of [
      ...(p.status?.initContainerStatuses ?? []),
      ...(p.status?.containerStatuses ?? []),
    ] as Array<{
      restartCount?: number;
    }>)
      restarts += c.restartCount ?? 0;
  }
  return backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit;
}

/**
 * The Job controller: runs pods to `completions` successes (NonIndexed or Indexed) with
 * `parallelism` at a time, failing the Job past backoffLimit or activeDeadlineSeconds, and deleting
 * finished Jobs after ttlSecondsAfterFinished.
 * Twin simplification: the TTL-after-finished controller is folded in here; successPolicy and
 * backoffLimitPerIndex are not modelled (a FailIndex rule of podFailurePolicy counts the failure),
 * and no pod gets a DisruptionTarget condition for onPodConditions to match; pods deleted while running count as failed
 * only while this controller runs (no uncountedTerminatedPods finalizers).
 */
export class JobController extends ReconcileController {
  readonly name = 'job-controller';
  private readonly lostPods = new Map<string, Set<string>>();

  protected watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }> {
    return [
      { filter: JOB_TYPE, keys: (e) => [keyOf(e.object)] },
      {
        filter: { kind: 'Pod' },
        keys: (e) => {
          const owner = controllerOf(e.object);
          if (
            e.type === 'DELETED' &&
            owner?.kind === 'Job' &&
            isPodActive(e.oldObject ?? e.object) &&
            !this.deleting.has(e.object.metadata.uid ?? '')
          ) {
            const lost = this.lostPods.get(owner.uid) ?? new Set();
            lost.add(e.object.metadata.uid ?? '');
            this.lostPods.set(owner.uid, lost);
          }
          return controllerKeys('Job', e.object, e.oldObject);
        },
      },
    ];
  }

  private readonly deleting = new Set<string>();

  protected override onStart(): void {
    this.enqueue(...this.ctx.store.list(JOB_TYPE).map(keyOf));
  }

  private deletePod(job: KubeObject, pod: KubeObject): void {
    this.deleting.add(pod.metadata.uid ?? '');
    this.ctx.store.delete(refOf(pod));
    this.deleting.delete(pod.metadata.uid ?? '');
    this.ctx.events.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, this.name);
  }

  protected reconcile(key: string): void {
    const { store, clock, events } = this.ctx;
    const { namespace, name } = splitKey(key);
    const job = store.get({ ...JOB_TYPE, namespace, name });
    if (!job) return;
    const now = clock.now();
    const iso = new Date(now).toISOString();
    const uid = job.metadata.uid ?? '';

    const finished = isJobFinished(job);
    if (finished) {
      const ttl: number | undefined = job.spec?.ttlSecondsAfterFinished;
      if (ttl !== undefined) {
        const doneAt =
          Date.parse(
            job.status?.completionTime ??
              findCondition(job.status?.conditions, finished)?.lastTransitionTime ??
              '',
          ) || now;
        if (doneAt + ttl * 1000 <= now) {
          store.delete(refOf(job));
          this.lostPods.delete(uid);
        } else this.enqueueAfter(key, doneAt + ttl * 1000 - now + 1);
      }
      return;
    }

    const indexed = job.spec?.completionMode === 'Indexed';
    const parallelism: number = job.spec?.parallelism ?? 1;
    const completions: number | null =
      job.spec?.completions ?? (job.spec?.parallelism === undefined ? 1 : null);
    const backoffLimit: number = job.spec?.backoffLimit ?? 6;
    const pods = listControlledBy(store, { kind: 'Pod' }, job).filter((p) => !isPodTerminating(p));
    const succeededPods = pods.filter((p) => p.status?.phase === 'Succeeded');
    const failedPods = pods.filter((p) => p.status?.phase === 'Failed');
    let active = pods.filter(isPodActive);
    const completedIndexes = indexed
      ? [...new Set(succeededPods.map(indexOf).filter((i) => i >= 0 && i < (completions ?? 0)))]
      : [];
    const succeeded = indexed ? completedIndexes.length : succeededPods.length;
    // podFailurePolicy: an Ignore rule keeps a failure off the count, a FailJob rule fails the Job at once.
    const policy = failedPods.map((p) => matchPodFailurePolicy(job, p));
    const failJob = policy.find((m) => m?.action === 'FailJob');
    const failed = policy.filter((m) => m?.action !== 'Ignore').length + (this.lostPods.get(uid)?.size ?? 0);

    let conditions: Condition[] = [...(job.status?.conditions ?? [])];
    const status: Record<string, unknown> = { ...(job.status ?? {}) };
    const suspended = job.spec?.suspend === true;
    if (suspended) {
      for (const p of active) this.deletePod(job, p);
      active = [];
      if (findCondition(conditions, 'Suspended')?.status !== 'True') {
        conditions = setCondition(
          conditions,
          { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' },
          now,
        );
        events.record(job, 'Normal', 'Suspended', 'Job suspended', this.name);
      }
      delete status.startTime;
    } else {
      if (findCondition(conditions, 'Suspended')?.status === 'True') {
        conditions = setCondition(
          conditions,
          { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' },
          now,
        );
        events.record(job, 'Normal', 'Resumed', 'Job resumed', this.name);
      }
      status.startTime = status.startTime ?? iso;
    }

    const startTime = Date.parse((status.startTime as string | undefined) ?? '') || now;
    const deadline: number | undefined = job.spec?.activeDeadlineSeconds;
    let failure: { reason: string; message: string } | undefined;
    let complete = false;
    if (failJob) failure = { reason: 'PodFailurePolicy', message: failJob.message };
    else if (failed > backoffLimit || pastBackoffLimitOnFailure(job, active, backoffLimit))
      failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    else if (!suspended && deadline !== undefined && startTime + deadline * 1000 <= now) {
      failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
    } else if (completions !== null ? succeeded >= completions : succeeded > 0 && active.length === 0)
      complete = true;

    if (!failure && !complete && !suspended) {
      const lastFailure = Math.max(0, ...failedPods.map(finishedAt));
      // Every failure backs the next pod off, also one a podFailurePolicy Ignore rule does not count.
      const retries = failedPods.length + (this.lostPods.get(uid)?.size ?? 0);
      const backoff = retries > 0 ? Math.min(BACKOFF_BASE_MS * 2 ** (retries - 1), BACKOFF_MAX_MS) : 0;
      const waitMs = failedPods.length > 0 ? lastFailure + backoff - now : 0;
      if (indexed && completions !== null) {
        const busy = new Set([...completedIndexes, ...active.map(indexOf)]);
        const pending = [...Array(completions).keys()].filter((i) => !busy.has(i));
        const room = Math.max(0, parallelism - active.length);
        if (waitMs > 0 && pending.length > 0 && room > 0) this.enqueueAfter(key, waitMs + 1);
        else for (const i of pending.slice(0, room)) active.push(this.createPod(job, i));
      } else {
        const want =
          completions === null
            ? succeeded > 0
              ? 0
              : parallelism
            : Math.min(parallelism, completions - succeeded);
        if (active.length > want) {
          for (const p of podsToDelete(active, active.length - want)) this.deletePod(job, p);
          active = active.slice(0, want);
        } else if (active.length < want) {
          if (waitMs > 0) this.enqueueAfter(key, waitMs + 1);
          else for (let i = active.length; i < want; i++) active.push(this.createPod(job, undefined));
        }
      }
      if (deadline !== undefined) this.enqueueAfter(key, startTime + deadline * 1000 - now + 1);
    }

    if (failure) {
      for (const p of active) this.deletePod(job, p);
      active = [];
      conditions = setCondition(
        conditions,
        { type: 'FailureTarget', status: 'True', reason: failure.reason, message: failure.message },
        now,
      );
      conditions = setCondition(
        conditions,
        { type: 'Failed', status: 'True', reason: failure.reason, message: failure.message },
        now,
      );
      events.record(job, 'Warning', failure.reason, failure.message, this.name);
    } else if (complete) {
      for (const p of active) this.deletePod(job, p);
      active = [];
      conditions = setCondition(
        conditions,
        {
          type: 'SuccessCriteriaMet',
          status: 'True',
          reason: 'CompletionsReached',
          message: 'Reached expected number of succeeded pods',
        },
        now,
      );
      conditions = setCondition(
        conditions,
        {
          type: 'Complete',
          status: 'True',
          reason: 'CompletionsReached',
          message: 'Reached expected number of succeeded pods',
        },
        now,
      );
      status.completionTime = iso;
      events.record(job, 'Normal', 'Completed', 'Job completed', this.name);
    }

    Object.assign(status, {
      active: active.length,
      ready: active.filter(isPodReady).length,
      succeeded,
      failed,
      terminating: 0,
      conditions,
    });
    if (indexed) status.completedIndexes = formatIndexes(completedIndexes);
    store.patch(refOf(job), (o) => {
      o.status = status;
    });
  }

  private createPod(job: KubeObject, index: number | undefined): KubeObject {
    const name = job.metadata.name;
    const uid = job.metadata.uid ?? '';
    const labels: Record<string, string> = {
      [CONTROLLER_UID_LABEL]: uid,
      [JOB_NAME_LABEL]: name,
      'controller-uid': uid,
      'job-name': name,
    };
    const annotations: Record<string, string> = {};
    if (index !== undefined) {
      labels[COMPLETION_INDEX_ANNOTATION] = String(index);
      annotations[COMPLETION_INDEX_ANNOTATION] = String(index);
    }
    const pod = podFromTemplate(job.spec?.template, {
      generateName: index !== undefined ? indexedPodPrefix(name, index) : podsPrefix(name),
      namespace: job.metadata.namespace ?? '',
      owner: job,
      labels,
      annotations,
    });
    if (index !== undefined) {
      pod.spec.hostname = `${name}-${index}`;
      for (const c of (pod.spec.containers ?? []) as Array<{
        env?: Array<{ name: string; value?: string }>;
      }>) {
        c.env = [
          ...(c.env ?? []).filter((e) => e.name !== 'JOB_COMPLETION_INDEX'),
          { name: 'JOB_COMPLETION_INDEX', value: String(index) },
        ];
      }
    }
    const created = this.ctx.store.create(pod);
    this.ctx.events.record(
      job,
      'Normal',
      'SuccessfulCreate',
      `Created pod: ${created.metadata.name}`,
      this.name,
    );
    return created;
  }
}

/**
 * podGenerateNameWithIndex: "<job>-<index>-", with the job's name cut so that the index survives the
 * API server's cut of generateName to 58 characters.
 */
function indexedPodPrefix(jobName: string, index: number): string {
  const append = `-${index}-`;
  const prefix = `${jobName}${append}`;
  return prefix.length > MAX_GENERATED_NAME_LENGTH
    ? `${prefix.slice(0, MAX_GENERATED_NAME_LENGTH - append.length)}${append}`
    : prefix;
}
