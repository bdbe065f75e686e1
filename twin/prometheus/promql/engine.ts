import { compareLabels, type Labels, labelsKey } from '../labels.ts';
import type { MemSeries } from '../tsdb/head.ts';
import type { LabelMatcher } from '../tsdb/label-matcher.ts';
import { aggregate } from './aggregation.ts';
import type { AtModifier, Expr, MatrixSelector, SubqueryExpr, VectorSelector } from './ast.ts';
import { scalarBinop, vectorBinop, vectorScalarBinop } from './binary-operation.ts';
import { type CallArgs, FUNCTION_IMPLS, type RangeArg } from './functions.ts';
import { type ParseOptions, parsePromQL } from './parser.ts';
import { PromQLExecutionError, PromQLTimeoutError, type Sample, type Series, type Value } from './value.ts';

/** Where the engine reads series from (the TSDB head). */
export interface Queryable {
  select(matchers: readonly LabelMatcher[]): MemSeries[];
}

export interface EngineOptions extends ParseOptions {
  /** --query.lookback-delta (5m by default). */
  lookbackDeltaMs: number;
  /** The step of a subquery without one: the global evaluation_interval. */
  defaultEvaluationIntervalMs: () => number;
  /** --query.timeout, in real milliseconds. */
  timeoutMs: number;
  /** --query.max-samples. */
  maxSamples: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  lookbackDeltaMs: 5 * 60_000,
  defaultEvaluationIntervalMs: () => 60_000,
  timeoutMs: 2 * 60_000,
  maxSamples: 50_000_000,
};

/** An instant query's result: what /api/v1/query returns. */
export type InstantResult =
  | { type: 'scalar'; t: number; v: number }
  | { type: 'string'; t: number; s: string }
  | { type: 'vector'; t: number; samples: Sample[] }
  | { type: 'matrix'; series: Series[] };

/** Immutable inputs of one evaluation step. */
interface Step {
  t: number;
  start: number;
  end: number;
}

/**
 * Evaluates PromQL as Prometheus' engine does (promql/engine.go, v2.54 semantics): instant
 * selectors look back `lookbackDelta` (inclusive) for the latest sample, a staleness marker ends a
 * series, range selectors take the closed window [t - range, t], `offset` and `@` move the
 * reference time, subqueries evaluate their expression at multiples of their step. A range query is
 * the instant evaluation at each step, merged by label set.
 */
export class Engine {
  constructor(
    private readonly storage: Queryable,
    private readonly options: EngineOptions = DEFAULT_ENGINE_OPTIONS,
  ) {}

  parse(query: string): Expr {
    return parsePromQL(query, this.options);
  }

  instantQuery(query: string | Expr, t: number): InstantResult {
    const expr = typeof query === 'string' ? this.parse(query) : query;
    const run = new Evaluation(this.storage, this.options);
    const v = run.eval(expr, { t, start: t, end: t });
    switch (v.type) {
      case 'scalar':
        return { type: 'scalar', t, v: v.v };
      case 'string':
        return { type: 'string', t, s: v.s };
      case 'vector':
        return { type: 'vector', t, samples: v.samples };
      case 'matrix':
        return { type: 'matrix', series: v.series };
    }
  }

  /** The steps start, start+step, … ≤ end; the result is always a matrix sorted by labels. */
  rangeQuery(query: string | Expr, start: number, end: number, step: number): Series[] {
    const expr = typeof query === 'string' ? this.parse(query) : query;
    const run = new Evaluation(this.storage, this.options);
    const byKey = new Map<string, Series>();
    for (let t = start; t <= end; t += step) {
      const v = run.eval(expr, { t, start, end });
      if (v.type === 'scalar') add(byKey, [], t, v.v);
      else if (v.type === 'vector') for (const s of v.samples) add(byKey, s.labels, t, s.v);
      run.checkTimeout();
    }
    return [...byKey.values()].sort((a, b) => compareLabels(a.labels, b.labels));
  }
}

