import { describe, expect, it } from 'vitest';
import { parsePromQL } from '../../../../twin/prometheus/promql/parser.ts';

const error = (q: string) => {
  try {
    parsePromQL(q);
  } catch (err) {
    return (err as Error).message;
  }
  return 'parsed';
};

describe('PromQL parser', () => {
  it('builds the AST of the canary analysis queries', () => {
    const e = parsePromQL(
      'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="production",service="api-canary"}[1m])))',
    );
    expect(e.type).toBe('Call');
    if (e.type !== 'Call') return;
    expect(e.func.name).toBe('histogram_quantile');
    const agg = e.args[1]!;
    expect(agg).toMatchObject({ type: 'AggregateExpr', op: 'sum', grouping: ['le'], without: false });
    const ratio = parsePromQL(
      '(sum(rate(http_requests_total{code=~"5.."}[1m])) or vector(0)) / sum(rate(http_requests_total[1m]))',
    );
    expect(ratio).toMatchObject({ type: 'BinaryExpr', op: '/' });
  });

  it('reads offsets, @ and subqueries onto the selector they modify', () => {
    expect(parsePromQL('x offset -5m')).toMatchObject({ type: 'VectorSelector', offsetMs: -300_000 });
    expect(parsePromQL('x[1m] @ 100.5 offset 1h')).toMatchObject({
      type: 'MatrixSelector',
      rangeMs: 60_000,
      vs: { at: 100_500, offsetMs: 3_600_000 },
    });
    expect(parsePromQL('rate(x[1m])[1h:5m] @ end()')).toMatchObject({
      type: 'SubqueryExpr',
      rangeMs: 3_600_000,
      stepMs: 300_000,
      at: 'end',
    });
    expect(parsePromQL('x[1d2h]')).toMatchObject({ rangeMs: 26 * 3_600_000 });
  });

  it('binds unary minus below ^ as Prometheus does', () => {
    expect(parsePromQL('-2 ^ 2')).toMatchObject({
      type: 'UnaryExpr',
      op: '-',
      expr: { type: 'BinaryExpr', op: '^' },
    });
    expect(parsePromQL('-2 * 3')).toMatchObject({
      type: 'BinaryExpr',
      lhs: { type: 'NumberLiteral', value: -2 },
    });
  });

  it('knows v2.54 functions only, holt_winters included', () => {
    expect(parsePromQL('holt_winters(x[5m], 0.5, 0.5)')).toMatchObject({
      type: 'Call',
      func: { name: 'holt_winters' },
    });
    expect(error('double_exponential_smoothing(x[5m], 0.5, 0.5)')).toBe(
      '1:1: parse error: unknown function with name "double_exponential_smoothing"',
    );
    expect(error('mad_over_time(x[5m])')).toBe('1:1: parse error: function "mad_over_time" is not enabled');
    expect(parsePromQL('mad_over_time(x[5m])', { experimentalFunctions: true })).toMatchObject({
      type: 'Call',
    });
  });

  it('reports the errors Prometheus reports, at its positions', () => {
    expect(error('rate(x)')).toBe(
      '1:6: parse error: expected type range vector in call to function "rate", got instant vector',
    );
    expect(error('sum(x[5m])')).toBe(
      '1:5: parse error: expected type instant vector in aggregation expression, got range vector',
    );
    expect(error('1 > 2')).toBe('1:3: parse error: comparisons between scalars must use BOOL modifier');
    expect(error('x and 1')).toBe(
      '1:1: parse error: set operator "and" not allowed in binary scalar expression',
    );
    expect(error('foo(x)')).toBe('1:1: parse error: unknown function with name "foo"');
    expect(error('{a=""}')).toBe(
      '1:1: parse error: vector selector must contain at least one non-empty matcher',
    );
    expect(error('x{__name__="y"}')).toBe('1:1: parse error: metric name must not be set twice: "x" or "y"');
    expect(error('x offset 5m [1m]')).toBe('1:1: parse error: no offset modifiers allowed before range');
    expect(error('(x + y)[5m]')).toBe('1:1: parse error: ranges only allowed for vector selectors');
    expect(error('x offset 1m offset 2m')).toBe('1:1: parse error: offset may not be set multiple times');
    expect(error('round(x, 1, 2)')).toBe(
      '1:1: parse error: expected at most 2 argument(s) in call to "round", got 3',
    );
    expect(error('x + on(a) group_left(a) y')).toBe(
      '1:3: parse error: label "a" must not occur in ON and GROUP clause at once',
    );
    expect(error('x and on(a) group_left y')).toBe(
      '1:1: parse error: no grouping allowed for "and" operation',
    );
    expect(error('x > bool')).toMatch(/^1:\d+: parse error: unexpected/);
    expect(error('')).toBe('1:1: parse error: no expression found in input');
    expect(error('x[5]')).toBe('1:3: parse error: bad duration syntax: "5"');
  });
});
