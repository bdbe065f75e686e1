import { appendFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LoadResult } from '../load/engine.ts';
import type { TimelinePoint } from '../load/metrics.ts';
import { escapeHtml } from '../report/html-escape.ts';
import { xml } from '../report/junit.ts';
import { describeFailures, type GateVerdict } from './verdict.ts';

/**
 * The gate's reports in one directory: gate.json (everything), junit.xml (a test case per threshold
 * and regression check), summary.md (for a CI job summary; appended to $GITHUB_STEP_SUMMARY when set)
 * and report.html (self-contained: per profile, latency over time and the percentile distribution).
 */

export interface GateRecord {
  system: string;
  env: string;
  overlay: string;
  startedAt: string;
  finishedAt: string;
  baselinePath: string;
  verdict: GateVerdict;
  results: LoadResult[];
}

export interface WrittenGateReport {
  dir: string;
  json: string;
  junit: string;
  markdown: string;
  html: string;
}

export async function writeGateReport(dir: string, record: GateRecord): Promise<WrittenGateReport> {
  const out = {
    dir,
    json: path.join(dir, 'gate.json'),
    junit: path.join(dir, 'junit.xml'),
    markdown: path.join(dir, 'summary.md'),
    html: path.join(dir, 'report.html'),
  };
  const md = renderGateMarkdown(record);
  await Promise.all([
    writeFile(out.json, `${JSON.stringify(record, null, 2)}\n`),
    writeFile(out.junit, renderGateJunit(record)),
    writeFile(out.markdown, md),
    writeFile(out.html, renderGateHtml(record)),
  ]);
  const summary = process.env['GITHUB_STEP_SUMMARY'];
  if (summary) await appendFile(summary, `${md}\n`);
  return out;
}

const n = (v: number | undefined, digits = 2) =>
  v === undefined || !Number.isFinite(v) ? '–' : String(Math.round(v * 10 ** digits) / 10 ** digits);

function keyFigures(r: LoadResult) {
  const d = r.metrics['http_req_duration']?.values ?? {};
  return {
    reqs: r.metrics['http_reqs']?.values['count'] ?? 0,
    rps: r.metrics['http_reqs']?.values['rate'] ?? 0,
    failed: r.metrics['http_req_failed']?.values['rate'] ?? 0,
    dropped: r.metrics['dropped_iterations']?.values['count'] ?? 0,
    p50: d['med'],
    p95: d['p(95)'],
    p99: d['p(99)'],
    max: d['max'],
  };
}

export function renderGateMarkdown(r: GateRecord): string {
  const lines = [
    `## Performance gate: ${r.verdict.passed ? '✅ passed' : '❌ failed'} — ${r.system} on ${r.env}`,
    '',
    '| profile | runner | requests | req/s | failed | dropped | p50 ms | p95 ms | p99 ms | thresholds |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const res of r.results) {
    const f = keyFigures(res);
    const bad = res.thresholds.filter((t) => !t.ok).length;
    lines.push(
      `| ${res.profile} | ${res.runner} | ${f.reqs} | ${n(f.rps, 1)} | ${n(f.failed * 100, 3)} % | ${f.dropped} | ${n(f.p50)} | ${n(f.p95)} | ${n(f.p99)} | ${bad ? `❌ ${bad} failed` : `✅ ${res.thresholds.length}`} |`,
    );
  }
  const failures = describeFailures(r.verdict);
  if (failures.length) lines.push('', '### Failures', '', ...failures.map((f) => `- ${f}`));
  if (r.verdict.checks.length) {
    lines.push(
      '',
      `### Regression rule (baseline ${r.baselinePath})`,
      '',
      '| profile | figure | baseline | limit | now | |',
      '| --- | --- | ---: | ---: | ---: | --- |',
    );
    for (const c of r.verdict.checks) {
      lines.push(
        `| ${c.profile} | ${c.figure} | ${n(c.baseline, 4)} | ${n(c.limit, 4)} | ${n(c.actual, 4)} | ${c.ok ? '✅' : '❌'} |`,
      );
    }
  }
  if (r.verdict.baselineNote) lines.push('', `_${r.verdict.baselineNote}_`);
  return `${lines.join('\n')}\n`;
}

