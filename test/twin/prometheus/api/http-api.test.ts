import { describe, expect, it } from 'vitest';
import { formatTimestamp, handleApi } from '../../../../twin/prometheus/api/http-api.ts';
import { formatGoFloat } from '../../../../twin/prometheus/go-float.ts';
import { labelsFrom } from '../../../../twin/prometheus/labels.ts';
import { DEFAULT_ENGINE_OPTIONS, Engine } from '../../../../twin/prometheus/promql/engine.ts';
import { Head } from '../../../../twin/prometheus/tsdb/head.ts';

function api() {
  const head = new Head();
  for (const [code, v] of [
    ['200', 10],
    ['500', 1],
  ] as const) {
    const { series } = head.getOrCreate(labelsFrom({ __name__: 'req_total', code, service: 'api-canary' }));
    for (let t = 0; t <= 60; t += 15) head.append(series, t * 1000, t * v);
  }
  const engine = new Engine(head, DEFAULT_ENGINE_OPTIONS);
  return (path: string, params: Record<string, string | string[]>) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) p.append(k, x);
    const r = handleApi('GET', path, p, {
      engine,
      now: () => 60_000,
      select: (sel) => (sel ? head.select(sel.matchers) : head.all()),
      activeTargets: () => [],
      droppedTargets: () => [],
      jobNames: () => [],
      externalHost: 'prometheus',
    });
    return { status: r.status, body: r.contentType === 'application/json' ? JSON.parse(r.body) : r.body };
  };
}

describe('HTTP API v1', () => {
  it('writes values and times as Prometheus does', () => {
    expect(formatTimestamp(1435781451781)).toBe('1435781451.781');
    expect(formatTimestamp(1435781451500)).toBe('1435781451.500');
    expect(formatTimestamp(1435781451000)).toBe('1435781451');
    expect(formatGoFloat(1e21)).toBe('1000000000000000000000');
    expect(formatGoFloat(1.5e-7)).toBe('0.00000015');
    expect(formatGoFloat(Number.POSITIVE_INFINITY)).toBe('+Inf');
    expect(formatGoFloat(Number.NaN)).toBe('NaN');
  });

  it('answers instant and range queries in Prometheus JSON', () => {
    const get = api();
    expect(get('/api/v1/query', { query: 'sum(rate(req_total[1m]))' }).body).toEqual({
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: {}, value: [60, '11'] }] },
    });
    expect(get('/api/v1/query', { query: '1 + 1', time: '30.5' }).body.data).toEqual({
      resultType: 'scalar',
      result: [30.5, '2'],
    });
    expect(
      get('/api/v1/query_range', { query: 'req_total{code="500"}', start: '0', end: '30', step: '15s' }).body
        .data,
    ).toEqual({
      resultType: 'matrix',
      result: [
        {
          metric: { __name__: 'req_total', code: '500', service: 'api-canary' },
          values: [
            [0, '0'],
            [15, '15'],
            [30, '30'],
          ],
        },
      ],
    });
  });

  it('returns errors with Prometheus error types and status codes', () => {
    const get = api();
    expect(get('/api/v1/query', { query: 'rate(req_total)' })).toEqual({
      status: 400,
      body: {
        status: 'error',
        errorType: 'bad_data',
        error:
          'invalid parameter "query": 1:6: parse error: expected type range vector in call to function "rate", got instant vector',
      },
    });
    expect(get('/api/v1/query', { query: 'req_total + on() req_total' }).status).toBe(422);
    expect(get('/api/v1/query', { query: 'up', time: 'now' }).body.error).toBe(
      'invalid parameter "time": Invalid time value for \'time\': cannot parse "now" to a valid timestamp',
    );
    expect(get('/api/v1/label/a-b/values', {}).body.error).toBe('invalid label name: "a-b"');
    expect(get('/api/v1/nope', {}).status).toBe(404);
  });

  it('lists series, labels and values', () => {
    const get = api();
    expect(get('/api/v1/series', { 'match[]': 'req_total{code="500"}' }).body.data).toEqual([
      { __name__: 'req_total', code: '500', service: 'api-canary' },
    ]);
    expect(get('/api/v1/labels', {}).body.data).toEqual(['__name__', 'code', 'service']);
    expect(get('/api/v1/label/code/values', {}).body.data).toEqual(['200', '500']);
  });
});
