import { expect, it } from 'vitest';
import type { Environment, KubeObject } from '../env/environment.ts';
import { SteadyTraffic, scenario } from '../harness/index.ts';
import { steadyCanaryTraffic } from '../load/steady-canary-traffic.ts';
import { INGRESS } from './support/ai-platform.ts';
import { pct, sleep } from './support/cluster-state.ts';

const ROLLOUT = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', namespace: 'production', name: 'api' };
const ANALYSIS_RUN = { apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisRun' };
const API_IMAGE = 'ghcr.io/ai-platform/api';

/**
 * The AI platform's canary (seed 001): 10 % → analysis over 10 minutes on error rate and latency →
 * 50 % → 100 %, automatic rollback on errors. A good build must go all the way with the error
 * budget held; a faulty one must be aborted in the first analysis with its failed requests bounded.
 * The analysis is the production AnalysisTemplate, answered by the system's own Prometheus from the
 * canary pods' /metrics: the good build passes on measured values and the faulty one fails on them.
 */
scenario(
  'canary-rollout',
  {
    system: 'ai-platform',
    // The analysis is rate(…[1m]) over what Prometheus scraped from the canary's pods. At ×10 a
    // control-plane minute is 6 s of the steady traffic (about 24 requests to the 10 % canary), so
    // one measurement of the faulty build's 20 % errors is a statistic; at ×100 it would be 0.6 s
    // (a handful of requests, often none of them failed) and a live pod's start would take minutes.
    timeScale: 10,
    timeline: {
      services: [
        { namespace: 'production', name: 'api-stable' },
        { namespace: 'production', name: 'api-canary' },
      ],
      workloads: [{ namespace: 'production', name: 'api', selector: { 'app.kubernetes.io/name': 'api' } }],
    },
  },
  (s) => {
    let traffic: SteadyTraffic;

    it('serves steady traffic through the Ingress within the error budget before any rollout', async () => {
      const url = await s.step('find the Ingress address', () => s.env.net.ingressUrl(INGRESS));
      traffic = s.traffic({ url, ...steadyCanaryTraffic });
      // The first requests after bring-up meet cold processes (JIT, first connections to inference):
      // the steady state is measured after them.
      await s.step('warm-up: 1 s of traffic, not counted', () => sleep(1000));
      const before = traffic.snapshot();
      await s.step('steady state: 1.5 s of traffic on the stable version', () => sleep(1500));
      const window = SteadyTraffic.between(before, traffic.snapshot());
      s.measure('steady-state requests', window.requests, 'requests', { atLeast: steadyCanaryTraffic.rate });
      s.measure('steady-state error rate', pct(window.errors, window.requests), '%', { below: 1 });
      expect(Object.keys(window.byVersion)).toEqual(['1.0.0']);
    });

    it('promotes a good v2 through every canary step to 100 % with the error budget held', async () => {
      const env = s.env;
      const weights = recordCanaryWeights(env);
      const before = traffic.snapshot();
      const t0 = env.clock.now();
      const previousStable = (await env.kube.get(ROLLOUT))?.status?.stableRS;
      await s.step('roll out api 2.0.0', () => setApiImage(env, '2.0.0'));
      const done = await s.step('wait for the canary to reach 100 % and become stable', () =>
        env.kube.waitFor(ROLLOUT, (r) => isPromoted(r, previousStable), {
          timeout: realMs(env, 30 * 60_000) + 60_000,
          what: 'Rollout production/api to promote 2.0.0',
        }),
      );
      const after = traffic.snapshot();
      const window = SteadyTraffic.between(before, after);
      weights.stop();
      s.measure('canary duration (control-plane)', (env.clock.now() - t0) / 60_000, 'min', {
        atLeast: 10,
        description: 'the 10-minute analysis and the 50 % pause ran in full',
      });
      s.measure('canary weights observed', weights.values.length, 'steps', { atLeast: 3 });
      expect(weights.values).toEqual(expect.arrayContaining([10, 50, 100]));
      expect(weights.values.indexOf(10)).toBeLessThan(weights.values.indexOf(50));
      s.measure('requests during the canary', window.requests, 'requests', { atLeast: 100 });
      s.measure(
        'requests answered by 2.0.0 during the canary',
        window.byVersion['2.0.0']?.requests ?? 0,
        'requests',
        { atLeast: 1 },
      );
      s.measure('error rate during the canary', pct(window.errors, window.requests), '%', { below: 1 });
      expect(done?.status?.phase).toBe('Healthy');
      const analysis = await s.step('read the canary analysis of 2.0.0', () =>
        analysisRunOf(env, done?.status?.stableRS),
      );
      expect(analysis?.status?.phase, analysisSummary(analysis)).toBe('Successful');
      for (const metric of ['error-rate', 'latency-p95']) {
        const measured = measuredValues(analysis, metric);
        s.measure(`${metric}: measurements answered by Prometheus`, measured.length, 'measurements', {
          atLeast: 5,
          description: 'successful measurements with a value from the PromQL query (of 10 per metric)',
        });
      }
      await sleep(300);
      const settled = traffic.snapshot();
      await sleep(1000);
      const tail = SteadyTraffic.between(settled, traffic.snapshot());
      s.measure(
        'share of requests answered by 2.0.0 after promotion',
        pct(tail.byVersion['2.0.0']?.requests ?? 0, tail.requests),
        '%',
        { equals: 100 },
      );
    });

    it('aborts a faulty v2 (20 % errors) in the first analysis and returns all traffic to the stable version', async () => {
      const env = s.env;
      const weights = recordCanaryWeights(env);
      const before = traffic.snapshot();
      const t0 = env.clock.now();
      await s.step('roll out the faulty api 2.1.0 (FAULT_ERROR_RATE=0.2)', () =>
        setApiImage(env, '2.1.0', '0.2'),
      );
      const aborted = await s.step('wait for the analysis to fail and the rollout to abort', () =>
        env.kube.waitFor(ROLLOUT, (r) => r?.status?.abort === true && r.status?.phase === 'Degraded', {
          timeout: realMs(env, 15 * 60_000) + 30_000,
          what: 'Rollout production/api to abort 2.1.0',
        }),
      );
      const atAbort = traffic.snapshot();
      const canary = SteadyTraffic.between(before, atAbort);
      // The abort must come from the metrics Prometheus measured, not from queries that errored.
      const analysis = await s.step('read the canary analysis of 2.1.0', () =>
        analysisRunOf(env, aborted?.status?.currentPodHash),
      );
      expect(analysis?.status?.phase, analysisSummary(analysis)).toBe('Failed');
      expect(analysis?.status?.message).toBe(
        'Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)',
      );
      expect(aborted?.status?.message).toContain('Metric "error-rate" assessed Failed');
      const failedRates = measuredValues(analysis, 'error-rate', 'Failed');
      s.measure('error-rate measurements failed on their value', failedRates.length, 'measurements', {
        atLeast: 2,
        description: 'failureLimit 1: two measurements whose PromQL result broke result[0] < 0.05',
      });
      s.measure('lowest failed error-rate measurement', Math.min(...failedRates), 'ratio', {
        atLeast: 0.05,
      });
      const abortMinutes = (env.clock.now() - t0) / 60_000;
      s.measure('time to abort (control-plane)', abortMinutes, 'min', {
        below: 10,
        description: 'aborted within the first 10-minute analysis',
      });
      weights.stop();
      s.measure('highest canary weight of the faulty build', Math.max(0, ...weights.values), '%', {
        equals: 10,
        description: 'aborted during the analysis at 10 %: never promoted to 50 %',
      });
      s.measure('canary weight after abort', aborted?.status?.canary?.weights?.canary?.weight ?? 0, '%', {
        equals: 0,
      });
      const faulty = canary.byVersion['2.1.0'] ?? { requests: 0, errors: 0 };
      s.measure('requests answered by the faulty 2.1.0', faulty.requests, 'requests', { atLeast: 1 });
      s.measure('failed requests during the canary', canary.errors, 'requests', {
        atMost: Math.ceil(canary.requests * 0.1 * 0.2 * 2) + 5,
        description: 'bounded by the canary share (10 %) × its error rate (20 %), with a 2× allowance',
      });
      s.measure('error rate during the canary', pct(canary.errors, canary.requests), '%', { below: 5 });
      await sleep(300); // requests already in flight at the abort may still be answered by 2.1.0
      const settledAt = traffic.snapshot();
      await sleep(1000);
      const tail = SteadyTraffic.between(settledAt, traffic.snapshot());
      s.measure('error rate after the abort', pct(tail.errors, tail.requests), '%', { below: 1 });
      s.measure(
        'requests answered by 2.1.0 after the abort',
        tail.byVersion['2.1.0']?.requests ?? 0,
        'requests',
        { equals: 0 },
      );
    });
  },
);

async function setApiImage(env: Environment, version: string, faultErrorRate = '0'): Promise<void> {
  await env.kube.patch(ROLLOUT, (r) => {
    const tmpl = r.spec.template;
    tmpl.metadata.labels['app.kubernetes.io/version'] = version;
    const c = tmpl.spec.containers.find((x: any) => x.name === 'api');
    c.image = `${API_IMAGE}:${version}`;
    c.env = [
      ...(c.env ?? []).filter((e: any) => e.name !== 'FAULT_ERROR_RATE'),
      { name: 'FAULT_ERROR_RATE', value: faultErrorRate },
    ];
  });
}

/** The step analysis the Rollout ran for the ReplicaSet of `podHash` (rollouts-pod-template-hash). */
async function analysisRunOf(env: Environment, podHash: string | undefined): Promise<KubeObject | undefined> {
  if (!podHash) return undefined;
  const runs = await env.kube.list(ANALYSIS_RUN, {
    namespace: ROLLOUT.namespace,
    labelSelector: { matchLabels: { 'rollouts-pod-template-hash': podHash, 'rollout-type': 'Step' } },
  });
  return runs.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).at(-1);
}