export function renderGateJunit(r: GateRecord): string {
  const suites = r.results.map((res) => {
    const cases = res.thresholds.map((t) => {
      const name = `${t.metric}: ${t.expression}`;
      return t.ok
        ? `    <testcase classname="${xml(`gate.${res.profile}.thresholds`)}" name="${xml(name)}"/>`
        : `    <testcase classname="${xml(`gate.${res.profile}.thresholds`)}" name="${xml(name)}">\n      <failure message="${xml(`threshold ${name} failed (actual ${n(t.actual, 4)})`)}"/>\n    </testcase>`;
    });
    for (const c of r.verdict.checks.filter((c) => c.profile === res.profile)) {
      const name = `${c.figure}: ${c.rule}`;
      cases.push(
        c.ok
          ? `    <testcase classname="${xml(`gate.${res.profile}.regression`)}" name="${xml(name)}"/>`
          : `    <testcase classname="${xml(`gate.${res.profile}.regression`)}" name="${xml(name)}">\n      <failure message="${xml(`${c.figure} ${n(c.actual, 4)} beyond limit ${n(c.limit, 4)} (baseline ${n(c.baseline, 4)})`)}"/>\n    </testcase>`,
      );
    }
    const failures = cases.filter((c) => c.includes('<failure')).length;
    return `  <testsuite name="${xml(`gate ${res.profile}`)}" tests="${cases.length}" failures="${failures}" time="${(res.durationMs / 1000).toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="performance gate ${xml(r.system)}">\n${suites.join('\n')}\n</testsuites>\n`;
}

const W = 760;
const H = 220;
const L = 56;
const R = 44;
const T = 14;
const B = 30;

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function axes(
  xMax: number,
  yMax: number,
  xLabel: string,
  yLabel: string,
  xFmt: (v: number) => string,
): string {
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const y = T + ((H - T - B) * i) / 4;
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" stroke="#e5e7eb"/><text x="${L - 6}" y="${y + 4}" text-anchor="end" font-size="11">${n(yMax * (1 - i / 4), 1)}</text>`,
    );
  }
  for (let i = 0; i <= 5; i++) {
    const x = L + ((W - L - R) * i) / 5;
    parts.push(
      `<text x="${x}" y="${H - B + 16}" text-anchor="middle" font-size="11">${xFmt((xMax * i) / 5)}</text>`,
    );
  }
  parts.push(
    `<text x="${W - R}" y="${H - 2}" text-anchor="end" font-size="11" fill="#6b7280">${escapeHtml(xLabel)}</text>`,
    `<text x="4" y="${T - 2}" font-size="11" fill="#6b7280">${escapeHtml(yLabel)}</text>`,
  );
  return parts.join('');
}

