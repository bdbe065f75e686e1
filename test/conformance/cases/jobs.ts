import { expect } from 'vitest';
import type { KubeObject } from '../../../env/environment.ts';
import type { CaseContext, ConformanceCase, Recording } from '../conformance-case.ts';
import { condition, podTemplate } from '../objects.ts';

const JOB = 'https://kubernetes.io/docs/concepts/workloads/controllers/job/';

export async function job(
  t: CaseContext,
  name: string,
  command: string,
  spec: Record<string, unknown> = {},
  restartPolicy: 'Never' | 'OnFailure' = 'Never',
): Promise<void> {
  await t.apply({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { template: podTemplate(t, { labels: { job: name }, command, restartPolicy }), ...spec },
  });
}

export function finished(j: KubeObject): 'Complete' | 'Failed' | undefined {
  if (condition(j, 'Complete')?.status === 'True') return 'Complete';
  if (condition(j, 'Failed')?.status === 'True') return 'Failed';
  return undefined;
}

async function jobFinished(t: CaseContext, name: string, seconds = 300): Promise<KubeObject> {
  return t.objectUntil(
    `Job ${name} finished`,
    { kind: 'Job', name },
    (j) => finished(j) !== undefined,
    seconds,
  );
}

/** The most pods of a recording that were at once neither finished nor deleted. */
function peakActive(rec: Recording): number {
  const live = new Set<string>();
  let peak = 0;
  for (const e of rec.events) {
    const p = e.object;
    const done =
      e.type === 'DELETED' ||
      p.metadata.deletionTimestamp ||
      ['Succeeded', 'Failed'].includes(p.status?.phase);
    if (done) live.delete(p.metadata.uid!);
    else live.add(p.metadata.uid!);
    peak = Math.max(peak, live.size);
  }
  return peak;
}

function exitCode(p: KubeObject): number | undefined {
  return p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
}

