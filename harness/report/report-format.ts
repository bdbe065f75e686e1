/** Number and time formats shared by the report's tables and plot axes. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const abs = Math.abs(v);
  const digits = abs === 0 || abs >= 1000 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: digits }).format(v);
}

/** Control-plane offsets on the axis and in the events table: "45s", "2:05", "1:02:05". */
export function formatOffset(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return `${m}:${String(s).padStart(2, '0')}`;
}

/** A duration for people: "850 ms", "12.4 s", "3 min 20 s", "1 h 5 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(ms < 10_000 ? 2 : 1))} s`;
  const totalS = Math.round(ms / 1000);
  const join = (a: number, unitA: string, b: number, unitB: string) =>
    b === 0 ? `${a} ${unitA}` : `${a} ${unitA} ${b} ${unitB}`;
  if (totalS < 3600) return join(Math.floor(totalS / 60), 'min', totalS % 60, 's');
  return join(Math.floor(totalS / 3600), 'h', Math.floor((totalS % 3600) / 60), 'min');
}

export function durationBetween(from: string, to: string): number {
  return Date.parse(to) - Date.parse(from);
}

/** "WeightChanged" → "weight changed"; text with spaces is kept. */
export function humanizeKind(kind: string): string {
  if (/\s/.test(kind)) return kind;
  return kind
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[-_]+/g, ' ')
    .toLowerCase();
}
