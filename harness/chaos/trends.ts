import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TwinError } from '../../core/errors.ts';
import { escapeHtml as h } from '../report/html-escape.ts';
import { appendToHistory, CHAOS_RUN_PREFIX, type ChaosRun } from './suite.ts';

/** One entry (experiment or scenario) on one environment across nights. */
export interface EntryTrend {
  name: string;
  environment: string;
  type: string;
  runs: Array<{
    at: string;
    passed: boolean;
    recoverySeconds: number | null;
    errorBudgetPercent: number | null;
    durationSeconds: number;
  }>;
  passRate: number;
  /** Changes of outcome between consecutive runs. */
  flips: number;
  /** flips / (runs − 1). */
  flipRate: number;
  /** An outcome that changes more than once in the window: not a regression, not a fix — flaky. */
  flaky: boolean;
  lastPassed: boolean;
  recovery: { median: number | null; last: number | null };
  errorBudget: { max: number | null; last: number | null };
}

export interface Trends {
  nights: Array<{ at: string; environment: string; passed: number; total: number }>;
  entries: EntryTrend[];
}

/** Reads <history>/runs/*.json, oldest first. */
export async function readHistory(history: string): Promise<ChaosRun[]> {
  const dir = path.join(history, 'runs');
  if (!existsSync(dir)) return [];
  const runs: ChaosRun[] = [];
  for (const f of (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()) {
    const run = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as ChaosRun;
    if (run.kind === 'infra-twin/chaos-run') runs.push(run);
  }
  return runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** Trends over the last `window` runs of each entry (pass rate, flips, recovery, error budget). */
export function computeTrends(runs: ChaosRun[], window = 30): Trends {
  const nights = runs.map((r) => ({
    at: r.startedAt,
    environment: r.environment,
    passed: r.entries.filter((e) => e.passed).length,
    total: r.entries.length,
  }));
  const byKey = new Map<string, EntryTrend>();
  for (const run of runs)
    for (const e of run.entries) {
      const key = `${run.environment}\0${e.name}`;
      const t = byKey.get(key) ?? {
        name: e.name,
        environment: run.environment,
        type: e.type,
        runs: [],
        passRate: 0,
        flips: 0,
        flipRate: 0,
        flaky: false,
        lastPassed: false,
        recovery: { median: null, last: null },
        errorBudget: { max: null, last: null },
      };
      t.runs.push({
        at: run.startedAt,
        passed: e.passed,
        recoverySeconds: e.recoverySeconds ?? null,
        errorBudgetPercent: e.errorBudgetPercent ?? null,
        durationSeconds: e.durationSeconds,
      });
      byKey.set(key, t);
    }
  const entries = [...byKey.values()].map((t) => {
    const recent = t.runs.slice(-window);
    let flips = 0;
    for (let i = 1; i < recent.length; i++) if (recent[i]!.passed !== recent[i - 1]!.passed) flips++;
    const recoveries = recent.map((r) => r.recoverySeconds).filter((v): v is number => v !== null);
    const budgets = recent.map((r) => r.errorBudgetPercent).filter((v): v is number => v !== null);
    return {
      ...t,
      runs: recent,
      passRate: recent.filter((r) => r.passed).length / recent.length,
      flips,
      flipRate: recent.length > 1 ? flips / (recent.length - 1) : 0,
      flaky: flips >= 2,
      lastPassed: recent.at(-1)!.passed,
      recovery: { median: median(recoveries), last: recent.at(-1)!.recoverySeconds },
      errorBudget: {
        max: budgets.length > 0 ? Math.max(...budgets) : null,
        last: recent.at(-1)!.errorBudgetPercent,
      },
    };
  });
  entries.sort((a, b) => a.environment.localeCompare(b.environment) || a.name.localeCompare(b.name));
  return { nights, entries };
}

export function trendsMarkdown(t: Trends): string {
  const rows = t.entries.map(
    (e) =>
      `| ${e.lastPassed ? '✅' : '❌'} | ${e.name} | ${e.environment} | ${e.runs.length} | ${pct(e.passRate)} | ${e.flips}${e.flaky ? ' ⚠️ flaky' : ''} | ${num(e.recovery.median, ' s')} | ${num(e.errorBudget.max, ' %')} |`,
  );
  return [
    `### Chaos trends: ${t.nights.length} runs`,
    '',
    '| last | name | env | runs | pass rate | flips | recovery (median) | error budget (max) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '',
  ].join('\n');
}

/** One self-contained page (inline CSS and SVG, no scripts): pass rate per night, then per entry. */
export function trendsHtml(t: Trends): string {
  const nightsPlot = linePlot(
    t.nights.map((n, i) => ({
      x: i,
      y: n.total > 0 ? n.passed / n.total : 0,
      label: `${n.at.slice(0, 10)} ${n.environment}`,
    })),
    { yMax: 1, yFormat: pct, title: 'pass rate per run' },
  );
  const rows = t.entries
    .map((e) => {
      const marks = e.runs
        .map(
          (r) =>
            `<span class="mark ${r.passed ? 'ok' : 'bad'}" title="${h(r.at)}">${r.passed ? '●' : '✕'}</span>`,
        )
        .join('');
      const rec = e.runs.map((r, i) => ({ x: i, y: r.recoverySeconds, label: r.at }));
      return `<tr class="${e.flaky ? 'flaky' : ''}"><td>${h(e.name)}<div class="desc">${h(e.type)}</div></td><td>${h(e.environment)}</td><td class="num">${e.runs.length}</td><td class="num">${h(pct(e.passRate))}</td><td>${marks}</td><td class="num">${e.flips}${e.flaky ? ' <b class="bad">flaky</b>' : ''}</td><td class="num">${h(num(e.recovery.median, ' s'))}</td><td>${sparkline(rec)}</td><td class="num">${h(num(e.errorBudget.max, ' %'))}</td></tr>`;
    })
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chaos trends</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header><h1>Chaos trends</h1><p class="desc">${t.nights.length} runs from the chaos history, oldest first. An entry whose outcome changed more than once is flaky.</p></header>
<section><h2>Pass rate</h2>${nightsPlot}</section>
<section><h2>Per experiment and scenario</h2>
<table><thead><tr><th>Name</th><th>Env</th><th class="num">Runs</th><th class="num">Pass rate</th><th>Outcomes</th><th class="num">Flips</th><th class="num">Recovery (median)</th><th>Recovery per run</th><th class="num">Error budget (max)</th></tr></thead><tbody>${rows || '<tr><td colspan="9" class="empty">No runs in the history yet.</td></tr>'}</tbody></table>
</section>
</main>
</body>
</html>
`;
}

export async function trendsCommand(o: { history: string; out: string; summary?: string }): Promise<number> {
  const runs = await readHistory(o.history);
  const t = computeTrends(runs);
  await mkdir(o.out, { recursive: true });
  await writeFile(path.join(o.out, 'trends.json'), `${JSON.stringify(t, null, 2)}\n`);
  await writeFile(path.join(o.out, 'trends.html'), trendsHtml(t));
  const md = trendsMarkdown(t);
  await writeFile(path.join(o.out, 'summary.md'), md);
  if (o.summary) await appendFile(o.summary, md);
  process.stdout.write(`${md}\ntrends: ${path.join(o.out, 'trends.html')}\n`);
  return 0;
}

export async function historyCommand(o: {
  from: string;
  history: string;
  runLabel?: string;
}): Promise<number> {
  const files = await findRuns(o.from);
  if (files.length === 0)
    throw new TwinError(
      'TWIN_OPTION_INVALID',
      `--from ${o.from}: no ${CHAOS_RUN_PREFIX}*.json under it (did the chaos run write its reports there?)`,
    );
  const added = await appendToHistory(o.history, files, o.runLabel);
  process.stdout.write(`${added.map((f) => `history: ${f}`).join('\n')}\n`);
  return 0;
}

async function findRuns(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.startsWith(CHAOS_RUN_PREFIX) && entry.name.endsWith('.json'))
      out.push(path.join(entry.parentPath, entry.name));
  }
  return out.sort();
}

function median(v: number[]): number | null {
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(0)} %`;
}

function num(v: number | null, unit: string): string {
  return v === null ? '—' : `${Number.isInteger(v) ? v : v.toFixed(1)}${unit}`;
}

function linePlot(
  points: Array<{ x: number; y: number; label: string }>,
  o: { yMax: number; yFormat: (v: number) => string; title: string },
): string {
  if (points.length === 0) return '<p class="empty">No runs yet.</p>';
  const w = 900;
  const hgt = 200;
  const pad = 40;
  const xs = (x: number) =>
    pad + (points.length === 1 ? (w - 2 * pad) / 2 : (x / (points.length - 1)) * (w - 2 * pad));
  const ys = (y: number) => hgt - pad + -(y / o.yMax) * (hgt - 2 * pad);
  const line = points
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${xs(p.x).toFixed(1)},${ys(p.y).toFixed(1)}`)
    .join(' ');
  const dots = points
    .map(
      (p) =>
        `<circle cx="${xs(p.x).toFixed(1)}" cy="${ys(p.y).toFixed(1)}" r="3"><title>${h(p.label)}: ${h(o.yFormat(p.y))}</title></circle>`,
    )
    .join('');
  const ticks = [0, 0.5, 1]
    .map(
      (f) =>
        `<text class="ytick" x="${pad - 6}" y="${ys(f * o.yMax) + 4}">${h(o.yFormat(f * o.yMax))}</text><line class="grid" x1="${pad}" x2="${w - pad}" y1="${ys(f * o.yMax)}" y2="${ys(f * o.yMax)}"/>`,
    )
    .join('');
  return `<figure class="panel"><svg viewBox="0 0 ${w} ${hgt}" role="img" aria-label="${h(o.title)}">${ticks}<path class="line" d="${line}"/>${dots}</svg></figure>`;
}

function sparkline(points: Array<{ x: number; y: number | null; label: string }>): string {
  const vals = points.filter((p): p is { x: number; y: number; label: string } => p.y !== null);
  if (vals.length === 0) return '<span class="desc">—</span>';
  const max = Math.max(...vals.map((p) => p.y), 1);
  const w = 120;
  const hgt = 24;
  const xs = (x: number) => (points.length === 1 ? w / 2 : (x / (points.length - 1)) * (w - 4) + 2);
  const ys = (y: number) => hgt - 2 - (y / max) * (hgt - 4);
  const d = vals.map((p, i) => `${i === 0 ? 'M' : 'L'}${xs(p.x).toFixed(1)},${ys(p.y).toFixed(1)}`).join(' ');
  return `<svg class="spark" viewBox="0 0 ${w} ${hgt}" role="img" aria-label="recovery seconds per run (max ${max.toFixed(1)} s)"><path class="line" d="${d}"/></svg>`;
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1f2937;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px}
header,section{background:#fff;border-radius:8px;padding:18px 24px;margin-top:16px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
h1{margin:0;font-size:24px}h2{font-size:17px;margin:0 0 10px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e5e7eb;vertical-align:middle}
th{font-size:12px;color:#6b7280;text-transform:uppercase;letter-spacing:.04em}
tr.flaky{background:#fffbeb}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.desc,.empty{color:#6b7280;font-size:12px}
.mark{font-size:12px;margin-right:2px}.ok{color:#15803d}.bad{color:#b91c1c}
svg{display:block;width:100%;height:auto}svg.spark{width:120px;height:24px}
.line{fill:none;stroke:#2563eb;stroke-width:2}
circle{fill:#2563eb}
.grid{stroke:#eef0f3}.ytick{font-size:11px;fill:#6b7280;text-anchor:end}
`;
