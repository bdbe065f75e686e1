const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const FIELDS: Array<{ name: string; min: number; max: number; names?: string[] }> = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/**
 * What is wrong with a CronJob schedule, or undefined: five fields (numbers, names, ranges, lists,
 * steps, `*`, `?`) or a macro such as @hourly, as the CronJob controller's parser (robfig/cron) reads it.
 */
export function cronScheduleProblem(schedule: unknown): string | undefined {
  if (typeof schedule !== 'string' || schedule.trim() === '') return 'is required';
  const s = schedule.trim();
  if (/^(CRON_)?TZ=/.test(s))
    return `${JSON.stringify(s)}: CRON_TZ or TZ is not supported, use spec.timeZone`;
  if (s.startsWith('@')) {
    if (MACROS.has(s) || /^@every \d+(\.\d+)?(ns|us|µs|ms|s|m|h)(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))*$/.test(s)) {
      return undefined;
    }
    return `${JSON.stringify(s)} is not a known macro (@yearly, @monthly, @weekly, @daily, @hourly, @every <duration>)`;
  }
  const parts = s.split(/\s+/);
  if (parts.length !== 5)
    return `${JSON.stringify(s)} has ${parts.length} fields; expected 5 (minute hour day-of-month month day-of-week)`;
  for (let i = 0; i < 5; i++) {
    const field = FIELDS[i]!;
    if (!validField(parts[i]!, field))
      return `${JSON.stringify(s)}: invalid ${field.name} field ${JSON.stringify(parts[i])}`;
  }
  return undefined;
}

function validField(text: string, field: (typeof FIELDS)[number]): boolean {
  const value = (v: string): number | undefined => {
    if (/^\d+$/.test(v)) return Number(v);
    const i = field.names?.indexOf(v.toLowerCase()) ?? -1;
    return i >= 0 ? i + (field.min === 1 ? 1 : 0) : undefined;
  };
  return text.split(',').every((item) => {
    const [range, step, extra] = item.split('/');
    if (extra !== undefined || (step !== undefined && !/^[1-9]\d*$/.test(step))) return false;
    if (range === '*' || range === '?') return true;
    const [lo, hi, more] = range!.split('-');
    if (more !== undefined) return false;
    const a = value(lo!);
    const b = hi === undefined ? a : value(hi);
    return a !== undefined && b !== undefined && a >= field.min && b <= field.max && a <= b;
  });
}
