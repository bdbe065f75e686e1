import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import { CronJobController, triggerCronJob } from '../../../twin/controllers/cron-job.ts';
import { DaemonSetController } from '../../../twin/controllers/daemon-set.ts';
import { EndpointsController } from '../../../twin/controllers/endpoints.ts';
import { builtinControllers } from '../../../twin/controllers/index.ts';
import { JobController } from '../../../twin/controllers/job.ts';
import { ReplicaSetController } from '../../../twin/controllers/replica-set.ts';
import { StatefulSetController } from '../../../twin/controllers/stateful-set.ts';
import { fakeKubelet, type Harness, markPod, pods, podTemplate, startControllers, until } from './harness.ts';

let h: Harness;
let stopKubelet: () => void = () => {};
afterEach(() => {
  stopKubelet();
  h?.stop();
});

const rsRef = { apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: 'default', name: 'web' };

describe('ReplicaSet', () => {
  it('replaces ended pods and scales down unscheduled, pending and not-ready pods first', async () => {
    h = startControllers([new ReplicaSetController()]);
    h.store.create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }) },
    });
    await until('4 pods', () => pods(h.store).length === 4);
    const [a, b, c, d] = pods(h.store) as [KubeObject, KubeObject, KubeObject, KubeObject];
    expect(a.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    for (const p of [b, c, d])
      h.store.patch({ kind: 'Pod', namespace: 'default', name: p.metadata.name }, (o) => {
        o.spec.nodeName = 'n1';
      });
    markPod(h.store, h.clock, c, 'Running', false);
    markPod(h.store, h.clock, d, 'Running');
    await until('status', () => h.store.mustGet(rsRef).status?.readyReplicas === 1);
    h.store.patch(rsRef, (o) => {
      o.spec.replicas = 1;
    });
    await until('scaled down', () => pods(h.store).length === 1);
    expect(pods(h.store)[0]!.metadata.name).toBe(d.metadata.name);
    expect(h.eventsFor('web').filter((e) => e.reason === 'SuccessfulDelete')).toHaveLength(3);
    markPod(h.store, h.clock, d, 'Failed');
    await until('replacement', () => pods(h.store).filter((p) => p.status.phase === 'Pending').length === 1);
    expect(h.store.mustGet(rsRef).status).toMatchObject({
      replicas: 1,
      readyReplicas: 0,
      fullyLabeledReplicas: 1,
    });
  });
});

