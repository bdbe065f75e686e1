import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { escapeHtml as h } from './html-escape.ts';
import {
  durationBetween,
  formatDuration,
  formatNumber,
  formatOffset,
  humanizeKind,
} from './report-format.ts';
import type { RunRecord } from './run-record.ts';
import { renderTimeline, sortedEvents } from './timeline-plot.ts';

export const REPORT_HTML = 'report.html';

/**
 * One self-contained HTML page (inline CSS and SVG, no scripts, no external assets) for a run.
 * `images` maps an attachment's screenshot path to its data: URI (writeHtmlReport reads them).
 */
export function renderHtmlReport(record: RunRecord, images: Record<string, string> = {}): string {
  const failed = record.status === 'failed';
  const title = `${record.scenario} — ${failed ? 'FAILED' : 'passed'}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${renderHeader(record)}
${renderWhyFailed(record)}
<section><h2>Measurements</h2>${renderMeasurements(record)}</section>
${renderAnalysis(record)}
<section><h2>Timeline</h2>${renderTimeScaleLine(record)}${renderTimeline(record.timeline)}</section>
${renderAttachments(record, images)}
<section><h2>Steps</h2>${renderSteps(record)}</section>
<section><h2>Events</h2>${renderEvents(record)}</section>
${record.notes.length > 0 ? `<section><h2>Notes</h2><ul class="notes">${record.notes.map((n) => `<li>${h(n)}</li>`).join('')}</ul></section>` : ''}
<footer>run ${h(record.runId)} · generated ${h(new Date().toISOString())}</footer>
</main>
</body>
</html>
`;
}

export async function writeHtmlReport(dir: string, record: RunRecord): Promise<string> {
  await mkdir(dir, { recursive: true });
  const images: Record<string, string> = {};
  for (const a of record.attachments ?? []) {
    if (!a.screenshot) continue;
    const png = await readFile(path.join(dir, a.screenshot)).catch(() => undefined);
    if (png) images[a.screenshot] = `data:image/png;base64,${png.toString('base64')}`;
  }
  const file = path.join(dir, REPORT_HTML);
  await writeFile(file, renderHtmlReport(record, images));
  return file;
}

/** Failed browser journeys: what the person saw (the screenshot, embedded) and the trace to replay. */
function renderAttachments(r: RunRecord, images: Record<string, string>): string {
  const list = r.attachments ?? [];
  if (list.length === 0) return '';
  const items = list.map((a) => {
    const when = a.t === undefined ? '' : `<span class="muted"> at ${h(formatOffset(a.t))}</span>`;
    const img = a.screenshot
      ? images[a.screenshot]
        ? `<img class="shot" alt="${h(`screenshot: ${a.title}`)}" src="${images[a.screenshot]}">`
        : `<p class="muted">screenshot: <code>${h(a.screenshot)}</code> (not found)</p>`
      : '';
    const trace = a.trace
      ? `<p>Playwright trace: <a href="${h(a.trace)}">${h(a.trace)}</a> (<code>npx playwright show-trace ${h(a.trace)}</code>)</p>`
      : '';
    return `<figure class="attachment"><figcaption><b>${h(a.title)}</b>${when}</figcaption>${img}${trace}</figure>`;
  });
  return `<section><h2>What users saw: failed browser journeys</h2>${items.join('')}</section>`;
}

function renderHeader(r: RunRecord): string {
  const failed = r.status === 'failed';
  const real = durationBetween(r.startedAt, r.finishedAt);
  const rows: Array<[string, string]> = [
    ['System', r.system],
    ['Environment', r.environment],
    ['Started', r.startedAt],
    ['Finished', r.finishedAt],
    ['Duration (real)', formatDuration(real)],
    ['Duration (control plane)', formatDuration(controlPlaneSpan(r) ?? real * r.timeScale)],
    ['Time scale', timeScaleText(r.timeScale)],
    ['Run', r.runId],
  ];
  return `<header class="${failed ? 'failed' : 'passed'}">
<div class="title-row"><h1>${h(r.scenario)}</h1><span class="status ${failed ? 'failed' : 'passed'}">${failed ? '✗ FAILED' : '✓ PASSED'}</span></div>
<dl class="meta">${rows.map(([k, v]) => `<div><dt>${h(k)}</dt><dd>${h(v)}</dd></div>`).join('')}</dl>
</header>`;
}

function timeScaleText(scale: number): string {
  if (scale === 1) return '×1 (real time)';
  return `×${formatNumber(scale)}: control-plane clock runs ${formatNumber(scale)}× real time (1 s real = ${formatDuration(scale * 1000)} control plane)`;
}

