import { describe, expect, it } from 'vitest';
import { formatOf, parseExposition } from '../../../../twin/prometheus/scrape/exposition-parser.ts';

const flat = (text: string, format: 'prometheus-text' | 'openmetrics' = 'prometheus-text') =>
  parseExposition(text, format).map((s) => [
    Object.fromEntries(s.labels.map((l) => [l.name, l.value])),
    s.value,
    s.timestamp,
  ]);

describe('exposition formats', () => {
  it('reads the text format as prom-client writes it, escapes and timestamps included', () => {
    const text = [
      '# HELP http_requests_total Requests.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="GET",route="/a",code="200"} 3',
      'http_requests_total{method="GET",route="/a\\"b\\\\c\\nd",code="500"} 1 1700000000000',
      '',
      '# a comment',
      'up 1',
      'temp{le="+Inf"} -Inf',
      'x NaN',
    ].join('\n');
    expect(flat(text)).toEqual([
      [{ __name__: 'http_requests_total', method: 'GET', route: '/a', code: '200' }, 3, undefined],
      [
        { __name__: 'http_requests_total', method: 'GET', route: '/a"b\\c\nd', code: '500' },
        1,
        1700000000000,
      ],
      [{ __name__: 'up' }, 1, undefined],
      [{ __name__: 'temp', le: '+Inf' }, Number.NEGATIVE_INFINITY, undefined],
      [{ __name__: 'x' }, Number.NaN, undefined],
    ]);
  });

  it('fails a scrape on a line that does not parse', () => {
    expect(() => flat('x{a="b"} one')).toThrow(/invalid syntax/);
    expect(() => flat('x{a="b"')).toThrow();
    expect(() => flat('x{a="1",a="2"} 1')).toThrow(/duplicate label name "a"/);
    expect(() => flat('# TYPE x cunter')).toThrow(/invalid metric type/);
  });

  it('reads OpenMetrics: # EOF required, timestamps in seconds, exemplars skipped', () => {
    const text = [
      '# TYPE req counter',
      '# UNIT req requests',
      'req_total{code="200"} 5 1700000000.5 # {trace_id="x"} 1 1700000000',
      'req_created{code="200"} 1699999000',
      '# EOF',
      '',
    ].join('\n');
    expect(flat(text, 'openmetrics')).toEqual([
      [{ __name__: 'req_total', code: '200' }, 5, 1700000000500],
      [{ __name__: 'req_created', code: '200' }, 1699999000, undefined],
    ]);
    expect(() => flat('req_total 5\n', 'openmetrics')).toThrow('data does not end with # EOF');
  });

  it('picks the parser from the Content-Type as Prometheus does', () => {
    expect(formatOf('application/openmetrics-text; version=1.0.0; charset=utf-8')).toBe('openmetrics');
    expect(formatOf('text/plain; version=0.0.4; charset=utf-8')).toBe('prometheus-text');
    expect(formatOf(undefined)).toBe('prometheus-text');
  });
});
