import type { RunRecord } from '../../../harness/report/run-record.ts';
import { seriesKey } from '../../../harness/report/series.ts';

/** A canary of a bad build, rolled back: 10 control-plane minutes at ×60, sampled every 250 ms real. */
export function sampleRun(): RunRecord {
  const start = Date.parse('2025-01-15T02:00:00.000Z');
  const samples: RunRecord['timeline']['samples'] = [];
  const svc = 'production/api';
  for (let i = 0; i <= 40; i++) {
    const t = i * 15_000;
    const weight = t < 60_000 ? 0 : t < 300_000 ? 0.2 : 0;
    const canaryUp = t >= 30_000 && t < 330_000;
    samples.push({
      t,
      series: {
        [seriesKey('rps', { service: svc, version: '1.0.0' })]: 100 * (1 - weight) + (i % 3),
        [seriesKey('rps', { service: svc, version: '1.1.0' })]: canaryUp ? 100 * weight : null,
        [seriesKey('errorRate', { service: svc, version: '1.0.0' })]: 0.002,
        [seriesKey('errorRate', { service: svc, version: '1.1.0' })]: canaryUp
          ? weight > 0
            ? 0.18
            : 0
          : null,
        [seriesKey('p95', { service: svc, version: '1.0.0' })]: 120 + (i % 4) * 5,
        [seriesKey('p95', { service: svc, version: '1.1.0' })]: canaryUp && weight > 0 ? 480 : null,
        [seriesKey('replicas', { workload: svc, version: '1.0.0' })]: 5,
        [seriesKey('replicas', { workload: svc, version: '1.1.0' })]: canaryUp ? 1 : 0,
      },
    });
  }
  return {
    runId: '20250115-020000-canary-<bad>',
    scenario: 'canary-bad-build',
    environment: 'local',
    system: 'ai-platform',
    timeScale: 60,
    startedAt: new Date(start).toISOString(),
    finishedAt: new Date(start + 14_200).toISOString(),
    status: 'failed',
    steps: [
      {
        name: 'bring up ai-platform',
        status: 'passed',
        startedAt: iso(start, 0),
        finishedAt: iso(start, 2_100),
      },
      {
        name: 'steady state: error rate < 1 %',
        status: 'passed',
        startedAt: iso(start, 2_100),
        finishedAt: iso(start, 3_000),
      },
      {
        name: 'roll out api:1.1.0 & watch the canary',
        status: 'failed',
        startedAt: iso(start, 3_000),
        finishedAt: iso(start, 13_000),
        error:
          'expected Rollout production/api to be Degraded within 5m, but it was Healthy\n    at scenarios/canary.ts:42:7',
      },
      { name: 'restore', status: 'skipped', startedAt: iso(start, 13_000), finishedAt: iso(start, 13_000) },
    ],
    measurements: [
      {
        name: 'time to detect',
        value: 125.4,
        unit: 's',
        assertion: '≤ 120 s',
        passed: false,
        description: 'from weight 20 % to the analysis failing',
      },
      { name: 'requests failed', value: 1043, unit: 'requests', assertion: '≤ 2000', passed: true },
      { name: 'p95 latency (stable)', value: 131.25, unit: 'ms', assertion: '< 300 ms', passed: true },
      { name: 'pods scheduled', value: 6, unit: 'pods' },
    ],
    analysis: [
      {
        t: 60_000,
        analysisRun: 'production/api-7d9f-2-1',
        metric: 'error-rate',
        provider: 'prometheus',
        query:
          '(sum(rate(http_requests_total{namespace="production",service="api-canary",code=~"5.."}[1m])) or vector(0)) / sum(rate(http_requests_total{namespace="production",service="api-canary"}[1m]))',
        condition: 'success: result[0] < 0.05',
        phase: 'Failed',
        value: '[0.1812]',
      },
      {
        t: 60_000,
        analysisRun: 'production/api-7d9f-2-1',
        metric: 'latency-p95',
        provider: 'prometheus',
        query:
          'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="api-canary"}[1m])))',
        condition: 'success: result[0] < 0.5',
        phase: 'Error',
        message: 'expression "result[0] < 0.5": index out of range: 0 (array of length 0)',
      },
    ],
    timeline: {
      samples,
      events: [
        {
          t: 30_000,
          kind: 'ReplicaSetScaled',
          object: 'Rollout production/api',
          message: 'Scaled up canary ReplicaSet api-7d9f to 1',
        },
        { t: 60_000, kind: 'WeightChanged', object: 'Rollout production/api', message: 'weight 0 → 20' },
        {
          t: 90_000,
          kind: 'PodKilled',
          object: 'Pod production/api-5c4-abcde',
          message: 'fault: kill pod <script>alert(1)</script>',
          type: 'Warning',
        },
        {
          t: 300_000,
          kind: 'AnalysisFailed',
          object: 'AnalysisRun production/api-7d9f-1',
          message: 'error-rate 0.18 > 0.01 (3 of 3)',
          type: 'Warning',
        },
        {
          t: 302_000,
          kind: 'RolloutAborted',
          object: 'Rollout production/api',
          message: 'Rollout aborted; weight 20 → 0',
          type: 'Warning',
        },
        {
          t: 330_000,
          kind: 'ReplicaSetScaled',
          object: 'Rollout production/api',
          message: 'Scaled down canary ReplicaSet api-7d9f to 0',
        },
      ],
    },
    notes: [
      'control-plane time scale ×60: a 10-minute pause took 10 s',
      'load: 100 requests/s constant, embedded engine',
    ],
  };
}

function iso(start: number, offset: number): string {
  return new Date(start + offset).toISOString();
}
