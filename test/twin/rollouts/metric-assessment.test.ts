import { describe, expect, it } from 'vitest';
import { substituteArgs } from '../../../twin/rollouts/analysis-args.ts';
import {
  assessMetric,
  assessRun,
  emptyMetricResult,
  evaluateMeasurement,
  recordMeasurement,
} from '../../../twin/rollouts/metric-assessment.ts';
import type { Metric } from '../../../twin/rollouts/types.ts';

const metric: Metric = {
  name: 'error-rate',
  interval: '10s',
  count: 5,
  failureLimit: 1,
  successCondition: 'result < 0.05',
  provider: { web: { url: 'http://x/{{args.service}}' } },
};

const at = '2024-01-01T00:00:00.000Z';

describe('metric assessment (analysis/analysis.go)', () => {
  it('evaluates measurements by success and failure conditions', () => {
    expect(evaluateMeasurement(metric, 0.01).phase).toBe('Successful');
    expect(evaluateMeasurement(metric, 0.2).phase).toBe('Failed');
    const both = { ...metric, failureCondition: 'result > 0.1' };
    expect(evaluateMeasurement(both, 0.07).phase).toBe('Inconclusive');
    expect(
      evaluateMeasurement({ ...metric, successCondition: undefined, failureCondition: 'result > 0.1' }, 0.07)
        .phase,
    ).toBe('Successful');
    const err = evaluateMeasurement({ ...metric, successCondition: 'result <' }, 0.1);
    expect(err.phase).toBe('Error');
    expect(err.message).toContain('expression "result <"');
  });

  it("fails a metric when failed measurements exceed failureLimit, with Argo's message", () => {
    const result = emptyMetricResult('error-rate');
    recordMeasurement(result, { phase: 'Failed', value: '0.2', startedAt: at, finishedAt: at });
    expect(assessMetric(metric, result, false)).toBe('Running');
    recordMeasurement(result, { phase: 'Failed', value: '0.2', startedAt: at, finishedAt: at });
    result.phase = assessMetric(metric, result, false);
    expect(result.phase).toBe('Failed');
    expect(assessRun([metric], [result], false)).toEqual({
      phase: 'Failed',
      message: 'Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)',
    });
  });

  it('errors after more than consecutiveErrorLimit (4) errors in a row', () => {
    const result = emptyMetricResult('error-rate');
    for (let i = 0; i < 5; i++)
      recordMeasurement(result, { phase: 'Error', startedAt: at, finishedAt: at, message: 'boom' });
    expect(result.consecutiveError).toBe(5);
    expect(result.count).toBe(0);
    result.phase = assessMetric(metric, result, false);
    expect(result.phase).toBe('Error');
    expect(assessRun([metric], [result], false).message).toBe(
      'Metric "error-rate" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): "Error Message: boom"',
    );
  });

  it('succeeds when count is reached within the limits, and on terminate', () => {
    const result = emptyMetricResult('error-rate');
    recordMeasurement(result, { phase: 'Failed', startedAt: at, finishedAt: at });
    for (let i = 0; i < 4; i++)
      recordMeasurement(result, { phase: 'Successful', startedAt: at, finishedAt: at });
    expect(assessMetric(metric, result, false)).toBe('Successful');
    const open = { ...metric, count: undefined };
    const one = emptyMetricResult('error-rate');
    recordMeasurement(one, { phase: 'Successful', startedAt: at, finishedAt: at });
    expect(assessMetric(open, one, false)).toBe('Running');
    expect(assessMetric(open, one, true)).toBe('Successful');
  });

  it('substitutes args and names a missing one', () => {
    expect(substituteArgs(metric, [{ name: 'service', value: 'prod/api' }]).provider['web'].url).toBe(
      'http://x/prod/api',
    );
    expect(() => substituteArgs(metric, [{ name: 'service' }])).toThrow('args.service was not resolved');
  });
});
