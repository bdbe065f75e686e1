import { escapeHtml } from './html-escape.ts';
import { formatNumber, formatOffset, humanizeKind } from './report-format.ts';
import type { RunRecord, TimelineEvent } from './run-record.ts';
import { parseSeriesKey, type SeriesLabels, seriesLabel } from './series.ts';

interface PanelSpec {
  metric: string;
  title: string;
  unit: string;
  /** Values are multiplied by this before plotting (error rate fractions → %). */
  scale?: number;
  /** Replica counts change in steps, so they are drawn as steps, not slopes. */
  step?: boolean;
}

export const TIMELINE_PANELS: PanelSpec[] = [
  { metric: 'rps', title: 'Requests per second', unit: 'req/s' },
  { metric: 'errorRate', title: 'Error rate', unit: '%', scale: 100 },
  { metric: 'p95', title: 'p95 latency', unit: 'ms' },
  { metric: 'replicas', title: 'Replicas', unit: 'pods', step: true },
];

const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#0891b2', '#ca8a04', '#db2777', '#4b5563'];
const DASHES = ['', '7 4', '2 3', '10 3 2 3'];

const WIDTH = 1080;
const LEFT = 64;
const RIGHT = 20;
const PLOT_HEIGHT = 150;
const AXIS_HEIGHT = 22;
const LANE_ROW = 18;
const MAX_LANE_ROWS = 4;

interface Series {
  key: string;
  labels: SeriesLabels;
  color: string;
  dash: string;
  points: Array<[number, number | null]>;
}

/**
 * The stacked timeline: an events lane, then one panel per metric, all on the same control-plane
 * time axis, with each event drawn as a numbered vertical marker through every panel.
 */
export function renderTimeline(timeline: RunRecord['timeline']): string {
  const samples = [...timeline.samples].sort((a, b) => a.t - b.t);
  const events = sortedEvents(timeline.events);
  const tMax = Math.max(1000, ...samples.map((s) => s.t), ...events.map((e) => e.t));
  const x = (t: number) => LEFT + (t / tMax) * (WIDTH - LEFT - RIGHT);
  const xTicks = timeTicks(tMax);

  const byMetric = new Map<string, Series[]>();
  const colors = new Map<string, string>();
  const dashes = new Map<string, Map<string, string>>();
  for (const sample of samples) {
    for (const key of Object.keys(sample.series)) {
      const { metric, labels } = parseSeriesKey(key);
      const list = byMetric.get(metric) ?? [];
      byMetric.set(metric, list);
      if (list.some((s) => s.key === key)) continue;
      // one color per version across all panels; other labels (service, workload) vary the dash
      const { version, ...rest } = labels;
      const colorKey = version ?? seriesLabel(labels);
      if (!colors.has(colorKey)) colors.set(colorKey, PALETTE[colors.size % PALETTE.length]!);
      const dashKey = version === undefined ? '' : seriesLabel(rest);
      const panelDashes = dashes.get(metric) ?? new Map<string, string>();
      dashes.set(metric, panelDashes);
      if (!panelDashes.has(dashKey)) panelDashes.set(dashKey, DASHES[panelDashes.size % DASHES.length]!);
      list.push({ key, labels, color: colors.get(colorKey)!, dash: panelDashes.get(dashKey)!, points: [] });
    }
  }
  for (const list of byMetric.values()) {
    for (const s of list) {
      s.points = samples
        .filter((sample) => s.key in sample.series)
        .map((sample) => [sample.t, sample.series[s.key] ?? null]);
    }
  }

  const panels = [
    ...TIMELINE_PANELS,
    ...[...byMetric.keys()]
      .filter((m) => !TIMELINE_PANELS.some((p) => p.metric === m))
      .map((metric) => ({ metric, title: metric, unit: '' })),
  ];
  const parts = [renderEventLane(events, x, tMax)];
  panels.forEach((panel, i) => {
    parts.push(
      renderPanel(panel, byMetric.get(panel.metric) ?? [], events, x, xTicks, i === panels.length - 1),
    );
  });
  return `<div class="timeline">${parts.join('\n')}</div>`;
}

export function sortedEvents(events: TimelineEvent[]): TimelineEvent[] {
  return [...events].sort((a, b) => a.t - b.t);
}

