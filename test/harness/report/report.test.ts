import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../../harness/report/html-report.ts';
import { renderJunit } from '../../../harness/report/junit.ts';
import { writeReport } from '../../../harness/report/report-writer.ts';
import type { RunRecord } from '../../../harness/report/run-record.ts';
import { parseSeriesKey, seriesKey } from '../../../harness/report/series.ts';
import { timeTicks, valueTicks } from '../../../harness/report/timeline-plot.ts';
import { sampleRun } from './sample-run.ts';

describe('series keys', () => {
  it('build and parse back', () => {
    const key = seriesKey('rps', { service: 'production/api', version: '1.0.0' });
    expect(key).toBe('rps{service=production/api,version=1.0.0}');
    expect(parseSeriesKey(key)).toEqual({
      metric: 'rps',
      labels: { service: 'production/api', version: '1.0.0' },
    });
    expect(parseSeriesKey('rps')).toEqual({ metric: 'rps', labels: {} });
    expect(parseSeriesKey(seriesKey('up'))).toEqual({ metric: 'up', labels: {} });
  });
});

describe('plot ticks', () => {
  it('uses round values', () => {
    expect(valueTicks(0.47, false)).toEqual([0, 0.2, 0.4, 0.6]);
    expect(valueTicks(18, false)).toEqual([0, 5, 10, 15, 20]);
    expect(valueTicks(3, true)).toEqual([0, 1, 2, 3]);
    expect(valueTicks(0, false)).toEqual([0, 1]);
    expect(timeTicks(600_000)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((m) => m * 60_000));
  });
});

describe('HTML report', () => {
  const html = renderHtmlReport(sampleRun());

  it('is one self-contained page', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<(script|link|img)\b/i);
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it('states the status, environment and time scale', () => {
    expect(html).toContain('✗ FAILED');
    expect(html).toContain('local');
    expect(html).toContain('×60: control-plane clock runs 60× real time (1 s real = 1 min control plane)');
  });

  it('draws a panel per metric with a series per version, and the events', () => {
    for (const metric of ['rps', 'errorRate', 'p95', 'replicas'])
      expect(html).toContain(`data-metric="${metric}"`);
    expect(html).toContain('production/api 1.0.0');
    expect(html).toContain('production/api 1.1.0');
    expect(html).toContain('weight changed');
    expect(html).toContain('analysis failed');
    expect(html.match(/class="event-line"/g)).toHaveLength(6 * 4);
    expect(html).toContain('Error rate</span> <span class="unit">(%)');
  });

  it('lists measurements with pass/fail, and why the run failed', () => {
    expect(html).toContain('time to detect');
    expect(html).toContain('≤ 120 s');
    expect(html).toContain('✗ fail');
    expect(html).toContain('Why it failed');
  });

  it('shows each analysis measurement with its PromQL and result', () => {
    expect(html).toContain('Analysis measurements');
    expect(html).toContain('service=&quot;api-canary&quot;,code=~&quot;5..&quot;');
    expect(html).toContain('[0.1812]');
    expect(html).toContain('index out of range');
    expect(renderHtmlReport({ ...sampleRun(), analysis: [] })).not.toContain('Analysis measurements');
  });

  it('escapes all text', () => {
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('20250115-020000-canary-&lt;bad&gt;');
    expect(html).toContain('roll out api:1.1.0 &amp; watch the canary');
  });

  it('renders a run without samples or events', () => {
    const empty: RunRecord = {
      ...sampleRun(),
      status: 'passed',
      timeline: { samples: [], events: [] },
      steps: [],
      measurements: [],
    };
    const page = renderHtmlReport(empty);
    expect(page).toContain('no samples');
    expect(page).toContain('No events were recorded.');
    expect(page).toContain('✓ PASSED');
  });
});