function renderTimeScaleLine(r: RunRecord): string {
  const text =
    r.timeScale === 1
      ? 'Times are seconds since the run started.'
      : `Times are control-plane time since the run started; the control-plane clock ran at ×${formatNumber(r.timeScale)}, so 1 minute on the axis took ${formatDuration(60_000 / r.timeScale)} of real time. Rates are per real second as clients saw them.`;
  return `<p class="hint">${h(text)}</p>`;
}

function controlPlaneSpan(r: RunRecord): number | undefined {
  const ts = [...r.timeline.samples.map((s) => s.t), ...r.timeline.events.map((e) => e.t)];
  return ts.length > 0 ? Math.max(...ts) : undefined;
}

function renderWhyFailed(r: RunRecord): string {
  if (r.status !== 'failed') return '';
  const items: string[] = [];
  for (const s of r.steps.filter((s) => s.status === 'failed')) {
    items.push(
      `<li>Step <b>${h(s.name)}</b> failed${s.error ? `: <code>${h(firstLine(s.error))}</code>` : ''}</li>`,
    );
  }
  for (const m of r.measurements.filter((m) => m.passed === false)) {
    items.push(
      `<li><b>${h(m.name)}</b> = ${h(formatNumber(m.value))} ${h(m.unit)}${m.assertion ? `, expected ${h(m.assertion)}` : ''}</li>`,
    );
  }
  if (items.length === 0) items.push('<li>The run failed outside its steps; see the notes below.</li>');
  return `<section class="why"><h2>Why it failed</h2><ul>${items.join('')}</ul></section>`;
}