function renderEventLane(events: TimelineEvent[], x: (t: number) => number, tMax: number): string {
  if (events.length === 0) return '';
  const rowsEnd: number[] = [];
  const placed = events.map((e, i) => {
    const label = `${i + 1} ${humanizeKind(e.kind)}`;
    const start = x(e.t) - 8;
    const width = label.length * 6.4 + 14;
    // labels near the right edge are drawn leftwards so they stay inside the figure
    const leftward = start + width > WIDTH - 4;
    const from = leftward ? x(e.t) - width + 8 : start;
    let row = rowsEnd.findIndex((end) => end < from);
    if (row < 0 && rowsEnd.length < MAX_LANE_ROWS) row = rowsEnd.push(-Infinity) - 1;
    if (row >= 0) rowsEnd[row] = from + width;
    return { e, i, label, row, leftward };
  });
  const height = Math.max(1, rowsEnd.length) * LANE_ROW + 8;
  const items = placed.map(({ e, i, label, row, leftward }) => {
    const cx = x(e.t);
    const color = eventColor(e);
    const y = Math.max(0, row) * LANE_ROW + 12;
    const badge = `<circle cx="${f(cx)}" cy="${y}" r="7" fill="${color}"/><text x="${f(cx)}" y="${y + 3.5}" class="badge">${i + 1}</text>`;
    const text =
      row < 0
        ? ''
        : `<text x="${f(leftward ? cx - 11 : cx + 11)}" y="${y + 4}" class="lane-label" text-anchor="${leftward ? 'end' : 'start'}" fill="${color}">${escapeHtml(label.slice(String(i + 1).length + 1))}</text>`;
    return `<g><title>${escapeHtml(eventTitle(e, i))}</title><line x1="${f(cx)}" x2="${f(cx)}" y1="${y + 7}" y2="${height}" stroke="${color}" stroke-dasharray="3 3"/>${badge}${text}</g>`;
  });
  return `<figure class="panel lane"><figcaption><span class="panel-title">Events</span> <span class="unit">numbered as in the events table; control-plane time 0–${escapeHtml(formatOffset(tMax))}</span></figcaption><svg viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="events">${items.join('')}</svg></figure>`;
}

