import type { ValueType } from './ast.ts';

/**
 * The PromQL functions of Prometheus v2.54 (promql/parser/functions.go): argument types, how many
 * trailing arguments are optional (`variadic`: 0 none, n up to n more, -1 any number), and the
 * result type. Experimental ones are rejected unless enabled, as in Prometheus.
 */
export interface FunctionDef {
  name: string;
  argTypes: ValueType[];
  variadic: number;
  returnType: ValueType;
  experimental?: boolean;
}

const v: ValueType = 'vector';
const m: ValueType = 'matrix';
const s: ValueType = 'scalar';
const str: ValueType = 'string';

const defs: FunctionDef[] = [
  { name: 'abs', argTypes: [v], variadic: 0, returnType: v },
  { name: 'absent', argTypes: [v], variadic: 0, returnType: v },
  { name: 'absent_over_time', argTypes: [m], variadic: 0, returnType: v },
  { name: 'acos', argTypes: [v], variadic: 0, returnType: v },
  { name: 'acosh', argTypes: [v], variadic: 0, returnType: v },
  { name: 'asin', argTypes: [v], variadic: 0, returnType: v },
  { name: 'asinh', argTypes: [v], variadic: 0, returnType: v },
  { name: 'atan', argTypes: [v], variadic: 0, returnType: v },
  { name: 'atanh', argTypes: [v], variadic: 0, returnType: v },
  { name: 'avg_over_time', argTypes: [m], variadic: 0, returnType: v },
  { name: 'ceil', argTypes: [v], variadic: 0, returnType: v },
  { name: 'changes', argTypes: [m], variadic: 0, returnType: v },
  { name: 'clamp', argTypes: [v, s, s], variadic: 0, returnType: v },
  { name: 'clamp_max', argTypes: [v, s], variadic: 0, returnType: v },
  { name: 'clamp_min', argTypes: [v, s], variadic: 0, returnType: v },
  { name: 'cos', argTypes: [v], variadic: 0, returnType: v },
  { name: 'cosh', argTypes: [v], variadic: 0, returnType: v },
  { name: 'count_over_time', argTypes: [m], variadic: 0, returnType: v },
  { name: 'days_in_month', argTypes: [v], variadic: 1, returnType: v },
  { name: 'day_of_month', argTypes: [v], variadic: 1, returnType: v },
  { name: 'day_of_week', argTypes: [v], variadic: 1, returnType: v },
  { name: 'day_of_year', argTypes: [v], variadic: 1, returnType: v },
  { name: 'deg', argTypes: [v], variadic: 0, returnType: v },
  { name: 'delta', argTypes: [m], variadic: 0, returnType: v },
  { name: 'deriv', argTypes: [m], variadic: 0, returnType: v },
  { name: 'exp', argTypes: [v], variadic: 0, returnType: v },
  { name: 'floor', argTypes: [v], variadic: 0, returnType: v },
  { name: 'histogram_avg', argTypes: [v], variadic: 0, returnType: v },
  { name: 'histogram_count', argTypes: [v], variadic: 0, returnType: v },
  { name: 'histogram_fraction', argTypes: [s, s, v], variadic: 0, returnType: v },
  { name: 'histogram_quantile', argTypes: [s, v], variadic: 0, returnType: v },
  { name: 'histogram_stddev', argTypes: [v], variadic: 0, returnType: v },
  { name: 'histogram_stdvar', argTypes: [v], variadic: 0, returnType: v },
  { name: 'histogram_sum', argTypes: [v], variadic: 0, returnType: v },
  { name: 'holt_winters', argTypes: [m, s, s], variadic: 0, returnType: v },
  { name: 'hour', argTypes: [v], variadic: 1, returnType: v },
  { name: 'idelta', argTypes: [m], variadic: 0, returnType: v },
  { name: 'increase', argTypes: [m], variadic: 0, returnType: v },
  { name: 'irate', argTypes: [m], variadic: 0, returnType: v },
  { name: 'label_replace', argTypes: [v, str, str, str, str], variadic: 0, returnType: v },
  { name: 'label_join', argTypes: [v, str, str, str], variadic: -1, returnType: v },
  { name: 'last_over_time', argTypes: [m], variadic: 0, returnType: v },
  { name: 'ln', argTypes: [v], variadic: 0, returnType: v },
  { name: 'log10', argTypes: [v], variadic: 0, returnType: v },
  { name: 'log2', argTypes: [v], variadic: 0, returnType: v },
  { name: 'mad_over_time', argTypes: [m], variadic: 0, returnType: v, experimental: true },
  { name: 'max_over_time', argTypes: [m], variadic: 0, returnType: v },
  { name: 'min_over_time', argTypes: [m], variadic: 0, returnType: v },
  { name: 'minute', argTypes: [v], variadic: 1, returnType: v },
  { name: 'month', argTypes: [v], variadic: 1, returnType: v },
  { name: 'pi', argTypes: [], variadic: 0, returnType: s },
  { name: 'predict_linear', argTypes: [m, s], variadic: 0, returnType: v },
  { name: 'present_over_time', argTypes: [m], variadic: 0, returnType: v },
  { name: 'quantile_over_time', argTypes: [s, m], variadic: 0, returnType: v },
  { name: 'rad', argTypes: [v], variadic: 0, returnType: v },
  { name: 'rate', argTypes: [m], variadic: 0, returnType: v },
  { name: 'resets', argTypes: [m], variadic: 0, returnType: v },
  { name: 'round', argTypes: [v, s], variadic: 1, returnType: v },
  { name: 'scalar', argTypes: [v], variadic: 0, returnType: s },
  { name: 'sgn', argTypes: [v], variadic: 0, returnType: v },
  { name: 'sin', argTypes: [v], variadic: 0, returnType: v },
  { name: 'sinh', argTypes: [v], variadic: 0, returnType: v },
  { name: 'sort', argTypes: [v], variadic: 0, returnType: v },
  { name: 'sort_desc', argTypes: [v], variadic: 0, returnType: v },
  { name: 'sort_by_label', argTypes: [v, str], variadic: -1, returnType: v, experimental: true },
  { name: 'sort_by_label_desc', argTypes: [v, str], variadic: -1, returnType: v, experimental: true },
  { name: 'sqrt', argTypes: [v], variadic: 0, returnType: v },
  { name: 'stddev_over_time', argTypes: [m], variadic: 0, returnType: v },
  { name: 'stdvar_over_time', argTypes: [m], variadic: 0, returnType: v },
  { name: 'sum_over_time', argTypes: [m], variadic: 0, returnType: v },
  { name: 'tan', argTypes: [v], variadic: 0, returnType: v },
  { name: 'tanh', argTypes: [v], variadic: 0, returnType: v },
  { name: 'time', argTypes: [], variadic: 0, returnType: s },
  { name: 'timestamp', argTypes: [v], variadic: 0, returnType: v },
  { name: 'vector', argTypes: [s], variadic: 0, returnType: v },
  { name: 'year', argTypes: [v], variadic: 1, returnType: v },
];

export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map(defs.map((d) => [d.name, d]));