function add(byKey: Map<string, Series>, labels: Labels, t: number, v: number): void {
  const key = labelsKey(labels);
  let s = byKey.get(key);
  if (!s) {
    s = { labels, ts: [], vs: [] };
    byKey.set(key, s);
  }
  s.ts.push(t);
  s.vs.push(v);
}

class Evaluation {
  private readonly selected = new Map<VectorSelector, MemSeries[]>();
  private readonly deadline: number;
  private samples = 0;

  constructor(
    private readonly storage: Queryable,
    private readonly options: EngineOptions,
  ) {
    this.deadline = performance.now() + options.timeoutMs;
  }

  checkTimeout(): void {
    if (performance.now() > this.deadline)
      throw new PromQLTimeoutError('query timed out in expression evaluation');
  }

  private countSamples(n: number): void {
    this.samples += n;
    if (this.samples > this.options.maxSamples)
      throw new PromQLExecutionError(
        'query processing would load too many samples into memory in query execution',
      );
  }

  private series(vs: VectorSelector): MemSeries[] {
    let s = this.selected.get(vs);
    if (!s) {
      s = this.storage.select(vs.matchers);
      this.selected.set(vs, s);
    }
    return s;
  }

  private refTime(at: AtModifier | undefined, offsetMs: number, step: Step): number {
    const base = at === undefined ? step.t : at === 'start' ? step.start : at === 'end' ? step.end : at;
    return base - offsetMs;
  }

  eval(e: Expr, step: Step): Value {
    switch (e.type) {
      case 'NumberLiteral':
        return { type: 'scalar', v: e.value };
      case 'StringLiteral':
        return { type: 'string', s: e.value };
      case 'ParenExpr':
        return this.eval(e.expr, step);
      case 'VectorSelector':
        return { type: 'vector', samples: this.instantVector(e, step) };
      case 'MatrixSelector':
      case 'SubqueryExpr':
        return { type: 'matrix', series: this.rangeArg(e, step).series };
      case 'UnaryExpr': {
        const v = this.eval(e.expr, step);
        if (e.op === '+') return v;
        if (v.type === 'scalar') return { type: 'scalar', v: -v.v };
        if (v.type !== 'vector') return v;
        return unique({
          type: 'vector',
          samples: v.samples.map((s) => ({
            labels: s.labels.filter((l) => l.name !== '__name__'),
            v: -s.v,
            t: step.t,
          })),
        });
      }
      case 'BinaryExpr': {
        const l = this.eval(e.lhs, step);
        const r = this.eval(e.rhs, step);
        if (l.type === 'scalar' && r.type === 'scalar')
          return { type: 'scalar', v: scalarBinop(e.op, l.v, r.v) };
        if (l.type === 'vector' && r.type === 'scalar')
          return unique({
            type: 'vector',
            samples: vectorScalarBinop(e.op, l.samples, r.v, false, e.returnBool, step.t),
          });
        if (l.type === 'scalar' && r.type === 'vector')
          return unique({
            type: 'vector',
            samples: vectorScalarBinop(e.op, r.samples, l.v, true, e.returnBool, step.t),
          });
        if (l.type === 'vector' && r.type === 'vector')
          return unique({
            type: 'vector',
            samples: vectorBinop(e.op, l.samples, r.samples, e.matching!, e.returnBool, step.t),
          });
        throw new PromQLExecutionError('binary expression must contain only scalar and instant vector types');
      }
      case 'AggregateExpr': {
        const v = this.eval(e.expr, step);
        let param: number | string | undefined;
        if (e.param) {
          const p = this.eval(e.param, step);
          param = p.type === 'scalar' ? p.v : p.type === 'string' ? p.s : undefined;
        }
        const samples = v.type === 'vector' ? v.samples : [];
        return { type: 'vector', samples: aggregate(e.op, samples, e.grouping, e.without, param, step.t) };
      }
      case 'Call': {
        const impl = FUNCTION_IMPLS[e.func.name];
        if (!impl)
          throw new PromQLExecutionError(
            `function ${JSON.stringify(e.func.name)} is not supported by the twin's Prometheus`,
          );
        const values = e.args.map((a, i) => {
          const t = e.func.argTypes[Math.min(i, e.func.argTypes.length - 1)];
          if (t === 'matrix') return this.rangeArg(unwrap(a) as MatrixSelector | SubqueryExpr, step);
          if (e.func.name === 'timestamp' && unwrap(a).type === 'VectorSelector')
            return {
              type: 'vector' as const,
              samples: this.instantVector(unwrap(a) as VectorSelector, step),
            };
          // Only a selector given straight to timestamp() keeps its samples' own times.
          const v = this.eval(a, step);
          return v.type === 'vector' ? { ...v, samples: v.samples.map((s) => ({ ...s, t: step.t })) } : v;
        });
        const args: CallArgs = { call: e, values, t: step.t };
        const out = impl(args);
        return out.type === 'vector' ? unique(out) : out;
      }
    }
  }

