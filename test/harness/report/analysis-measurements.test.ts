import { describe, expect, it } from 'vitest';
import {
  analysisMeasurementsOf,
  mergeAnalysisMeasurements,
} from '../../../harness/report/analysis-measurements.ts';
import type { AnalysisMeasurement } from '../../../harness/report/run-record.ts';

const since = Date.parse('2026-01-01T00:00:00Z');
const run = (measurements: unknown[]) => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'AnalysisRun',
  metadata: { name: 'api-7d9f-2-1', namespace: 'production' },
  spec: {
    args: [{ name: 's', value: 'api-canary' }],
    metrics: [
      {
        name: 'error-rate',
        successCondition: 'result[0] < 0.05',
        provider: {
          prometheus: {
            address: 'http://prometheus.system.svc.cluster.local:9090',
            query: 'x{service="{{args.s}}"}',
          },
        },
      },
      {
        name: 'web',
        successCondition: 'result < 500',
        provider: { web: { url: 'http://m/api?service={{args.s}}', jsonPath: '{$.p95}' } },
      },
    ],
  },
  status: {
    metricResults: [
      {
        name: 'error-rate',
        metadata: { ResolvedPrometheusQuery: 'x{service="api-canary"}\n' },
        measurements,
      },
      {
        name: 'web',
        measurements: [{ phase: 'Successful', value: '41', startedAt: '2026-01-01T00:02:00Z' }],
      },
    ],
  },
});

describe('analysis measurements for the report', () => {
  it('takes the resolved PromQL and each value from the AnalysisRun', () => {
    const rows = analysisMeasurementsOf(
      run([{ phase: 'Successful', value: '[0.01]', startedAt: '2026-01-01T00:01:00Z' }]) as any,
      since,
    );
    expect(rows).toEqual([
      {
        t: 60_000,
        analysisRun: 'production/api-7d9f-2-1',
        metric: 'error-rate',
        provider: 'prometheus',
        query: 'x{service="api-canary"}',
        condition: 'success: result[0] < 0.05',
        phase: 'Successful',
        value: '[0.01]',
      },
      {
        t: 120_000,
        analysisRun: 'production/api-7d9f-2-1',
        metric: 'web',
        provider: 'web',
        query: 'http://m/api?service=api-canary {$.p95}',
        condition: 'success: result < 500',
        phase: 'Successful',
        value: '41',
      },
    ]);
  });

  it('keeps every measurement once, past the 10 Argo keeps', () => {
    const all: AnalysisMeasurement[] = [];
    const m = (minute: number) => ({
      phase: 'Successful',
      value: '[0]',
      startedAt: new Date(since + minute * 60_000).toISOString(),
    });
    mergeAnalysisMeasurements(all, analysisMeasurementsOf(run([m(0), m(1)]) as any, since));
    mergeAnalysisMeasurements(all, analysisMeasurementsOf(run([m(1), m(2)]) as any, since));
    expect(all.filter((r) => r.metric === 'error-rate').map((r) => r.t)).toEqual([0, 60_000, 120_000]);
  });
});