describe('StatefulSet', () => {
  it('creates pods in ordinal order, one at a time, with claims, and scales down from the top', async () => {
    h = startControllers([new StatefulSetController()]);
    const created: string[] = [];
    h.store.watch({ kind: 'Pod' }, (e) => {
      if (e.type === 'ADDED') {
        const running = pods(h.store).filter((p) => p.status?.phase !== 'Running');
        expect(running.length).toBeLessThanOrEqual(1);
        created.push(e.object.metadata.name);
      }
    });
    stopKubelet = fakeKubelet(h.store, h.clock, { delayMs: 5 });
    h.store.create({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'default' },
      spec: {
        replicas: 3,
        serviceName: 'db-headless',
        selector: { matchLabels: { app: 'db' } },
        template: podTemplate({ app: 'db' }),
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ],
      },
    });
    const ref = { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: 'default', name: 'db' };
    await until('3 ready', () => h.store.mustGet(ref).status?.readyReplicas === 3);
    expect(created).toEqual(['db-0', 'db-1', 'db-2']);
    const p1 = h.store.mustGet({ kind: 'Pod', namespace: 'default', name: 'db-1' });
    expect(p1.spec).toMatchObject({ hostname: 'db-1', subdomain: 'db-headless' });
    expect(p1.metadata.labels).toMatchObject({
      'statefulset.kubernetes.io/pod-name': 'db-1',
      'apps.kubernetes.io/pod-index': '1',
    });
    expect(p1.spec.volumes).toContainEqual({
      name: 'data',
      persistentVolumeClaim: { claimName: 'data-db-1' },
    });
    // Created from the template and left unbound: binding is the PV controller's (test/twin/storage).
    const claim = h.store.mustGet({ kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data-db-2' });
    expect(claim.metadata.labels).toEqual({ app: 'db' });
    expect(claim.spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
    });
    expect(claim.status?.phase).toBeUndefined();
    const s = h.store.mustGet(ref).status;
    expect(s).toMatchObject({ replicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3 });
    expect(s.currentRevision).toBe(s.updateRevision);

    h.store.patch(ref, (o) => {
      o.spec.template.spec.containers[0].image = 'nginx:2';
    });
    await until('rolled', () => {
      const sts = h.store.mustGet(ref);
      const st = sts.status;
      return (
        st.observedGeneration === sts.metadata.generation &&
        st.updatedReplicas === 3 &&
        st.readyReplicas === 3 &&
        st.currentRevision === st.updateRevision
      );
    });
    const deleted = h
      .eventsFor('db')
      .filter((e) => e.reason === 'SuccessfulDelete')
      .map((e) => e.message.split(' ')[2]);
    expect(deleted).toEqual(['db-2', 'db-1', 'db-0']);

    h.store.patch(ref, (o) => {
      o.spec.replicas = 1;
    });
    await until('scaled down', () => pods(h.store).length === 1);
    expect(pods(h.store)[0]!.metadata.name).toBe('db-0');
    expect(h.store.list({ kind: 'PersistentVolumeClaim' })).toHaveLength(3);
  });
});

describe('DaemonSet', () => {
  it('runs one pinned pod per eligible node and follows node changes', async () => {
    h = startControllers([new DaemonSetController()]);
    const node = (name: string, extra: object = {}) =>
      h.store.create({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { pool: 'general' } },
        spec: extra,
      });
    node('n1');
    node('n2', { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] });
    node('gpu', { taints: [{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }] });
    const ref = { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'agent' };
    h.store.create({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'kube-system' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: podTemplate({ app: 'agent' }) },
    });
    await until('2 pods', () => h.store.mustGet(ref).status?.currentNumberScheduled === 2);
    const nodesOf = () =>
      pods(h.store, 'kube-system')
        .map(
          (p) =>
            p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]
              .matchFields[0].values[0],
        )
        .sort();
    expect(nodesOf()).toEqual(['n1', 'n2']);
    const tolerations = pods(h.store, 'kube-system')[0]!.spec.tolerations.map((t: { key: string }) => t.key);
    expect(tolerations).toContain('node.kubernetes.io/unreachable');
    expect(tolerations).not.toContain('node.kubernetes.io/network-unavailable');
    expect(h.store.mustGet(ref).status).toMatchObject({
      desiredNumberScheduled: 2,
      updatedNumberScheduled: 2,
      numberReady: 0,
    });

    node('n3');
    await until('3 pods', () => pods(h.store, 'kube-system').length === 3);
    h.store.patch({ kind: 'Node', name: 'n1' }, (o) => {
      o.spec.taints = [{ key: 'maintenance', effect: 'NoExecute' }];
    });
    h.store.delete({ kind: 'Node', name: 'n3' });
    await until('evicted', () => pods(h.store, 'kube-system').length === 1);
    expect(nodesOf()).toEqual(['n2']);
  });
});

const jobRef = { apiVersion: 'batch/v1', kind: 'Job', namespace: 'default', name: 'batch' };

