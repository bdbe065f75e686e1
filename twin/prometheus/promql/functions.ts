import { compileAnchored, expandTemplate, type RegexpError } from '../go-regexp.ts';
import { isValidLabelName, type Labels, LabelsBuilder, METRIC_NAME } from '../labels.ts';
import type { Call, Expr } from './ast.ts';
import { histogramQuantile, quantile } from './histogram-quantile.ts';
import {
  avgOverTime,
  changes,
  extrapolatedRate,
  holtWinters,
  instantValue,
  linearRegression,
  madOverTime,
  maxOverTime,
  minOverTime,
  resets,
  sumOverTime,
  varianceOverTime,
  type Window,
} from './range-vector-functions.ts';
import { PromQLExecutionError, type Sample, type Series, type Value } from './value.ts';

/**
 * The PromQL functions of Prometheus v2.54 over evaluated arguments (promql/functions.go). Results
 * drop the metric name except where Prometheus keeps it (last_over_time, label_replace,
 * label_join, sort, sort_desc, clamp keeps nothing: it drops it too).
 */
export interface RangeArg {
  series: Series[];
  rangeStart: number;
  rangeEnd: number;
  rangeMs: number;
}

export interface CallArgs {
  call: Call;
  /** Evaluated arguments; a range vector argument comes as RangeArg. */
  values: Array<Value | RangeArg>;
  /** The evaluation time. */
  t: number;
}

const drop = (labels: Labels) => labels.filter((l) => l.name !== METRIC_NAME);

function vectorArg(a: CallArgs, i: number): Sample[] {
  const v = a.values[i] as Value;
  return v.type === 'vector' ? v.samples : [];
}

function scalarArg(a: CallArgs, i: number): number {
  const v = a.values[i] as Value;
  return v.type === 'scalar' ? v.v : Number.NaN;
}

function stringArg(a: CallArgs, i: number): string {
  const v = a.values[i] as Value;
  return v.type === 'string' ? v.s : '';
}

function mapValues(a: CallArgs, f: (v: number) => number): Value {
  return {
    type: 'vector',
    samples: vectorArg(a, 0).map((s) => ({ labels: drop(s.labels), v: f(s.v), t: a.t })),
  };
}

/** A function over each series' points in the window. */
function overTime(a: CallArgs, f: (w: Window) => number | undefined, keepName = false): Value {
  const arg = a.values[0] as RangeArg;
  const out: Sample[] = [];
  for (const s of arg.series) {
    if (s.vs.length === 0) continue;
    const v = f({
      ts: s.ts,
      vs: s.vs,
      rangeStart: arg.rangeStart,
      rangeEnd: arg.rangeEnd,
      rangeMs: arg.rangeMs,
    });
    if (v !== undefined) out.push({ labels: keepName ? s.labels : drop(s.labels), v, t: a.t });
  }
  return { type: 'vector', samples: out };
}

function rangeWithScalar(
  a: CallArgs,
  scalarIndex: number,
  f: (w: Window, x: number) => number | undefined,
): Value {
  const x = scalarArg(a, scalarIndex);
  return overTime({ ...a, values: [a.values[scalarIndex === 0 ? 1 : 0]!] }, (w) => f(w, x));
}

/** Labels for absent()/absent_over_time(): the selector's equality matchers (a label matched twice is left out). */
function absentLabels(arg: Expr): Labels {
  let e = arg;
  while (e.type === 'ParenExpr') e = e.expr;
  const vs = e.type === 'VectorSelector' ? e : e.type === 'MatrixSelector' ? e.vs : undefined;
  if (!vs) return [];
  const lb = new LabelsBuilder();
  const has = new Set<string>();
  for (const m of vs.matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === '=' && !has.has(m.name)) {
      lb.set(m.name, m.value);
      has.add(m.name);
    } else lb.del(m.name);
  }
  return lb.labels();
}

function dateFunction(a: CallArgs, f: (d: Date) => number): Value {
  const input: Sample[] = a.values.length === 0 ? [{ labels: [], v: a.t / 1000, t: a.t }] : vectorArg(a, 0);
  return {
    type: 'vector',
    samples: input.map((s) => ({ labels: drop(s.labels), v: f(new Date(Math.trunc(s.v) * 1000)), t: a.t })),
  };
}

type Impl = (a: CallArgs) => Value;

const math1 =
  (f: (v: number) => number): Impl =>
  (a) =>
    mapValues(a, f);