/**
 * The first value of each measurement of `metric` in `phase` whose result came from Prometheus
 * (Argo records a vector result as "[0.012]"; errored measurements have no value).
 */
function measuredValues(run: KubeObject | undefined, metric: string, phase = 'Successful'): number[] {
  const result = (run?.status?.metricResults ?? []).find((r: any) => r.name === metric);
  return (result?.measurements ?? [])
    .filter((m: any) => m.phase === phase && typeof m.value === 'string')
    .map((m: any) => Number(/^\[([^,\]]+)/.exec(m.value)?.[1]))
    .filter((v: number) => !Number.isNaN(v));
}

function analysisSummary(run: KubeObject | undefined): string {
  if (!run) return 'no AnalysisRun found';
  const metrics = (run.status?.metricResults ?? []).map(
    (r: any) =>
      `${r.name}: ${(r.measurements ?? []).map((m: any) => `${m.phase} ${m.value ?? m.message ?? ''}`).join(', ')}`,
  );
  return `AnalysisRun ${run.metadata.name} ${run.status?.phase}: ${run.status?.message ?? ''}; ${metrics.join('; ')}`;
}

/** Healthy on a new stable ReplicaSet: the update went through every step (a stale status right after the patch does not count). */
function isPromoted(r: KubeObject | undefined, previousStable: string | undefined): boolean {
  const st = r?.status;
  return st?.phase === 'Healthy' && st.stableRS !== previousStable && st.stableRS === st.currentPodHash;
}

/** The canary weights the Rollout went through, from its status as it changed. */
function recordCanaryWeights(env: Environment): { values: number[]; stop(): void } {
  const values: number[] = [];
  const stop = env.kube.watch(
    { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', namespace: 'production' },
    (e) => {
      const w = e.object.status?.canary?.weights?.canary?.weight;
      if (typeof w === 'number' && w > 0 && values.at(-1) !== w) values.push(w);
    },
  );
  return { values, stop };
}

function realMs(env: Environment, virtualMs: number): number {
  return env.clock.toReal(virtualMs);
}