describe('Job', () => {
  it('runs completions with parallelism and completes', async () => {
    h = startControllers([new JobController()]);
    let maxActive = 0;
    h.store.watch({ kind: 'Pod' }, (e) => {
      if (e.type !== 'ADDED') return;
      maxActive = Math.max(maxActive, pods(h.store).filter((p) => p.status?.phase !== 'Succeeded').length);
      setTimeout(() => markPod(h.store, h.clock, e.object, 'Succeeded'), 2);
    });
    h.store.create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'batch', namespace: 'default' },
      spec: {
        completions: 5,
        parallelism: 2,
        completionMode: 'Indexed',
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'w', image: 'w' }] } },
      },
    });
    const job = await until('complete', () => {
      const j = h.store.mustGet(jobRef);
      return j.status?.conditions?.some((c: { type: string }) => c.type === 'Complete') && j;
    });
    expect(maxActive).toBe(2);
    expect(job.status).toMatchObject({ succeeded: 5, failed: 0, active: 0, completedIndexes: '0-4' });
    expect(job.status.completionTime).toBeDefined();
    const indexes = pods(h.store)
      .map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'])
      .sort();
    expect(indexes).toEqual(['0', '1', '2', '3', '4']);
    expect(pods(h.store)[0]!.metadata.labels).toMatchObject({
      'batch.kubernetes.io/job-name': 'batch',
      'batch.kubernetes.io/controller-uid': job.metadata.uid,
    });
  });

  it('fails with BackoffLimitExceeded after backoffLimit + 1 failed pods', async () => {
    h = startControllers([new JobController()], 100_000);
    h.store.watch({ kind: 'Pod' }, (e) => {
      if (e.type === 'ADDED') setTimeout(() => markPod(h.store, h.clock, e.object, 'Failed'), 1);
    });
    h.store.create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'batch', namespace: 'default' },
      spec: {
        backoffLimit: 2,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'w', image: 'w' }] } },
      },
    });
    const job = await until('failed', () => {
      const j = h.store.mustGet(jobRef);
      return j.status?.conditions?.some((c: { type: string }) => c.type === 'Failed') && j;
    });
    expect(job.status.failed).toBe(3);
    expect(job.status.conditions.find((c: { type: string }) => c.type === 'Failed').reason).toBe(
      'BackoffLimitExceeded',
    );
    expect(pods(h.store)).toHaveLength(3);
  });
});

describe('Job with restartPolicy OnFailure', () => {
  it('fails with BackoffLimitExceeded once the restarts of its running pod reach backoffLimit', async () => {
    h = startControllers([new JobController()], 100_000);
    let restarts = 0;
    const restart = () => {
      const [p] = pods(h.store);
      if (!p) return;
      restarts++;
      h.store.patch({ kind: 'Pod', namespace: 'default', name: p.metadata.name }, (o) => {
        o.status = {
          phase: 'Running',
          containerStatuses: [
            { name: 'w', restartCount: restarts, state: { waiting: { reason: 'CrashLoopBackOff' } } },
          ],
        };
      });
    };
    h.store.create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'batch', namespace: 'default' },
      spec: {
        backoffLimit: 2,
        template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'w', image: 'w' }] } },
      },
    });
    await until('a pod', () => pods(h.store).length === 1);
    restart();
    await new Promise((r) => setTimeout(r, 20));
    expect(h.store.mustGet(jobRef).status.conditions ?? []).toEqual([]);
    restart();
    const job = await until('failed', () => {
      const j = h.store.mustGet(jobRef);
      return j.status?.conditions?.some((c: { type: string }) => c.type === 'Failed') && j;
    });
    expect(job.status.conditions.find((c: { type: string }) => c.type === 'Failed').reason).toBe(
      'BackoffLimitExceeded',
    );
    expect(pods(h.store)).toHaveLength(0);
  });
});