export const FUNCTION_IMPLS: Record<string, Impl> = {
  abs: math1(Math.abs),
  ceil: math1(Math.ceil),
  floor: math1(Math.floor),
  exp: math1(Math.exp),
  sqrt: math1(Math.sqrt),
  ln: math1(Math.log),
  log2: math1(Math.log2),
  log10: math1(Math.log10),
  sin: math1(Math.sin),
  cos: math1(Math.cos),
  tan: math1(Math.tan),
  asin: math1(Math.asin),
  acos: math1(Math.acos),
  atan: math1(Math.atan),
  sinh: math1(Math.sinh),
  cosh: math1(Math.cosh),
  tanh: math1(Math.tanh),
  asinh: math1(Math.asinh),
  acosh: math1(Math.acosh),
  atanh: math1(Math.atanh),
  deg: math1((v) => (v * 180) / Math.PI),
  rad: math1((v) => (v * Math.PI) / 180),
  sgn: math1((v) => (v < 0 ? -1 : v > 0 ? 1 : v)),
  pi: () => ({ type: 'scalar', v: Math.PI }),
  time: (a) => ({ type: 'scalar', v: a.t / 1000 }),
  round: (a) => {
    const toNearest = a.values.length > 1 ? scalarArg(a, 1) : 1;
    const inverse = 1 / toNearest;
    return mapValues(a, (v) => Math.floor(v * inverse + 0.5) / inverse);
  },
  clamp: (a) => {
    const min = scalarArg(a, 1);
    const max = scalarArg(a, 2);
    if (max < min) return { type: 'vector', samples: [] };
    return mapValues(a, (v) => goMax(min, goMin(max, v)));
  },
  clamp_max: (a) => {
    const max = scalarArg(a, 1);
    return mapValues(a, (v) => goMin(max, v));
  },
  clamp_min: (a) => {
    const min = scalarArg(a, 1);
    return mapValues(a, (v) => goMax(min, v));
  },
  scalar: (a) => {
    const v = vectorArg(a, 0);
    return { type: 'scalar', v: v.length === 1 ? v[0]!.v : Number.NaN };
  },
  vector: (a) => ({ type: 'vector', samples: [{ labels: [], v: scalarArg(a, 0), t: a.t }] }),
  timestamp: (a) => ({
    type: 'vector',
    samples: vectorArg(a, 0).map((s) => ({ labels: drop(s.labels), v: s.t / 1000, t: a.t })),
  }),
  sort: (a) => ({ type: 'vector', samples: sortSamples(vectorArg(a, 0), false) }),
  sort_desc: (a) => ({ type: 'vector', samples: sortSamples(vectorArg(a, 0), true) }),
  absent: (a) =>
    vectorArg(a, 0).length > 0
      ? { type: 'vector', samples: [] }
      : { type: 'vector', samples: [{ labels: absentLabels(a.call.args[0]!), v: 1, t: a.t }] },
  absent_over_time: (a) =>
    (a.values[0] as RangeArg).series.some((s) => s.vs.length > 0)
      ? { type: 'vector', samples: [] }
      : { type: 'vector', samples: [{ labels: absentLabels(a.call.args[0]!), v: 1, t: a.t }] },
  present_over_time: (a) => overTime(a, () => 1),
  label_replace: (a) => {
    const dst = stringArg(a, 1);
    const replacement = stringArg(a, 2);
    const src = stringArg(a, 3);
    let re: RegExp;
    try {
      re = compileAnchored(stringArg(a, 4));
    } catch (err) {
      throw new PromQLExecutionError(
        `invalid regular expression in label_replace(): ${(err as RegexpError).message.replace(/^error parsing regexp: /, '')}`,
      );
    }
    if (!isValidLabelName(dst))
      throw new PromQLExecutionError(`invalid destination label name in label_replace(): ${dst}`);
    return {
      type: 'vector',
      samples: vectorArg(a, 0).map((s) => {
        const m = re.exec(s.labels.find((l) => l.name === src)?.value ?? '');
        if (!m) return { ...s, t: a.t };
        return {
          labels: new LabelsBuilder(s.labels).set(dst, expandTemplate(replacement, m)).labels(),
          v: s.v,
          t: a.t,
        };
      }),
    };
  },
  label_join: (a) => {
    const dst = stringArg(a, 1);
    const sep = stringArg(a, 2);
    const srcs = a.values.slice(3).map((_, i) => stringArg(a, i + 3));
    for (const src of srcs)
      if (!isValidLabelName(src))
        throw new PromQLExecutionError(`invalid source label name in label_join(): ${src}`);
    if (!isValidLabelName(dst))
      throw new PromQLExecutionError(`invalid destination label name in label_join(): ${dst}`);
    return {
      type: 'vector',
      samples: vectorArg(a, 0).map((s) => {
        const joined = srcs.map((n) => s.labels.find((l) => l.name === n)?.value ?? '').join(sep);
        return { labels: new LabelsBuilder(s.labels).set(dst, joined).labels(), v: s.v, t: a.t };
      }),
    };
  },
  histogram_quantile: (a) => ({
    type: 'vector',
    samples: histogramQuantile(scalarArg(a, 0), vectorArg(a, 1), a.t),
  }),
  // Native histograms only: the twin scrapes none, and float samples are ignored, as in Prometheus.
  histogram_avg: () => ({ type: 'vector', samples: [] }),
  histogram_count: () => ({ type: 'vector', samples: [] }),
  histogram_sum: () => ({ type: 'vector', samples: [] }),
  histogram_stddev: () => ({ type: 'vector', samples: [] }),
  histogram_stdvar: () => ({ type: 'vector', samples: [] }),
  histogram_fraction: () => ({ type: 'vector', samples: [] }),
  rate: (a) => overTime(a, (w) => extrapolatedRate(w, true, true)),
  increase: (a) => overTime(a, (w) => extrapolatedRate(w, true, false)),
  delta: (a) => overTime(a, (w) => extrapolatedRate(w, false, false)),
  irate: (a) => overTime(a, (w) => instantValue(w, true)),
  idelta: (a) => overTime(a, (w) => instantValue(w, false)),
  deriv: (a) => overTime(a, (w) => (w.vs.length < 2 ? undefined : linearRegression(w, w.ts[0]!)[0])),
  predict_linear: (a) =>
    rangeWithScalar(a, 1, (w, seconds) => {
      if (w.vs.length < 2) return undefined;
      const [slope, intercept] = linearRegression(w, a.t);
      return slope * seconds + intercept;
    }),
  holt_winters: (a) => {
    const sf = scalarArg(a, 1);
    const tf = scalarArg(a, 2);
    if (sf <= 0 || sf >= 1)
      throw new PromQLExecutionError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf}`);
    if (tf <= 0 || tf >= 1)
      throw new PromQLExecutionError(`invalid trend factor. Expected: 0 < tf < 1, got: ${tf}`);
    return overTime({ ...a, values: [a.values[0]!] }, (w) => holtWinters(w.vs, sf, tf));
  },
  changes: (a) => overTime(a, (w) => changes(w.vs)),
  resets: (a) => overTime(a, (w) => resets(w.vs)),
  avg_over_time: (a) => overTime(a, (w) => avgOverTime(w.vs)),
  sum_over_time: (a) => overTime(a, (w) => sumOverTime(w.vs)),
  count_over_time: (a) => overTime(a, (w) => w.vs.length),
  min_over_time: (a) => overTime(a, (w) => minOverTime(w.vs)),
  max_over_time: (a) => overTime(a, (w) => maxOverTime(w.vs)),
  last_over_time: (a) => overTime(a, (w) => w.vs.at(-1), true),
  stddev_over_time: (a) => overTime(a, (w) => Math.sqrt(varianceOverTime(w.vs))),
  stdvar_over_time: (a) => overTime(a, (w) => varianceOverTime(w.vs)),
  mad_over_time: (a) => overTime(a, (w) => madOverTime(w.vs)),
  quantile_over_time: (a) => rangeWithScalar(a, 0, (w, q) => quantile(q, w.vs)),
  sort_by_label: (a) => ({ type: 'vector', samples: sortByLabel(a, false) }),
  sort_by_label_desc: (a) => ({ type: 'vector', samples: sortByLabel(a, true) }),
  year: (a) => dateFunction(a, (d) => d.getUTCFullYear()),
  month: (a) => dateFunction(a, (d) => d.getUTCMonth() + 1),
  day_of_month: (a) => dateFunction(a, (d) => d.getUTCDate()),
  day_of_week: (a) => dateFunction(a, (d) => d.getUTCDay()),
  day_of_year: (a) =>
    dateFunction(a, (d) => Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1),
  days_in_month: (a) =>
    dateFunction(a, (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()),
  hour: (a) => dateFunction(a, (d) => d.getUTCHours()),
  minute: (a) => dateFunction(a, (d) => d.getUTCMinutes()),
};

/** Go's math.Max/Min: NaN wins, and ±0 are ordered. */
function goMax(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
  return Math.max(x, y);
}

function goMin(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
  return Math.min(x, y);
}

/** sort/sort_desc: by value, NaN last in both directions (vectorByValueHeap / vectorByReverseValueHeap). */
function sortSamples(samples: Sample[], desc: boolean): Sample[] {
  return [...samples].sort((x, y) => {
    if (Number.isNaN(x.v)) return Number.isNaN(y.v) ? 0 : 1;
    if (Number.isNaN(y.v)) return -1;
    return desc ? y.v - x.v : x.v - y.v;
  });
}

function sortByLabel(a: CallArgs, desc: boolean): Sample[] {
  const names = a.values.slice(1).map((_, i) => stringArg(a, i + 1));
  const get = (s: Sample, n: string) => s.labels.find((l) => l.name === n)?.value ?? '';
  return [...vectorArg(a, 0)].sort((x, y) => {
    for (const n of names) {
      const c = get(x, n).localeCompare(get(y, n), undefined, { numeric: true });
      if (c !== 0) return desc ? -c : c;
    }
    return 0;
  });
}
