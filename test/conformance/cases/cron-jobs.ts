import { expect } from 'vitest';
import type { KubeObject } from '../../../env/environment.ts';
import type { CaseContext, ConformanceCase } from '../conformance-case.ts';
import { podTemplate } from '../objects.ts';
import { finished } from './jobs.ts';

const CRON = 'https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/';
const SCHEDULED = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const MINUTE = 60_000;

async function cronJob(
  t: CaseContext,
  name: string,
  command: string,
  spec: Record<string, unknown> = {},
): Promise<void> {
  await t.apply({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: {
      schedule: '* * * * *',
      jobTemplate: {
        spec: {
          backoffLimit: 0,
          template: podTemplate(t, { labels: { cron: name }, command, restartPolicy: 'Never' }),
        },
      },
      ...spec,
    },
  });
}

async function jobsOf(t: CaseContext, name: string): Promise<KubeObject[]> {
  return (await t.list('Job')).filter((j) =>
    j.metadata.ownerReferences?.some((o) => o.kind === 'CronJob' && o.name === name),
  );
}

/** Waits until the control-plane clock is `from`–`to` seconds into a minute (so a step does not straddle a schedule time). */
async function intoMinute(t: CaseContext, from: number, to: number): Promise<void> {
  const at = (t.now() % MINUTE) / 1000;
  if (at >= from && at <= to) return;
  await t.sleep(((from - at + 60) % 60) + 1);
}

