import { CronExpressionParser } from 'cron-parser';
import type { Clock } from '../../kube/clock.ts';
import { type KubeObject, type ObjectRef, ownerReferenceTo, refOf } from '../../kube/object.ts';
import type { ObjectStore, WatchEvent, WatchFilter } from '../store/object-store.ts';
import { findCondition } from './conditions.ts';
import { keyOf, ReconcileController, splitKey } from './controller.ts';
import { isJobFinished } from './job.ts';
import { controllerKeys, creationTime, listControlledBy } from './ownership.ts';
import { randomSuffix } from './pod-template.ts';

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const CJ_TYPE = { apiVersion: 'batch/v1', kind: 'CronJob' };
const JOB_TYPE = { apiVersion: 'batch/v1', kind: 'Job' };
const MAX_MISSED = 100;

/**
 * Schedule times in (after, upTo], at most `limit` + 1 of them. Kubernetes takes five-field cron and
 * the @yearly/@monthly/@weekly/@daily/@midnight/@hourly macros.
 * Twin simplification: without spec.timeZone schedules are read in UTC, not the controller manager's local zone.
 */
export function scheduleTimes(
  schedule: string,
  timeZone: string | undefined,
  after: number,
  upTo: number,
  limit = MAX_MISSED,
): number[] {
  const expression = schedule.trim() === '@midnight' ? '@daily' : schedule.trim();
  const it = CronExpressionParser.parse(expression, { currentDate: new Date(after), tz: timeZone ?? 'UTC' });
  const out: number[] = [];
  for (;;) {
    const t = it.next().getTime();
    if (t > upTo || out.length > limit) break;
    out.push(t);
  }
  return out;
}

export function nextScheduleTime(schedule: string, timeZone: string | undefined, after: number): number {
  const expression = schedule.trim() === '@midnight' ? '@daily' : schedule.trim();
  return CronExpressionParser.parse(expression, { currentDate: new Date(after), tz: timeZone ?? 'UTC' })
    .next()
    .getTime();
}

function jobFromCronJob(cj: KubeObject, name: string, annotations: Record<string, string>): KubeObject {
  const template = structuredClone(cj.spec?.jobTemplate ?? {});
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: cj.metadata.namespace ?? 'default',
      labels: template.metadata?.labels ?? {},
      annotations: { ...(template.metadata?.annotations ?? {}), ...annotations },
      ownerReferences: [ownerReferenceTo(cj)],
    },
    spec: template.spec ?? {},
  };
}

/** `kubectl create job <name> --from=cronjob/<cronjob>`: a Job from the CronJob's jobTemplate, now. */
export function triggerCronJob(store: ObjectStore, ref: ObjectRef, clock: Clock, name?: string): KubeObject {
  const cj = store.mustGet({ ...CJ_TYPE, ...ref });
  const jobName = name ?? `${cj.metadata.name}-manual-${randomSuffix()}`;
  void clock;
  return store.create(jobFromCronJob(cj, jobName, { 'cronjob.kubernetes.io/instantiate': 'manual' }));
}

/**
 * The CronJob controller (v2): at each unmet schedule time creates the Job <cronjob>-<minutes since
 * epoch>, honouring concurrencyPolicy, suspend and startingDeadlineSeconds, and keeps the
 * successful/failed Job history within its limits. Time is the control-plane clock.
 */
export class CronJobController extends ReconcileController {
  readonly name = 'cronjob-controller';