export const jobCases: ConformanceCase[] = [
  {
    area: 'Jobs',
    title:
      'completions 3 with parallelism 1: three pods succeed one after another and the Job is Complete with a completionTime',
    docs: `${JOB}#parallel-jobs`,
    async run(t) {
      const rec = await t.record('Pod');
      await job(t, 'serial', 'sleep 0.5', { completions: 3, parallelism: 1 });
      const j = await jobFinished(t, 'serial');
      rec.stop();
      expect(finished(j)).toBe('Complete');
      expect(j.status).toMatchObject({ succeeded: 3 });
      expect(j.status.completionTime).toBeTruthy();
      expect(peakActive(rec)).toBe(1);
    },
  },
  {
    area: 'Jobs',
    title: 'parallelism 2 with completions 4: at most two pods run at a time until four have succeeded',
    docs: `${JOB}#controlling-parallelism`,
    async run(t) {
      const rec = await t.record('Pod');
      await job(t, 'pairs', 'sleep 0.5', { completions: 4, parallelism: 2 });
      const j = await jobFinished(t, 'pairs');
      rec.stop();
      expect(finished(j)).toBe('Complete');
      expect(j.status.succeeded).toBe(4);
      expect(peakActive(rec)).toBe(2);
    },
  },
  {
    area: 'Jobs',
    title:
      'backoffLimit 2 with restartPolicy Never: after three failed pods the Job fails with reason BackoffLimitExceeded',
    docs: `${JOB}#pod-backoff-failure-policy`,
    async run(t) {
      await job(t, 'doomed', 'exit 3', { backoffLimit: 2 });
      const j = await jobFinished(t, 'doomed', 600);
      expect(finished(j)).toBe('Failed');
      expect(condition(j, 'Failed')?.reason).toBe('BackoffLimitExceeded');
      expect(j.status.failed).toBe(3);
      const pods = await t.list('Pod', { job: 'doomed' });
      expect(pods).toHaveLength(3);
      for (const p of pods) {
        expect(p.status.phase).toBe('Failed');
        expect(exitCode(p)).toBe(3);
      }
    },
  },
  {
    area: 'Jobs',
    title:
      'with restartPolicy OnFailure the container restarts count against backoffLimit: the Job fails with BackoffLimitExceeded',
    docs: `${JOB}#pod-backoff-failure-policy`,
    async run(t) {
      await job(t, 'restarts', 'exit 1', { backoffLimit: 1 }, 'OnFailure');
      const j = await jobFinished(t, 'restarts', 600);
      expect(finished(j)).toBe('Failed');
      expect(condition(j, 'Failed')?.reason).toBe('BackoffLimitExceeded');
    },
  },
  {
    area: 'Jobs',
    title:
      'activeDeadlineSeconds: a Job running longer fails with reason DeadlineExceeded and its running pods are terminated',
    docs: `${JOB}#job-termination-and-cleanup`,
    async run(t) {
      await job(t, 'slow', 'sleep 3600', { activeDeadlineSeconds: 10, backoffLimit: 5 });
      const j = await jobFinished(t, 'slow');
      expect(finished(j)).toBe('Failed');
      expect(condition(j, 'Failed')?.reason).toBe('DeadlineExceeded');
      await t.podsUntil('no pod left running', { job: 'slow' }, (ps) =>
        ps.every((p) => p.status?.phase !== 'Running' && p.status?.phase !== 'Pending'),
      );
    },
  },
  {
    area: 'Jobs',
    title: 'ttlSecondsAfterFinished: a finished Job is kept for that long, then deleted with its pods',
    docs: 'https://kubernetes.io/docs/concepts/workloads/controllers/ttlafterfinished/',
    async run(t) {
      const rec = await t.record('Job');
      await job(t, 'ephemeral', 'true', { ttlSecondsAfterFinished: 20 });
      const j = await jobFinished(t, 'ephemeral');
      expect(finished(j)).toBe('Complete');
      const done = Date.parse(j.status.completionTime);
      await t.until('Job and pods deleted', 120, async () =>
        !(await t.get({ kind: 'Job', name: 'ephemeral' })) &&
        (await t.list('Pod', { job: 'ephemeral' })).length === 0
          ? true
          : undefined,
      );
      rec.stop();
      const gone = rec.events.find((e) => e.type === 'DELETED' || e.object.metadata.deletionTimestamp);
      expect(gone, 'the deletion seen').toBeDefined();
      expect(gone!.at - done, 'kept for ttlSecondsAfterFinished').toBeGreaterThanOrEqual(19_000);
    },
  },
  {
    area: 'Jobs',
    title:
      'completionMode Indexed: each pod gets its index (annotation and JOB_COMPLETION_INDEX) and status.completedIndexes lists them',
    docs: `${JOB}#completion-mode`,
    async run(t) {
      await job(t, 'indexed', 'echo "index=$JOB_COMPLETION_INDEX"', {
        completions: 3,
        parallelism: 3,
        completionMode: 'Indexed',
      });
      const j = await jobFinished(t, 'indexed');
      expect(finished(j)).toBe('Complete');
      expect(j.status.completedIndexes).toBe('0-2');
      const pods = await t.list('Pod', { job: 'indexed' });
      const seen = [];
      for (const p of pods) {
        const index = p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'];
        const log = await t.env.kube.logs({ namespace: t.ns, name: p.metadata.name });
        expect(log.trim()).toBe(`index=${index}`);
        seen.push(index);
      }
      expect(seen.sort()).toEqual(['0', '1', '2']);
    },
  },
  {
    area: 'Jobs',
    title: 'a suspended Job creates no pods and reports Suspended; resumed, it runs to completion',
    docs: `${JOB}#suspending-a-job`,
    async run(t) {
      await job(t, 'held', 'true', { suspend: true });
      const j = await t.objectUntil(
        'Suspended condition',
        { kind: 'Job', name: 'held' },
        (x) => condition(x, 'Suspended')?.status === 'True',
      );
      expect(j.status.active ?? 0).toBe(0);
      await t.sleep(10);
      expect(await t.list('Pod', { job: 'held' })).toHaveLength(0);
      await t.patch({ kind: 'Job', name: 'held' }, (x) => {
        x.spec.suspend = false;
      });
      expect(finished(await jobFinished(t, 'held'))).toBe('Complete');
    },
  },
  {
    area: 'Jobs',
    title: 'the pods of a Job carry the job-name and controller-uid labels and the Job as controller owner',
    docs: `${JOB}#job-labels`,
    async run(t) {
      await job(t, 'labelled', 'true');
      const j = await jobFinished(t, 'labelled');
      const [p] = await t.list('Pod', { job: 'labelled' });
      expect(p!.metadata.labels).toMatchObject({
        'batch.kubernetes.io/job-name': 'labelled',
        'batch.kubernetes.io/controller-uid': j.metadata.uid,
      });
      expect(p!.metadata.ownerReferences?.[0]).toMatchObject({
        kind: 'Job',
        name: 'labelled',
        controller: true,
      });
    },
  },
  {
    area: 'Jobs',
    title:
      'a podFailurePolicy FailJob rule matching the exit code fails the Job at once, reason PodFailurePolicy, before backoffLimit is reached',
    docs: `${JOB}#pod-failure-policy`,
    async run(t) {
      await job(t, 'fatal', 'exit 42', {
        backoffLimit: 6,
        podFailurePolicy: {
          rules: [
            { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
          ],
        },
      });
      const j = await jobFinished(t, 'fatal');
      expect(finished(j)).toBe('Failed');
      expect(condition(j, 'Failed')?.reason).toBe('PodFailurePolicy');
      expect(condition(j, 'Failed')?.message).toMatch(
        /Container main for pod .+ failed with exit code 42 matching FailJob rule at index 0/,
      );
      expect(await t.list('Pod', { job: 'fatal' })).toHaveLength(1);
    },
  },
  {
    area: 'Jobs',
    title:
      'a podFailurePolicy Ignore rule keeps matching failures off backoffLimit: the pod is replaced and the Job goes on',
    docs: `${JOB}#pod-failure-policy`,
    async run(t) {
      await job(t, 'tolerated', 'exit 3', {
        backoffLimit: 0,
        podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [3] } }] },
      });
      await t.until('two failed pods', 120, async () => {
        const failed = (await t.list('Pod', { job: 'tolerated' })).filter(
          (p) => p.status?.phase === 'Failed',
        );
        return failed.length >= 2 ? true : undefined;
      });
      const j = await t.get({ kind: 'Job', name: 'tolerated' });
      expect(finished(j!)).toBeUndefined();
    },
  },
];
