import { describe, expect, it } from 'vitest';
import {
  compare,
  evaluateThreshold,
  parseThresholdExpression,
  parseThresholdKey,
  ThresholdSyntaxError,
} from '../../load/thresholds.ts';

describe('k6 threshold syntax', () => {
  it('parses the documented examples', () => {
    expect(parseThresholdExpression('http_req_duration', 'p(95)<200')).toMatchObject({
      aggregation: 'p(95)',
      percentile: 95,
      operator: '<',
      value: 200,
    });
    expect(parseThresholdExpression('http_req_duration', 'p(99.9) <= 1500')).toMatchObject({
      percentile: 99.9,
      operator: '<=',
      value: 1500,
    });
    expect(parseThresholdExpression('http_req_failed', 'rate<0.01')).toMatchObject({
      aggregation: 'rate',
      value: 0.01,
    });
    expect(parseThresholdExpression('http_reqs', 'count>100')).toMatchObject({
      aggregation: 'count',
      operator: '>',
    });
    expect(parseThresholdExpression('http_reqs', 'rate>=50')).toMatchObject({ aggregation: 'rate' });
    expect(parseThresholdExpression('vus', 'value==10')).toMatchObject({
      aggregation: 'value',
      operator: '==',
    });
    for (const agg of ['avg', 'min', 'max', 'med']) {
      expect(parseThresholdExpression('http_req_duration', `${agg}<300`).aggregation).toBe(agg);
    }
    expect(parseThresholdExpression('iterations', 'count === 5').operator).toBe('===');
    expect(parseThresholdExpression('dropped_iterations', 'count!=0').operator).toBe('!=');
  });

  it('parses sub-metric keys with tag filters', () => {
    expect(parseThresholdKey('http_req_duration{name:predict}')).toEqual({
      metric: 'http_req_duration',
      type: 'trend',
      tags: { name: 'predict' },
    });
    expect(parseThresholdKey('http_req_duration{status:200, method:GET}').tags).toEqual({
      status: '200',
      method: 'GET',
    });
    expect(parseThresholdKey('http_req_duration{expected_response:true}').tags).toEqual({
      expected_response: 'true',
    });
  });

  it('rejects bad expressions with a message naming the metric and what is wrong', () => {
    const bad: Array<[string, string, RegExp]> = [
      [
        'http_req_duration',
        'p95<300',
        /"p95<300" on http_req_duration is not "<aggregation> <operator> <number>"/,
      ],
      ['http_req_duration', 'p(95)<', /is not "<aggregation>/],
      ['http_req_duration', 'p(95)=>300', /is not/],
      [
        'http_req_duration',
        'rate<0.01',
        /aggregation rate does not apply to http_req_duration, a trend metric \(use avg, min, max, med, p\(N\)\)/,
      ],
      ['http_req_failed', 'p(95)<1', /does not apply to http_req_failed, a rate metric \(use rate\)/],
      ['http_reqs', 'avg<1', /a counter metric \(use count, rate\)/],
      ['vus', 'count<1', /a gauge metric \(use value\)/],
      ['http_req_duration', 'p(101)<1', /percentile 101 is not between 0 and 100/],
      ['http_req_duration', 'p(95)<3s', /is not/],
    ];
    for (const [key, expr, message] of bad) {
      expect(() => parseThresholdExpression(key, expr), `${key}: ${expr}`).toThrow(message);
    }
    expect(() => parseThresholdKey('http_req_duraton')).toThrow(/no metric named "http_req_duraton"/);
    expect(() => parseThresholdKey('http_req_duration{name}')).toThrow(ThresholdSyntaxError);
    expect(() => parseThresholdKey('http_req_duration{name}')).toThrow(/"name" is not tag:value/);
  });

  it('evaluates as k6 does: the expression must hold for the threshold to pass', () => {
    const values: Record<string, number> = { 'p(95)': 250, avg: 120, rate: 0.02, count: 100 };
    const read = (agg: string) => values[agg]!;
    expect(evaluateThreshold(parseThresholdExpression('http_req_duration', 'p(95)<300'), read)).toEqual({
      ok: true,
      actual: 250,
    });
    expect(evaluateThreshold(parseThresholdExpression('http_req_duration', 'p(95)<250'), read).ok).toBe(
      false,
    );
    expect(evaluateThreshold(parseThresholdExpression('http_req_duration', 'p(95)<=250'), read).ok).toBe(
      true,
    );
    expect(evaluateThreshold(parseThresholdExpression('http_req_failed', 'rate<0.01'), read)).toEqual({
      ok: false,
      actual: 0.02,
    });
    expect(evaluateThreshold(parseThresholdExpression('http_reqs', 'count>=100'), read).ok).toBe(true);
    expect(compare(1, '==', 1)).toBe(true);
    expect(compare(1, '===', 2)).toBe(false);
    expect(compare(1, '!=', 2)).toBe(true);
    expect(compare(2, '>', 2)).toBe(false);
  });
});