/** A small well-formedness check: tags nest and close, attributes are quoted, entities are known. */
function checkXml(text: string): Array<{ name: string; attrs: Record<string, string>; text: string }> {
  const body = text.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: Array<{ name: string; attrs: Record<string, string>; text: string }> = [];
  const elements: typeof stack = [];
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let consumed = 0;
  for (let m = token.exec(body); m !== null; m = token.exec(body)) {
    consumed = token.lastIndex;
    if (m[5] !== undefined) {
      expect(m[5]).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
      if (stack.length > 0) stack[stack.length - 1]!.text += m[5];
      else expect(m[5].trim()).toBe('');
      continue;
    }
    const [, close, name, rawAttrs, selfClose] = m;
    if (close) {
      expect(stack.pop()?.name).toBe(name);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs!.matchAll(/([\w.-]+)="([^"]*)"/g)) {
      expect(a[2]).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
      attrs[a[1]!] = a[2]!;
    }
    const el = { name: name!, attrs, text: '' };
    elements.push(el);
    if (!selfClose) stack.push(el);
  }
  expect(consumed).toBe(body.length);
  expect(stack).toEqual([]);
  return elements;
}

describe('JUnit XML', () => {
  it('is well-formed, one testcase per step and asserted measurement, failures marked', () => {
    const elements = checkXml(renderJunit(sampleRun()));
    const suite = elements.find((e) => e.name === 'testsuite')!;
    expect(suite.attrs).toMatchObject({
      name: 'canary-bad-build',
      tests: '7',
      failures: '2',
      skipped: '1',
      errors: '0',
    });
    const cases = elements.filter((e) => e.name === 'testcase').map((e) => e.attrs['name']);
    expect(cases).toEqual([
      'bring up ai-platform',
      'steady state: error rate &lt; 1 %',
      'roll out api:1.1.0 &amp; watch the canary',
      'restore',
      'measurement time to detect ≤ 120 s',
      'measurement requests failed ≤ 2000',
      'measurement p95 latency (stable) &lt; 300 ms',
    ]);
    const failures = elements.filter((e) => e.name === 'failure');
    expect(failures.map((f) => f.attrs['message'])).toEqual([
      'expected Rollout production/api to be Degraded within 5m, but it was Healthy',
      'time to detect = 125.4 s, expected ≤ 120 s',
    ]);
    expect(elements.filter((e) => e.name === 'skipped')).toHaveLength(1);
  });

  it('marks a run that failed outside its steps', () => {
    const run: RunRecord = {
      ...sampleRun(),
      steps: [],
      measurements: [],
      notes: ['bring-up failed: <port 4566 in use>'],
    };
    const elements = checkXml(renderJunit(run));
    expect(elements.find((e) => e.name === 'testsuite')!.attrs['failures']).toBe('1');
    expect(elements.find((e) => e.name === 'failure')!.text).toBe(
      'bring-up failed: &lt;port 4566 in use&gt;',
    );
  });
});

describe('writeReport', () => {
  let dir: string;
  beforeAll(async () => {
    dir = path.join(await mkdtemp(path.join(tmpdir(), 'report-test-')), 'nested', 'run');
  });
  afterAll(() => rm(path.dirname(path.dirname(dir)), { recursive: true, force: true }));

  it('creates the directory and writes result.json (round-trips), report.html and junit.xml', async () => {
    const record = sampleRun();
    const written = await writeReport(dir, record, { junit: true });
    expect(written).toEqual({
      resultJson: path.join(dir, 'result.json'),
      reportHtml: path.join(dir, 'report.html'),
      junitXml: path.join(dir, 'junit.xml'),
    });
    expect(JSON.parse(await readFile(written.resultJson, 'utf8'))).toEqual(record);
    expect(await readFile(written.reportHtml, 'utf8')).toContain('<svg');
    checkXml(await readFile(written.junitXml!, 'utf8'));
  });

  it('leaves JUnit out unless asked', async () => {
    const written = await writeReport(dir, sampleRun());
    expect(written.junitXml).toBeUndefined();
  });
});