/** Latency over time: p50/p95/p99 per second (lines) over requests per second (bars). */
export function latencyOverTimeSvg(points: TimelinePoint[]): string {
  if (!points.length) return '<p>No samples.</p>';
  const tMax = Math.max(1, points.length);
  const yMax = niceMax(Math.max(...points.map((p) => p.p99 ?? 0)));
  const rpsMax = niceMax(Math.max(...points.map((p) => p.reqs)));
  const x = (t: number) => L + ((W - L - R) * t) / tMax;
  const y = (v: number) => T + (H - T - B) * (1 - v / yMax);
  const bars = points
    .map((p) => {
      const h = ((H - T - B) * p.reqs) / rpsMax;
      const fill = p.failed > 0 ? '#fecaca' : '#e0e7ff';
      return `<rect x="${x(p.t)}" y="${H - B - h}" width="${Math.max(1, (W - L - R) / tMax - 1)}" height="${h}" fill="${fill}"><title>${p.t}s: ${p.reqs} req, ${p.failed} failed, ${p.dropped} dropped, ${p.vus} VUs</title></rect>`;
    })
    .join('');
  const line = (key: 'p50' | 'p95' | 'p99', color: string) => {
    const pts = points.filter((p) => p[key] !== null).map((p) => `${x(p.t + 0.5)},${y(p[key]!)}`);
    return `<polyline fill="none" stroke="${color}" stroke-width="1.6" points="${pts.join(' ')}"/>`;
  };
  const rightAxis = [0, 1, 2, 3, 4]
    .map((i) => {
      const yy = T + ((H - T - B) * i) / 4;
      return `<text x="${W - R + 4}" y="${yy + 4}" font-size="11" fill="#818cf8">${n(rpsMax * (1 - i / 4), 0)}</text>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="latency over time">${axes(tMax, yMax, 'seconds', 'ms (left) · req/s (right)', (v) => `${n(v, 1)}s`)}${rightAxis}${bars}${line('p50', '#16a34a')}${line('p95', '#ea580c')}${line('p99', '#dc2626')}</svg>
<div class="legend"><span style="color:#16a34a">━ p50</span> <span style="color:#ea580c">━ p95</span> <span style="color:#dc2626">━ p99</span> <span style="color:#818cf8">▮ req/s</span> <span style="color:#f87171">▮ second with failures</span></div>`;
}

/** Percentile distribution: latency against percentile on a log scale of 1/(1−p). */
export function percentileSvg(curve: Array<{ p: number; ms: number }>): string {
  const pts = curve.filter((c) => c.p < 100);
  if (!pts.length) return '<p>No percentile data (k6 runs report summary percentiles only).</p>';
  const xv = (p: number) => Math.log10(1 / (1 - p / 100));
  const xMax = xv(99.99);
  const yMax = niceMax(Math.max(...pts.map((c) => c.ms)));
  const x = (p: number) => L + ((W - L - R) * Math.min(xv(p), xMax)) / xMax;
  const y = (v: number) => T + (H - T - B) * (1 - v / yMax);
  const labels = ['0', '90', '99', '99.9', '99.99'];
  const axis = axes(1, yMax, 'percentile', 'ms', () => '').replace(
    /<text[^>]*text-anchor="middle"[^>]*>[^<]*<\/text>/g,
    '',
  );
  const ticks = labels
    .map(
      (l) => `<text x="${x(Number(l))}" y="${H - B + 16}" text-anchor="middle" font-size="11">p${l}</text>`,
    )
    .join('');
  const line = pts.map((c) => `${x(c.p)},${y(c.ms)}`).join(' ');
  const dots = pts
    .map(
      (c) =>
        `<circle cx="${x(c.p)}" cy="${y(c.ms)}" r="2.5" fill="#2563eb"><title>p${c.p}: ${n(c.ms, 3)} ms</title></circle>`,
    )
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="latency by percentile">${axis}${ticks}<polyline fill="none" stroke="#2563eb" stroke-width="1.6" points="${line}"/>${dots}</svg>`;
}

export function renderGateHtml(r: GateRecord): string {
  const failures = describeFailures(r.verdict);
  const sections = r.results.map((res) => {
    const f = keyFigures(res);
    const rows = res.thresholds
      .map(
        (t) =>
          `<tr class="${t.ok ? 'ok' : 'bad'}"><td>${escapeHtml(t.metric)}</td><td><code>${escapeHtml(t.expression)}</code>${t.abortOnFail ? ' (abortOnFail)' : ''}</td><td>${n(t.actual, 4)}</td><td>${t.ok ? '✓' : '✗'}</td></tr>`,
      )
      .join('');
    const checks = r.verdict.checks
      .filter((c) => c.profile === res.profile)
      .map(
        (c) =>
          `<tr class="${c.ok ? 'ok' : 'bad'}"><td>${escapeHtml(c.rule)}</td><td>${n(c.baseline, 4)}</td><td>${n(c.limit, 4)}</td><td>${n(c.actual, 4)}</td><td>${c.ok ? '✓' : '✗'}</td></tr>`,
      )
      .join('');
    return `<section><h2>${escapeHtml(res.profile)} <small>${escapeHtml(res.executor)} · ${escapeHtml(res.runner)} · ${escapeHtml(res.target)}</small></h2>
<p>${f.reqs} requests (${n(f.rps, 1)} req/s), ${n(f.failed * 100, 3)} % failed, ${f.dropped} dropped iterations; p50 ${n(f.p50)} ms, p95 ${n(f.p95)} ms, p99 ${n(f.p99)} ms, max ${n(f.max)} ms${res.abortedBy ? `; <b>aborted by ${escapeHtml(res.abortedBy)}</b>` : ''}</p>
<h3>Latency over time</h3>${latencyOverTimeSvg(res.timeline)}
<h3>Latency by percentile</h3>${percentileSvg(res.percentiles)}
<h3>Thresholds</h3><table><tr><th>metric</th><th>threshold</th><th>actual</th><th></th></tr>${rows}</table>
${checks ? `<h3>Regression rule</h3><table><tr><th>rule</th><th>baseline</th><th>limit</th><th>now</th><th></th></tr>${checks}</table>` : ''}
</section>`;
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Performance gate ${escapeHtml(r.system)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#111827;max-width:900px}h1 .pass{color:#16a34a}h1 .fail{color:#dc2626}small{color:#6b7280;font-weight:normal}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:left}tr.bad{background:#fef2f2}tr.ok td:last-child{color:#16a34a}tr.bad td:last-child{color:#dc2626}.legend{font-size:12px;margin:4px 0 12px}section{border-top:1px solid #e5e7eb;margin-top:16px}</style></head><body>
<h1>Performance gate: <span class="${r.verdict.passed ? 'pass' : 'fail'}">${r.verdict.passed ? 'passed' : 'failed'}</span></h1>
<p>${escapeHtml(r.system)} on ${escapeHtml(r.env)} (overlay ${escapeHtml(r.overlay)}), ${escapeHtml(r.startedAt)} → ${escapeHtml(r.finishedAt)}; baseline ${escapeHtml(r.baselinePath)}</p>
${failures.length ? `<ul>${failures.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>` : ''}
${r.verdict.baselineNote ? `<p><i>${escapeHtml(r.verdict.baselineNote)}</i></p>` : ''}
${sections.join('\n')}
</body></html>
`;
}