export const cronJobCases: ConformanceCase[] = [
  {
    area: 'CronJobs',
    title: 'a CronJob creates one Job per schedule time, owned by it and annotated with the scheduled time',
    docs: `${CRON}#schedule-syntax`,
    async run(t) {
      await cronJob(t, 'minutely', 'true');
      const jobs = await t.until('two Jobs', 200, async () => {
        const js = await jobsOf(t, 'minutely');
        return js.length >= 2 ? js : undefined;
      });
      const times = jobs
        .map((j) => Date.parse(j.metadata.annotations?.[SCHEDULED] ?? ''))
        .sort((a, b) => a - b);
      for (const time of times) expect(time % MINUTE).toBe(0);
      expect(times[1]! - times[0]!).toBe(MINUTE);
      const cj = await t.get({ kind: 'CronJob', name: 'minutely' });
      expect(Date.parse(cj!.status.lastScheduleTime)).toBeGreaterThanOrEqual(times[1]!);
    },
  },
  {
    area: 'CronJobs',
    title: 'concurrencyPolicy Forbid: no new Job starts while the previous one is still running',
    docs: `${CRON}#concurrency-policy`,
    async run(t) {
      await cronJob(t, 'forbid', 'sleep 3600', { concurrencyPolicy: 'Forbid' });
      const [first] = await t.until('the first Job', 90, async () => {
        const js = await jobsOf(t, 'forbid');
        return js.length > 0 ? js : undefined;
      });
      await t.sleep(130);
      const jobs = await jobsOf(t, 'forbid');
      expect(jobs.map((j) => j.metadata.uid)).toEqual([first!.metadata.uid]);
    },
  },
  {
    area: 'CronJobs',
    title: 'concurrencyPolicy Replace: at the next schedule time the running Job is replaced by a new one',
    docs: `${CRON}#concurrency-policy`,
    async run(t) {
      await cronJob(t, 'replace', 'sleep 3600', { concurrencyPolicy: 'Replace' });
      const [first] = await t.until('the first Job', 90, async () => {
        const js = await jobsOf(t, 'replace');
        return js.length > 0 ? js : undefined;
      });
      const [second] = await t.until('the first Job replaced', 150, async () => {
        const js = (await jobsOf(t, 'replace')).filter((j) => !j.metadata.deletionTimestamp);
        return js.length === 1 && js[0]!.metadata.uid !== first!.metadata.uid ? js : undefined;
      });
      expect(Date.parse(second!.metadata.annotations![SCHEDULED]!)).toBeGreaterThan(
        Date.parse(first!.metadata.annotations![SCHEDULED]!),
      );
    },
  },
  {
    area: 'CronJobs',
    title: 'concurrencyPolicy Allow (the default): Jobs of consecutive schedule times run at the same time',
    docs: `${CRON}#concurrency-policy`,
    async run(t) {
      await cronJob(t, 'allow', 'sleep 3600');
      const jobs = await t.until('two Jobs running at once', 200, async () => {
        const js = (await jobsOf(t, 'allow')).filter((j) => (j.status?.active ?? 0) > 0);
        return js.length >= 2 ? js : undefined;
      });
      const cj = await t.get({ kind: 'CronJob', name: 'allow' });
      expect((cj!.status.active ?? []).length).toBeGreaterThanOrEqual(2);
      expect(jobs.every((j) => !finished(j))).toBe(true);
    },
  },
  {
    area: 'CronJobs',
    title: 'successfulJobsHistoryLimit: only that many finished successful Jobs are kept',
    docs: `${CRON}#jobs-history-limits`,
    async run(t) {
      await cronJob(t, 'tidy', 'true', { successfulJobsHistoryLimit: 1 });
      const scheduled = new Set<string>();
      await t.until('three runs seen', 260, async () => {
        for (const j of await jobsOf(t, 'tidy')) scheduled.add(j.metadata.name);
        return scheduled.size >= 3 ? true : undefined;
      });
      const jobs = await t.until('history trimmed to one Job', 60, async () => {
        const js = (await jobsOf(t, 'tidy')).filter((j) => finished(j) === 'Complete');
        return js.length === 1 ? js : undefined;
      });
      expect(jobs).toHaveLength(1);
    },
  },
  {
    area: 'CronJobs',
    title: 'failedJobsHistoryLimit: only that many failed Jobs are kept',
    docs: `${CRON}#jobs-history-limits`,
    async run(t) {
      await cronJob(t, 'flaky', 'exit 1', { failedJobsHistoryLimit: 1 });
      const scheduled = new Set<string>();
      await t.until('three failed runs seen', 260, async () => {
        for (const j of await jobsOf(t, 'flaky')) scheduled.add(j.metadata.name);
        return scheduled.size >= 3 ? true : undefined;
      });
      const failed = await t.until('one failed Job kept', 90, async () => {
        const js = await jobsOf(t, 'flaky');
        return js.length === 1 && finished(js[0]!) === 'Failed' ? js : undefined;
      });
      expect(failed).toHaveLength(1);
    },
  },
  {
    area: 'CronJobs',
    title: 'a suspended CronJob starts no Job',
    docs: `${CRON}#schedule-suspension`,
    async run(t) {
      await cronJob(t, 'sleeping', 'true', { suspend: true });
      await t.sleep(130);
      expect(await jobsOf(t, 'sleeping')).toHaveLength(0);
    },
  },
  {
    area: 'CronJobs',
    title:
      'resumed without startingDeadlineSeconds, a CronJob starts the run it missed while suspended at once',
    docs: `${CRON}#schedule-suspension`,
    async run(t) {
      await intoMinute(t, 5, 30);
      await cronJob(t, 'catch-up', 'true', { suspend: true });
      const missedAt = Math.ceil(t.now() / MINUTE) * MINUTE;
      await t.sleep((missedAt - t.now()) / 1000 + 15);
      await t.patch({ kind: 'CronJob', name: 'catch-up' }, (cj) => {
        cj.spec.suspend = false;
      });
      const resumedAt = t.now();
      const [j] = await t.until('the missed Job', 30, async () => {
        const js = await jobsOf(t, 'catch-up');
        return js.length > 0 ? js : undefined;
      });
      // The run missed while suspended (a later one only if the machine stalled past the next minute).
      const scheduled = Date.parse(j!.metadata.annotations![SCHEDULED]!);
      expect(scheduled).toBeGreaterThanOrEqual(missedAt);
      expect(scheduled).toBeLessThanOrEqual(resumedAt);
    },
  },
  {
    area: 'CronJobs',
    title:
      'startingDeadlineSeconds: a run that could not start within the deadline after its schedule time is skipped',
    docs: `${CRON}#deadline-for-delayed-job-start`,
    async run(t) {
      await intoMinute(t, 5, 30);
      await cronJob(t, 'late', 'true', { suspend: true, startingDeadlineSeconds: 10 });
      const missedAt = Math.ceil(t.now() / MINUTE) * MINUTE;
      await t.sleep((missedAt - t.now()) / 1000 + 25);
      const resumedAt = t.now();
      await t.patch({ kind: 'CronJob', name: 'late' }, (cj) => {
        cj.spec.suspend = false;
      });
      const [j] = await t.until('the next Job', 120, async () => {
        const js = await jobsOf(t, 'late');
        return js.length > 0 ? js : undefined;
      });
      // Never a run more than startingDeadlineSeconds late: the one missed 25 s before is skipped.
      const scheduled = Date.parse(j!.metadata.annotations![SCHEDULED]!);
      expect(scheduled).toBeGreaterThan(missedAt);
      expect(scheduled).toBeGreaterThanOrEqual(resumedAt - 10_000);
    },
  },
];