function renderMeasurements(r: RunRecord): string {
  if (r.measurements.length === 0) return '<p class="empty">No measurements were recorded.</p>';
  const rows = r.measurements.map((m) => {
    const result =
      m.passed === undefined
        ? '<td class="muted">—</td>'
        : m.passed
          ? '<td class="ok">✓ pass</td>'
          : '<td class="bad">✗ fail</td>';
    return `<tr class="${m.passed === false ? 'row-failed' : ''}"><td>${h(m.name)}${m.description ? `<div class="desc">${h(m.description)}</div>` : ''}</td><td class="num">${h(formatNumber(m.value))}</td><td>${h(m.unit)}</td><td>${h(m.assertion ?? '')}</td>${result}</tr>`;
  });
  return `<table><thead><tr><th>Measurement</th><th class="num">Value</th><th>Unit</th><th>Assertion</th><th>Result</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Each canary-analysis measurement with the query asked and the result it got. */
function renderAnalysis(r: RunRecord): string {
  if (!r.analysis?.length) return '';
  const phaseClass = (p: string) =>
    p === 'Successful' ? 'ok' : p === 'Failed' || p === 'Error' ? 'bad' : 'muted';
  const rows = r.analysis.map(
    (m) =>
      `<tr class="${m.phase === 'Failed' || m.phase === 'Error' ? 'row-failed' : ''}"><td class="num">${h(formatOffset(m.t))}</td><td>${h(m.analysisRun)}</td><td>${h(m.metric)}<div class="desc">${h(m.provider)}${m.condition ? ` · ${h(m.condition)}` : ''}</div></td><td><code>${h(m.query)}</code></td><td class="num">${h(m.value ?? '—')}</td><td class="${phaseClass(m.phase)}">${h(m.phase)}${m.message ? `<div class="desc">${h(m.message)}</div>` : ''}</td></tr>`,
  );
  return `<section><h2>Analysis measurements</h2><p class="hint">Each measurement of the canary analysis with the query asked and its result; times are control-plane time since the run started.</p><table><thead><tr><th class="num">Time</th><th>AnalysisRun</th><th>Metric</th><th>Query</th><th class="num">Result</th><th>Phase</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function renderSteps(r: RunRecord): string {
  if (r.steps.length === 0) return '<p class="empty">No steps were recorded.</p>';
  const icon = { passed: '✓', failed: '✗', skipped: '○' } as const;
  const rows = r.steps.map((s, i) => {
    const error = s.error ? `<pre class="error">${h(s.error)}</pre>` : '';
    return `<tr class="${s.status === 'failed' ? 'row-failed' : ''}"><td class="num">${i + 1}</td><td>${h(s.name)}${error}</td><td class="step-${s.status}">${icon[s.status]} ${h(s.status)}</td><td class="num">${h(formatDuration(durationBetween(s.startedAt, s.finishedAt)))}</td></tr>`;
  });
  return `<table><thead><tr><th class="num">#</th><th>Step</th><th>Status</th><th class="num">Duration (real)</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function renderEvents(r: RunRecord): string {
  const events = sortedEvents(r.timeline.events);
  if (events.length === 0) return '<p class="empty">No events were recorded.</p>';
  const rows = events.map(
    (e, i) =>
      `<tr class="${e.type === 'Warning' ? 'row-warning' : ''}"><td class="num">${i + 1}</td><td class="num">${h(formatOffset(e.t))}</td><td>${h(e.type ?? 'Normal')}</td><td>${h(humanizeKind(e.kind))}</td><td>${h(e.object ?? '')}</td><td>${h(e.message)}</td></tr>`,
  );
  return `<table class="events"><thead><tr><th class="num">#</th><th class="num">Time</th><th>Type</th><th>Event</th><th>Object</th><th>Message</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1f2937;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px}
header{background:#fff;border-radius:8px;padding:20px 24px;border-left:6px solid #16a34a;box-shadow:0 1px 2px rgba(0,0,0,.06)}
header.failed{border-left-color:#dc2626}
.title-row{display:flex;align-items:center;gap:16px;flex-wrap:wrap}
h1{margin:0;font-size:24px}
h2{font-size:17px;margin:0 0 10px}
.status{font-weight:700;padding:3px 10px;border-radius:999px;font-size:13px;letter-spacing:.04em}
.status.passed{background:#dcfce7;color:#166534}
.status.failed{background:#fee2e2;color:#991b1b}
.meta{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:8px 24px;margin:16px 0 0}
.meta div{min-width:0}
.meta dt{color:#6b7280;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.meta dd{margin:0;overflow-wrap:anywhere}
section{background:#fff;border-radius:8px;padding:18px 24px;margin-top:16px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
section.why{border:1px solid #fca5a5;background:#fef2f2}
section.why ul{margin:0;padding-left:20px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e5e7eb;vertical-align:top}
th{font-size:12px;color:#6b7280;text-transform:uppercase;letter-spacing:.04em;font-weight:600}
tbody tr:nth-child(even){background:#fafafa}
tr.row-failed{background:#fef2f2!important}
tr.row-warning td:nth-child(3){color:#b91c1c;font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ok{color:#15803d;font-weight:600;white-space:nowrap}
.bad{color:#b91c1c;font-weight:700;white-space:nowrap}
.muted,.empty,.hint,.desc,.unit{color:#6b7280}
.desc{font-size:12px}
.hint{margin:0 0 8px}
.step-passed{color:#15803d;white-space:nowrap}.step-failed{color:#b91c1c;font-weight:700;white-space:nowrap}.step-skipped{color:#6b7280;white-space:nowrap}
pre.error{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff1f2;border:1px solid #fecdd3;border-radius:4px;padding:6px 8px;margin:6px 0 0;font-size:12px}
code{font-size:12px;background:rgba(0,0,0,.05);padding:1px 4px;border-radius:3px;overflow-wrap:anywhere}
.timeline{display:flex;flex-direction:column;gap:2px}
figure.panel{margin:0}
figcaption{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 10px;padding-left:64px;font-size:13px}
.panel-title{font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin-left:auto}
.legend-item{display:inline-flex;align-items:center;gap:5px;font-size:12px;white-space:nowrap}
.legend-item svg{width:26px;flex:none}
svg{display:block;width:100%;height:auto}
svg text{font-family:inherit}
.grid{stroke:#eef0f3}
.axis{stroke:#9ca3af}
.ytick{font-size:11px;fill:#6b7280;text-anchor:end}
.xtick{font-size:11px;fill:#6b7280;text-anchor:middle}
.xlabel{font-size:12px;fill:#4b5563;text-anchor:middle}
.yunit{font-size:11px;fill:#6b7280;text-anchor:middle}
.empty{font-size:12px;fill:#9ca3af;text-anchor:middle}
.badge{font-size:10px;font-weight:700;fill:#fff;text-anchor:middle}
.lane-label{font-size:11px;font-weight:600}
.event-line{opacity:.7}
.notes{margin:0;padding-left:20px}
figure.attachment{margin:0 0 16px}
img.shot{display:block;max-width:100%;border:1px solid #e5e7eb;border-radius:4px;margin-top:6px}
footer{color:#9ca3af;font-size:12px;text-align:center;margin:16px 0}
`;