function renderPanel(
  panel: PanelSpec,
  series: Series[],
  events: TimelineEvent[],
  x: (t: number) => number,
  xTicks: number[],
  last: boolean,
): string {
  const scale = panel.scale ?? 1;
  const values = series
    .flatMap((s) => s.points.map(([, v]) => v))
    .filter((v): v is number => v !== null && Number.isFinite(v));
  const max = values.length > 0 ? Math.max(...values) * scale : 0;
  const yTicks = valueTicks(max, panel.step === true);
  const yMax = yTicks[yTicks.length - 1]!;
  const top = 8;
  const y = (v: number) => top + PLOT_HEIGHT - (v / yMax) * PLOT_HEIGHT;
  const height = top + PLOT_HEIGHT + AXIS_HEIGHT + (last ? 16 : 0);
  const out: string[] = [];
  for (const tick of yTicks) {
    out.push(
      `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${f(y(tick))}" y2="${f(y(tick))}" class="grid"/><text x="${LEFT - 6}" y="${f(y(tick) + 4)}" class="ytick">${escapeHtml(formatNumber(tick))}</text>`,
    );
  }
  for (const tick of xTicks) {
    out.push(
      `<line x1="${f(x(tick))}" x2="${f(x(tick))}" y1="${top}" y2="${top + PLOT_HEIGHT}" class="grid"/><text x="${f(x(tick))}" y="${top + PLOT_HEIGHT + 15}" class="xtick">${escapeHtml(formatOffset(tick))}</text>`,
    );
  }
  out.push(
    `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${top + PLOT_HEIGHT}" y2="${top + PLOT_HEIGHT}" class="axis"/>`,
  );
  out.push(`<line x1="${LEFT}" x2="${LEFT}" y1="${top}" y2="${top + PLOT_HEIGHT}" class="axis"/>`);
  events.forEach((e, i) => {
    out.push(
      `<line x1="${f(x(e.t))}" x2="${f(x(e.t))}" y1="${top}" y2="${top + PLOT_HEIGHT}" stroke="${eventColor(e)}" stroke-dasharray="3 3" class="event-line"><title>${escapeHtml(eventTitle(e, i))}</title></line>`,
    );
  });
  for (const s of series) {
    out.push(
      `<path d="${linePath(s.points, x, (v) => y(v * scale), panel.step === true)}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linecap="round"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round"><title>${escapeHtml(`${panel.title}: ${seriesLabel(s.labels)}`)}</title></path>`,
    );
  }
  if (series.length === 0) {
    out.push(
      `<text x="${(LEFT + WIDTH - RIGHT) / 2}" y="${top + PLOT_HEIGHT / 2}" class="empty">no samples</text>`,
    );
  }
  out.push(
    `<text x="14" y="${top + PLOT_HEIGHT / 2}" class="yunit" transform="rotate(-90 14 ${top + PLOT_HEIGHT / 2})">${escapeHtml(panel.unit)}</text>`,
  );
  if (last) {
    out.push(
      `<text x="${(LEFT + WIDTH - RIGHT) / 2}" y="${height - 2}" class="xlabel">control-plane time since start (m:ss)</text>`,
    );
  }
  // labels every series shares go to the caption; the legend names what tells the lines apart
  const common = commonLabels(series);
  const legend = series
    .map((s) => {
      const swatch = `<svg width="26" height="10" aria-hidden="true"><line x1="1" x2="25" y1="5" y2="5" stroke="${s.color}" stroke-width="3"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/></svg>`;
      const distinct = Object.fromEntries(Object.entries(s.labels).filter(([k]) => !(k in common)));
      return `<span class="legend-item">${swatch}${escapeHtml(seriesLabel(distinct))}</span>`;
    })
    .join('');
  const shared = Object.entries(common)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const unit =
    (panel.unit ? ` <span class="unit">(${escapeHtml(panel.unit)})</span>` : '') +
    (shared ? ` <span class="unit">· ${escapeHtml(shared)}</span>` : '');
  return `<figure class="panel"><figcaption><span class="panel-title">${escapeHtml(panel.title)}</span>${unit}<span class="legend">${legend}</span></figcaption><svg viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeHtml(panel.title)}" data-metric="${escapeHtml(panel.metric)}">${out.join('')}</svg></figure>`;
}

function linePath(
  points: Array<[number, number | null]>,
  x: (t: number) => number,
  y: (v: number) => number,
  step: boolean,
): string {
  const d: string[] = [];
  let pen = false;
  for (const [t, v] of points) {
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      continue;
    }
    if (!pen) d.push(`M${f(x(t))} ${f(y(v))}`);
    else if (step) d.push(`H${f(x(t))}V${f(y(v))}`);
    else d.push(`L${f(x(t))} ${f(y(v))}`);
    // a lone point would draw nothing; a short tick makes it visible
    if (!pen) d.push(`h0.01`);
    pen = true;
  }
  return d.join('');
}

const TIME_STEPS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 21_600, 43_200, 86_400,
].map((s) => s * 1000);

/** Ticks at round control-plane times, about eight of them. */
export function timeTicks(tMax: number): number[] {
  const step = TIME_STEPS.find((s) => tMax / s <= 10) ?? TIME_STEPS[TIME_STEPS.length - 1]!;
  const ticks: number[] = [];
  for (let t = 0; t <= tMax + 1e-9; t += step) ticks.push(t);
  return ticks;
}

/** 0 and round steps up to at least `max` (about five ticks); integers only for counts. */
export function valueTicks(max: number, integer: boolean): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  if (integer) step = Math.max(1, Math.ceil(step));
  const ticks: number[] = [];
  for (let v = 0; v < max + step - 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

function commonLabels(series: Series[]): SeriesLabels {
  if (series.length < 2) return {};
  const [first, ...rest] = series;
  return Object.fromEntries(
    Object.entries(first!.labels).filter(([k, v]) => rest.every((s) => s.labels[k] === v)),
  );
}

function eventColor(e: TimelineEvent): string {
  return e.type === 'Warning' ? '#dc2626' : '#475569';
}

function eventTitle(e: TimelineEvent, i: number): string {
  return `${i + 1}. ${formatOffset(e.t)} ${humanizeKind(e.kind)}${e.object ? ` — ${e.object}` : ''}: ${e.message}`;
}

function f(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}