describe('Job podFailurePolicy', () => {
  const failWith = (pod: KubeObject, exitCode: number) =>
    h.store.patch({ kind: 'Pod', namespace: 'default', name: pod.metadata.name }, (p) => {
      p.status = {
        phase: 'Failed',
        containerStatuses: [{ name: 'main', state: { terminated: { exitCode, reason: 'Error' } } }],
      };
    });
  const job = (rules: unknown[], backoffLimit: number) =>
    h.store.create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'batch', namespace: 'default' },
      spec: {
        backoffLimit,
        podFailurePolicy: { rules },
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'w' }] } },
      },
    });
  const failedCondition = () =>
    h.store.mustGet(jobRef).status?.conditions?.find((c: { type: string }) => c.type === 'Failed');

  it('a FailJob rule matching the exit code fails the Job at once with reason PodFailurePolicy', async () => {
    h = startControllers([new JobController()], 100_000);
    h.store.watch({ kind: 'Pod' }, (e) => {
      if (e.type === 'ADDED') setTimeout(() => failWith(e.object, 42), 1);
    });
    job([{ action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } }], 6);
    const failed = await until('failed', failedCondition);
    expect(failed).toMatchObject({ reason: 'PodFailurePolicy' });
    expect(failed.message).toMatch(
      /^Container main for pod default\/batch-\S+ failed with exit code 42 matching FailJob rule at index 0$/,
    );
    expect(pods(h.store)).toHaveLength(1);
  });

  it('an Ignore rule keeps failures off backoffLimit: the failed pods are replaced and the Job does not fail', async () => {
    h = startControllers([new JobController()], 100_000);
    h.store.watch({ kind: 'Pod' }, (e) => {
      if (e.type === 'ADDED') setTimeout(() => failWith(e.object, 3), 1);
    });
    job([{ action: 'Ignore', onExitCodes: { operator: 'In', values: [3] } }], 0);
    await until(
      'three failed pods',
      () => pods(h.store).filter((p) => p.status?.phase === 'Failed').length >= 3,
    );
    expect(failedCondition()).toBeUndefined();
    expect(h.store.mustGet(jobRef).status.failed).toBe(0);
  });

  it('without a matching rule a failure counts as usual (exit code 1 against an In [42] rule)', async () => {
    h = startControllers([new JobController()], 100_000);
    h.store.watch({ kind: 'Pod' }, (e) => {
      if (e.type === 'ADDED') setTimeout(() => failWith(e.object, 1), 1);
    });
    job([{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }], 0);
    expect(await until('failed', failedCondition)).toMatchObject({ reason: 'BackoffLimitExceeded' });
  });
});

describe('CronJob', () => {
  it('creates Jobs on schedule named by minute, skipping while one runs under Forbid', async () => {
    h = startControllers([new CronJobController(), new JobController()], 60_000);
    const cj = h.store.create({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'report', namespace: 'default' },
      spec: {
        schedule: '* * * * *',
        concurrencyPolicy: 'Forbid',
        jobTemplate: {
          spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'r', image: 'r' }] } } },
        },
      },
    });
    const jobs = () => h.store.list({ apiVersion: 'batch/v1', kind: 'Job' });
    await until('first job', () => jobs().length === 1, 3000);
    const first = jobs()[0]!;
    const scheduled = Date.parse(
      first.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp']!,
    );
    expect(first.metadata.name).toBe(`report-${scheduled / 60_000}`);
    await until(
      'skipped under Forbid',
      () => h.eventsFor('report').some((e) => e.reason === 'JobAlreadyActive'),
      3000,
    );
    expect(jobs()).toHaveLength(1);
    const cjRef = { apiVersion: 'batch/v1', kind: 'CronJob', namespace: 'default', name: 'report' };
    expect(h.store.mustGet(cjRef).status.active).toHaveLength(1);
    for (const p of pods(h.store)) markPod(h.store, h.clock, p, 'Succeeded');
    await until('second job', () => jobs().length >= 2, 3000);
    await until('lastSuccessfulTime', () => h.store.mustGet(cjRef).status.lastSuccessfulTime, 3000);
    const manual = triggerCronJob(
      h.store,
      { kind: 'CronJob', namespace: 'default', name: cj.metadata.name },
      h.clock,
    );
    expect(manual.metadata.annotations).toMatchObject({ 'cronjob.kubernetes.io/instantiate': 'manual' });
  });
});