  /** The latest sample at or before the reference time, within the lookback delta, unless it is stale. */
  private instantVector(vs: VectorSelector, step: Step): Sample[] {
    const ref = this.refTime(vs.at, vs.offsetMs, step);
    const mint = ref - this.options.lookbackDeltaMs;
    const out: Sample[] = [];
    for (const s of this.series(vs)) {
      const i = s.upperBound(ref) - 1;
      if (i < 0) continue;
      const t = s.ts[i]!;
      if (t < mint || s.stale[i] === 1) continue;
      out.push({ labels: s.labels, v: s.vs[i]!, t });
    }
    this.countSamples(out.length);
    return out;
  }

  rangeArg(e: MatrixSelector | SubqueryExpr, step: Step): RangeArg {
    if (e.type === 'MatrixSelector') {
      const ref = this.refTime(e.vs.at, e.vs.offsetMs, step);
      const mint = ref - e.rangeMs;
      const series: Series[] = [];
      let n = 0;
      for (const s of this.series(e.vs)) {
        const ts: number[] = [];
        const vs: number[] = [];
        for (let i = s.lowerBound(mint); i < s.length && s.ts[i]! <= ref; i++) {
          if (s.stale[i] === 1) continue;
          ts.push(s.ts[i]!);
          vs.push(s.vs[i]!);
        }
        n += ts.length;
        if (ts.length > 0) series.push({ labels: s.labels, ts, vs });
      }
      this.countSamples(n);
      return { series, rangeStart: mint, rangeEnd: ref, rangeMs: e.rangeMs };
    }
    const ref = this.refTime(e.at, e.offsetMs, step);
    const interval = e.stepMs || this.options.defaultEvaluationIntervalMs();
    const from = ref - e.rangeMs;
    let t = interval * Math.trunc(from / interval);
    if (t < from) t += interval;
    const byKey = new Map<string, Series>();
    for (; t <= ref; t += interval) {
      const v = this.eval(e.expr, { ...step, t });
      if (v.type === 'vector') for (const s of v.samples) add(byKey, s.labels, t, s.v);
      this.checkTimeout();
    }
    return { series: [...byKey.values()], rangeStart: from, rangeEnd: ref, rangeMs: e.rangeMs };
  }
}

function unwrap(e: Expr): Expr {
  return e.type === 'ParenExpr' ? unwrap(e.expr) : e;
}

/** Prometheus fails a step whose vector holds two samples with one label set. */
function unique(v: Value): Value {
  if (v.type !== 'vector' || v.samples.length < 2) return v;
  const seen = new Set<string>();
  for (const s of v.samples) {
    const key = labelsKey(s.labels);
    if (seen.has(key)) throw new PromQLExecutionError('vector cannot contain metrics with the same labelset');
    seen.add(key);
  }
  return v;
}
