import { expect, it } from 'vitest';
import type { Environment } from '../env/environment.ts';
import {
  describeFailures,
  judgeGate,
  type LoadResult,
  runProfilesOn,
  scenario,
  waitUntil,
} from '../harness/index.ts';
import { type LoadProfile, validateProfile } from '../load/profile.ts';
import { loadProfile } from '../load/profiles/index.ts';
import { API } from './support/ai-platform.ts';
import { isReady } from './support/cluster-state.ts';

const API_CONFIG = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'production', name: 'api-config' };

/**
 * The performance gate's verdict on the running AI platform (docs/load-and-gate.md): the steady
 * profile's thresholds (99.95 % availability, p95 < 500 ms) hold on the healthy system, and when the
 * api is configured to add 600 ms to every request (FAULT_LATENCY_MS in its ConfigMap, pods
 * restarted to pick it up) the gate fails naming the latency threshold. The profile is the seed's
 * steady profile, shortened to 6 s at 30 req/s to keep the suite quick.
 */
scenario(
  'perf-gate',
  {
    system: 'ai-platform',
    timeline: {
      services: [{ namespace: 'production', name: 'api' }],
      workloads: [{ namespace: 'production', name: 'api', selector: API }],
    },
  },
  (s) => {
    const steady = loadProfile('steady');
    const profile: LoadProfile = validateProfile({
      ...steady,
      name: 'steady-short',
      scenario: { ...steady.scenario, rate: 30, duration: '6s', preAllocatedVUs: 40, maxVUs: 200 },
      // dropped_iterations is sized for the full profile; the availability and latency budgets stay.
      thresholds: Object.fromEntries(
        Object.entries(steady.thresholds).filter(([k]) => k !== 'dropped_iterations'),
      ),
    });
    const runGateProfile = async (): Promise<LoadResult> => {
      const [[result]] = (await runProfilesOn(s.env, {
        profiles: [profile],
        runs: 1,
        runner: 'embedded',
        reportDir: s.reportDir,
        progress: (m) => s.progress(m),
      })) as [[LoadResult]];
      return result;
    };

    it('passes the steady profile on the healthy system', async () => {
      // Freshly started processes compile their code on the first requests: a short unjudged warm-up.
      await s.step('warm up the api (3 s at 20 req/s, not judged)', () =>
        runProfilesOn(s.env, {
          profiles: [
            validateProfile({
              ...profile,
              name: 'warm-up',
              scenario: { ...profile.scenario, rate: 20, duration: '3s' },
              thresholds: {},
            }),
          ],
          runs: 1,
          runner: 'embedded',
          reportDir: s.reportDir,
          progress: () => {},
        }),
      );
      const result = await s.step('run the steady profile (30 req/s, 6 s)', runGateProfile);
      const verdict = judgeGate([result], undefined);
      s.measure('requests sent', result.metrics['http_reqs']!.values['count']!, 'requests', { atLeast: 170 });
      s.measure('http_req_failed', result.metrics['http_req_failed']!.values['rate']! * 100, '%', {
        below: 0.05,
        description: '99.95 % availability',
      });
      s.measure('http_req_duration p(95)', result.metrics['http_req_duration']!.values['p(95)']!, 'ms', {
        below: 500,
        description: 'latency budget of the canary analysis',
      });
      expect(describeFailures(verdict)).toEqual([]);
    });

    it('fails, naming the latency threshold, when the api is configured to add 600 ms', async () => {
      await s.step('configure the api: FAULT_LATENCY_MS=600, restart its pods', () =>
        addApiLatency(s.env, 600),
      );
      s.event('Fault', 'api configured with FAULT_LATENCY_MS=600 (pods restarted)');
      const result = await s.step('run the steady profile again', runGateProfile);
      const verdict = judgeGate([result], undefined);
      const p95 = s.measure(
        'http_req_duration p(95) with the slow api',
        result.metrics['http_req_duration']!.values['p(95)']!,
        'ms',
        {
          atLeast: 600,
          description: 'the injected latency shows from the client side',
        },
      );
      expect(p95).toBeGreaterThanOrEqual(600);
      expect(verdict.passed).toBe(false);
      expect(describeFailures(verdict)).toContainEqual(
        expect.stringMatching(
          /^steady-short: threshold http_req_duration: 'p\(95\)<500' failed \(actual \d+/,
        ),
      );
    });
  },
);

/** Sets FAULT_LATENCY_MS in api-config and replaces the api pods so that they read it (envFrom is read at start). */
async function addApiLatency(env: Environment, ms: number): Promise<void> {
  await env.kube.patch(API_CONFIG, (cm) => {
    cm['data'] = { ...(cm['data'] as Record<string, string> | undefined), FAULT_LATENCY_MS: String(ms) };
  });
  const old = await env.kube.list(
    { kind: 'Pod' },
    { namespace: 'production', labelSelector: { matchLabels: API } },
  );
  const oldNames = new Set(old.map((p) => p.metadata.name));
  for (const pod of old)
    await env.kube.delete({ kind: 'Pod', namespace: 'production', name: pod.metadata.name });
  await waitUntil(
    async (progress) => {
      const pods = await env.kube.list(
        { kind: 'Pod' },
        { namespace: 'production', labelSelector: { matchLabels: API } },
      );
      const fresh = pods.filter((p) => !oldNames.has(p.metadata.name) && isReady(p));
      progress.status(`${fresh.length}/${old.length} Ready`);
      return fresh.length >= old.length && pods.every((p) => !oldNames.has(p.metadata.name));
    },
    { what: 'the api pods to be replaced and Ready', timeout: 60_000, interval: 200 },
  );
}