describe('Endpoints', () => {
  it('lists ready and not-ready pods with the named target port resolved', async () => {
    h = startControllers([new EndpointsController()]);
    h.store.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    const mk = (name: string) =>
      h.store.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default', labels: { app: 'web' } },
        spec: { nodeName: 'n1', ...podTemplate({}).spec },
      });
    const a = mk('a');
    const b = mk('b');
    mk('c');
    markPod(h.store, h.clock, a, 'Running');
    markPod(h.store, h.clock, b, 'Running', false);
    const epRef = { kind: 'Endpoints', namespace: 'default', name: 'web' };
    const ep = await until('endpoints', () => {
      const e = h.store.get(epRef);
      return (e?.subsets as unknown[] | undefined)?.length === 1 && e;
    });
    const [subset] = ep.subsets as Array<Record<string, any>>;
    expect(subset!.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(subset!.addresses).toHaveLength(1);
    expect(subset!.addresses[0]).toMatchObject({
      nodeName: 'n1',
      targetRef: { kind: 'Pod', name: 'a', uid: a.metadata.uid },
    });
    expect(subset!.notReadyAddresses.map((x: { targetRef: { name: string } }) => x.targetRef.name)).toEqual([
      'b',
    ]);
    const rv = h.store.mustGet(epRef).metadata.resourceVersion;
    h.store.patch({ kind: 'Pod', namespace: 'default', name: 'c' }, (o) => {
      o.metadata.annotations = { x: 'y' };
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(h.store.mustGet(epRef).metadata.resourceVersion).toBe(rv);
    h.store.delete({ kind: 'Pod', namespace: 'default', name: 'a' });
    await until('a removed', () => {
      const subsets = h.store.get(epRef)?.subsets as Array<{ addresses?: unknown[] }> | undefined;
      return subsets?.[0] !== undefined && subsets[0].addresses === undefined;
    });
  });
});

describe('PodDisruptionBudget', () => {
  it('computes disruptionsAllowed from healthy pods and the controllers scale', async () => {
    h = startControllers(builtinControllers());
    stopKubelet = fakeKubelet(h.store, h.clock, { only: (p) => !p.metadata.name.endsWith('-3') });
    h.store.create({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'default' },
      spec: {
        replicas: 4,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: { app: 'db' } },
        template: podTemplate({ app: 'db' }),
      },
    });
    h.store.create({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'db', namespace: 'default' },
      spec: { maxUnavailable: '25%', selector: { matchLabels: { app: 'db' } } },
    });
    h.store.create({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'db-min', namespace: 'default' },
      spec: { minAvailable: 3, selector: { matchLabels: { app: 'db' } } },
    });
    const ref = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: 'default', name: 'db' };
    const status = await until('status', () => {
      const s = h.store.mustGet(ref).status;
      return s?.currentHealthy === 3 && s;
    });
    expect(status).toMatchObject({ expectedPods: 4, desiredHealthy: 3, disruptionsAllowed: 0 });
    expect(status.conditions[0]).toMatchObject({
      type: 'DisruptionAllowed',
      status: 'False',
      reason: 'InsufficientPods',
    });
    const min = h.store.mustGet({ ...ref, name: 'db-min' }).status;
    expect(min).toMatchObject({
      expectedPods: 4,
      desiredHealthy: 3,
      currentHealthy: 3,
      disruptionsAllowed: 0,
    });
    markPod(
      h.store,
      h.clock,
      h.store.mustGet({ kind: 'Pod', namespace: 'default', name: 'db-3' }),
      'Running',
    );
    await until('allowed', () => h.store.mustGet(ref).status.disruptionsAllowed === 1);
    expect(h.store.mustGet(ref).status.conditions[0]).toMatchObject({
      status: 'True',
      reason: 'SufficientPods',
    });
  });
});
