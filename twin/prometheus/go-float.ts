/**
 * Go's float text forms as Prometheus uses them: strconv.ParseFloat for sample values and `le`
 * labels ("+Inf", "Inf", "NaN", hex floats, "1_000" only with a base prefix), and
 * strconv.FormatFloat(f, 'f', -1, 64) for values in the HTTP API (no exponent, shortest digits).
 */
export function parseGoFloat(text: string): number | undefined {
  const s = text.trim() === text ? text : undefined;
  if (s === undefined || s === '') return undefined;
  const lower = s.toLowerCase();
  const unsigned = lower.replace(/^[+-]/, '');
  const sign = lower.startsWith('-') ? -1 : 1;
  if (unsigned === 'inf' || unsigned === 'infinity') return sign * Number.POSITIVE_INFINITY;
  if (unsigned === 'nan') return Number.NaN;
  if (/^0x/.test(unsigned)) {
    const m = /^0x([0-9a-f_]*)(?:\.([0-9a-f_]*))?p([+-]?\d+)$/.exec(unsigned);
    if (!m || m[1]!.replaceAll('_', '') + (m[2] ?? '').replaceAll('_', '') === '') {
      if (/^0x[0-9a-f]+$/.test(unsigned)) return undefined; // hex floats need an exponent
      return undefined;
    }
    const int = m[1]!.replaceAll('_', '');
    const frac = (m[2] ?? '').replaceAll('_', '');
    const mantissa = Number.parseInt(int + frac || '0', 16) / 16 ** frac.length;
    return sign * mantissa * 2 ** Number(m[3]);
  }
  if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(unsigned)) return undefined;
  return sign * Number(unsigned);
}

/** strconv.FormatFloat(v, 'f', -1, 64): the shortest decimal that reads back as v, never with an exponent. */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  const s = String(v);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, first, rest = '', expText] = m;
  const digits = first! + rest;
  const exp = Number(expText);
  const point = 1 + exp; // digits before the decimal point
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