  protected watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }> {
    return [
      { filter: CJ_TYPE, keys: (e) => [keyOf(e.object)] },
      { filter: JOB_TYPE, keys: (e) => controllerKeys('CronJob', e.object, e.oldObject) },
    ];
  }

  protected override onStart(): void {
    this.enqueue(...this.ctx.store.list(CJ_TYPE).map(keyOf));
  }

  protected reconcile(key: string): void {
    const { store, clock, events } = this.ctx;
    const { namespace, name } = splitKey(key);
    const cj = store.get({ ...CJ_TYPE, namespace, name });
    if (!cj) return;
    const now = clock.now();
    const jobs = listControlledBy(store, JOB_TYPE, cj);
    const status: Record<string, unknown> = { ...(cj.status ?? {}) };
    const jobRef = (j: KubeObject) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      namespace,
      name: j.metadata.name,
      uid: j.metadata.uid,
      resourceVersion: j.metadata.resourceVersion,
    });
    let active = ((status.active ?? []) as Array<{ uid?: string; name: string }>).filter((r) =>
      jobs.some((j) => j.metadata.uid === r.uid),
    );
    for (const j of jobs) {
      const finished = isJobFinished(j);
      if (!finished) continue;
      if (active.some((r) => r.uid === j.metadata.uid)) {
        active = active.filter((r) => r.uid !== j.metadata.uid);
        events.record(
          cj,
          'Normal',
          'SawCompletedJob',
          `Saw completed job: ${j.metadata.name}, condition: ${finished}`,
          this.name,
        );
      }
      if (finished === 'Complete') {
        const t =
          j.status?.completionTime ?? findCondition(j.status?.conditions, 'Complete')?.lastTransitionTime;
        if (
          t &&
          (!status.lastSuccessfulTime || Date.parse(t) > Date.parse(status.lastSuccessfulTime as string))
        )
          status.lastSuccessfulTime = t;
      }
    }
    this.cleanupHistory(cj, jobs);

    const schedule: string = cj.spec?.schedule ?? '';
    const timeZone: string | undefined = cj.spec?.timeZone;
    const write = () => {
      status.active = active.length > 0 ? active : undefined;
      if (status.active === undefined) delete status.active;
      store.patch(refOf(cj), (o) => {
        o.status = status;
      });
    };
    let next: number;
    try {
      next = nextScheduleTime(schedule, timeZone, now);
    } catch (err) {
      events.record(
        cj,
        'Warning',
        'InvalidSchedule',
        `invalid schedule: ${schedule} : ${err instanceof Error ? err.message : err}`,
        this.name,
      );
      write();
      return;
    }
    this.enqueueAfter(key, next - now + 1);
    if (cj.spec?.suspend) {
      write();
      return;
    }

    let earliest = Date.parse((status.lastScheduleTime as string | undefined) ?? '') || creationTime(cj);
    const startingDeadline: number | undefined = cj.spec?.startingDeadlineSeconds;
    if (startingDeadline !== undefined) earliest = Math.max(earliest, now - startingDeadline * 1000);
    const missed = scheduleTimes(schedule, timeZone, earliest, now);
    if (missed.length > MAX_MISSED) {
      events.record(
        cj,
        'Warning',
        'TooManyMissedTimes',
        'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew',
        this.name,
      );
    }
    const scheduled = missed.at(-1);
    if (scheduled === undefined) {
      write();
      return;
    }
    if (startingDeadline !== undefined && scheduled + startingDeadline * 1000 < now) {
      events.record(
        cj,
        'Warning',
        'MissSchedule',
        `Missed scheduled time to start a job: ${new Date(scheduled).toISOString()}`,
        this.name,
      );
      write();
      return;
    }
    const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active.length > 0) {
      // Not recorded as scheduled: the time stays unmet and starts once the running Job ends (within the deadline).
      events.record(
        cj,
        'Normal',
        'JobAlreadyActive',
        'Not starting job because prior execution is running and concurrency policy is Forbid',
        this.name,
      );
      write();
      return;
    }
    if (policy === 'Replace') {
      for (const r of active) {
        store.delete({ ...JOB_TYPE, namespace, name: r.name });
        events.record(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${r.name}`, this.name);
      }
      active = [];
    }
    const jobName = `${cj.metadata.name}-${Math.floor(scheduled / 60_000)}`;
    let job = store.get({ ...JOB_TYPE, namespace, name: jobName });
    if (!job) {
      job = store.create(
        jobFromCronJob(cj, jobName, { [SCHEDULED_TIMESTAMP_ANNOTATION]: new Date(scheduled).toISOString() }),
      );
      events.record(cj, 'Normal', 'SuccessfulCreate', `Created job ${jobName}`, this.name);
    }
    if (!isJobFinished(job) && !active.some((r) => r.uid === job.metadata.uid)) active.push(jobRef(job));
    status.lastScheduleTime = new Date(scheduled).toISOString();
    write();
  }

  private cleanupHistory(cj: KubeObject, jobs: KubeObject[]): void {
    const byStart = (a: KubeObject, b: KubeObject) =>
      (Date.parse(a.status?.startTime ?? '') || creationTime(a)) -
      (Date.parse(b.status?.startTime ?? '') || creationTime(b));
    const limits: Array<['Complete' | 'Failed', number]> = [
      ['Complete', cj.spec?.successfulJobsHistoryLimit ?? 3],
      ['Failed', cj.spec?.failedJobsHistoryLimit ?? 1],
    ];
    for (const [kind, limit] of limits) {
      const done = jobs.filter((j) => isJobFinished(j) === kind).sort(byStart);
      for (const j of done.slice(0, Math.max(0, done.length - limit))) {
        this.ctx.store.delete(refOf(j));
        this.ctx.events.record(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`, this.name);
      }
    }
  }
}
