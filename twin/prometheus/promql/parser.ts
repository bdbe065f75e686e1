import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { parseGoFloat } from '../go-float.ts';
import { unquoteGoString } from '../go-quote.ts';
import { isValidLabelName, METRIC_NAME } from '../labels.ts';
import { isPrometheusDuration, parsePrometheusDuration } from '../prometheus-duration.ts';
import { type LabelMatcher, labelMatcher, matchesLabel } from '../tsdb/label-matcher.ts';
import {
  type AggregateOp,
  type AtModifier,
  type BinaryOp,
  COMPARISON_OPS,
  type Expr,
  type MatrixSelector,
  type PositionRange,
  SET_OPS,
  type SubqueryExpr,
  typeName,
  typeOf,
  type ValueType,
  type VectorMatching,
  type VectorSelector,
} from './ast.ts';
import { FUNCTIONS } from './function-defs.ts';

/**
 * PromQL parsed with the grammar Prometheus' own UI uses (@prometheus-io/lezer-promql), then built
 * into Prometheus' AST and type-checked as promql/parser does (checkAST), with its messages:
 * `1:6: parse error: expected type range vector in call to function "rate", got instant vector`.
 * Syntax newer than Prometheus v2.54 that the grammar knows (duration arithmetic, fill modifiers,
 * anchored/smoothed, quoted UTF-8 label names) is rejected as v2.54 rejects it.
 */
export class PromQLParseError extends Error {
  override name = 'PromQLParseError';
  constructor(
    readonly query: string,
    readonly pos: number,
    readonly detail: string,
  ) {
    super(`${positionOf(query, pos)}: parse error: ${detail}`);
  }
}

function positionOf(query: string, pos: number): string {
  const before = query.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - (before.lastIndexOf('\n') + 1) + 1;
  return `${line}:${col}`;
}

export interface ParseOptions {
  /** Experimental functions (`--enable-feature=promql-experimental-functions`). */
  experimentalFunctions?: boolean;
}

// holt_winters (v2.54's name; the grammar knows it by its later name) is parsed as
// double_exponential_smoothing, which v2.54 itself does not know.
const HOLT_WINTERS = 'holt_winters';
const GRAMMAR_NAME = 'double_exponential_smoothing';

export function parsePromQL(query: string, options: ParseOptions = {}): Expr {
  if (query.trim() === '') throw new PromQLParseError(query, 0, 'no expression found in input');
  let text = query;
  const renamed: number[] = [];
  let tree = parser.parse(text);
  for (;;) {
    const at = unknownFunctionAt(text, tree.topNode);
    if (at === undefined || !text.startsWith(`${HOLT_WINTERS}(`, at)) break;
    text = text.slice(0, at) + GRAMMAR_NAME + text.slice(at + HOLT_WINTERS.length);
    renamed.push(at);
    tree = parser.parse(text);
  }
  const original = (pos: number) =>
    pos - renamed.filter((r) => r < pos).length * (GRAMMAR_NAME.length - HOLT_WINTERS.length);
  try {
    return parseTree(text, tree.topNode, options, renamed);
  } catch (err) {
    if (err instanceof PromQLParseError && renamed.length > 0)
      throw new PromQLParseError(query, original(err.pos), err.detail);
    throw err;
  }
}

function unknownFunctionAt(query: string, top: SyntaxNode): number | undefined {
  const cursor = top.cursor();
  do {
    if (!cursor.type.isError) continue;
    const prev = cursor.node.prevSibling;
    if (prev?.name === 'Identifier' && query[cursor.from] === '(') return prev.from;
    return undefined;
  } while (cursor.next());
  return undefined;
}

function parseTree(query: string, topNode: SyntaxNode, options: ParseOptions, renamed: number[]): Expr {
  const tree = { topNode };
  reportSyntaxErrors(query, tree.topNode);
  const builder = new AstBuilder(query, options, renamed);
  const top = tree.topNode.firstChild;
  if (!top) throw new PromQLParseError(query, 0, 'no expression found in input');
  const expr = builder.expr(top);
  builder.check(expr);
  return expr;
}

const AGGREGATORS = [
  'sum',
  'avg',
  'count',
  'min',
  'max',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'count_values',
  'quantile',
];
const KEYWORDS = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool'];

function describeAt(query: string, pos: number): string {
  const rest = query.slice(pos);
  if (rest.trim() === '') return 'end of input';
  const t = rest.trimStart();
  const m =
    /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(t) ??
    /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[a-z]*/.exec(t) ??
    /^("([^"\\]|\\.)*"?|'([^'\\]|\\.)*'?|`[^`]*`?)/.exec(t);
  if (m) {
    const text = m[0];
    if (/^["'`]/.test(text)) return `string ${JSON.stringify(text)}`;
    if (/^[\d.]/.test(text)) return `number ${JSON.stringify(text)}`;
    // Operators, aggregators and keywords as Prometheus' lexer items print themselves.
    const lower = text.toLowerCase();
    if (['atan2', 'and', 'or', 'unless'].includes(lower)) return `<op:${text}>`;
    if (AGGREGATORS.includes(lower)) return `<aggr:${text}>`;
    if (KEYWORDS.includes(lower)) return `<${text}>`;
    return `identifier ${JSON.stringify(text)}`;
  }
  const names: Record<string, string> = {
    '(': 'left parenthesis "("',
    ')': 'right parenthesis ")"',
    '[': 'left bracket "["',
    ']': 'right bracket "]"',
    '{': 'left brace "{"',
    '}': 'right brace "}"',
    ',': 'comma ","',
  };
  return names[t[0]!] ?? `character ${JSON.stringify(t[0])}`;
}

function reportSyntaxErrors(query: string, top: SyntaxNode): void {
  const cursor = top.cursor();
  do {
    if (!cursor.type.isError) continue;
    const node = cursor.node;
    const prev = node.prevSibling;
    if (prev?.name === 'Identifier' && query[node.from] === '(') {
      const name = query.slice(prev.from, prev.to);
      if (['atan2', 'and', 'or', 'unless'].includes(name.toLowerCase()))
        throw new PromQLParseError(query, prev.from, `unexpected <op:${name}>`);
      throw new PromQLParseError(query, prev.from, `unknown function with name ${JSON.stringify(name)}`);
    }
    // Grammar the twin knows to be newer than v2.54 shows up inside error nodes as its keywords.
    throw new PromQLParseError(query, node.from, `unexpected ${describeAt(query, node.from)}`);
  } while (cursor.next());
}

const NEWER_SYNTAX = new Set([
  'AnchoredExpr',
  'SmoothedExpr',
  'FillModifier',
  'QuotedLabelMatcher',
  'QuotedLabelName',
  'DurationStep',
  'DurationRange',
  'DurationMinOf',
  'DurationMaxOf',
]);

class AstBuilder {
  constructor(
    private readonly query: string,
    private readonly options: ParseOptions,
    /** Where holt_winters was renamed for the grammar. */
    private readonly renamed: number[] = [],
  ) {}

  private text(n: SyntaxNode): string {
    return this.query.slice(n.from, n.to);
  }

  private pos(n: SyntaxNode): PositionRange {
    return { start: n.from, end: n.to };
  }

  private fail(n: SyntaxNode | number, detail: string): never {
    throw new PromQLParseError(this.query, typeof n === 'number' ? n : n.from, detail);
  }

  private children(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
    return out;
  }

  expr(n: SyntaxNode): Expr {
    if (NEWER_SYNTAX.has(n.name)) this.fail(n, `unexpected ${describeAt(this.query, n.from)}`);
    switch (n.name) {
      case 'NumberDurationLiteral':
        return { type: 'NumberLiteral', value: this.number(n), pos: this.pos(n) };
      case 'StringLiteral':
        return { type: 'StringLiteral', value: this.string(n), pos: this.pos(n) };
      case 'VectorSelector':
        return this.vectorSelector(n);
      case 'MatrixSelector':
        return this.matrixSelector(n);
      case 'SubqueryExpr':
        return this.subquery(n);
      case 'OffsetExpr':
        return this.offset(n);
      case 'StepInvariantExpr':
        return this.at(n);
      case 'ParenExpr':
        return { type: 'ParenExpr', expr: this.expr(this.children(n)[0]!), pos: this.pos(n) };
      case 'UnaryExpr': {
        const [op, inner] = this.children(n);
        const expr = this.expr(inner!);
        const sign = this.text(op!) as '-' | '+';
        // A sign before a number literal folds into it, as Prometheus' grammar does.
        if (expr.type === 'NumberLiteral')
          return { type: 'NumberLiteral', value: sign === '-' ? -expr.value : expr.value, pos: this.pos(n) };
        return { type: 'UnaryExpr', op: sign, expr, pos: this.pos(n) };
      }
      case 'BinaryExpr':
        return this.binary(n);
      case 'FunctionCall':
        return this.call(n);
      case 'AggregateExpr':
        return this.aggregate(n);
      default:
        return this.fail(n, `unexpected ${describeAt(this.query, n.from)}`);
    }
  }

  private number(n: SyntaxNode): number {
    const text = this.text(n).replace(/\s+/g, '');
    const sign = text.startsWith('-') ? -1 : 1;
    const body = text.replace(/^[+-]/, '');
    if (/^0x[0-9a-f]+$/i.test(body)) return sign * Number.parseInt(body, 16);
    if (/^(inf|nan)$/i.test(body))
      return sign * (body.toLowerCase() === 'nan' ? Number.NaN : Number.POSITIVE_INFINITY);
    if (isPrometheusDuration(body) && /[a-z]/.test(body))
      this.fail(n, `unexpected duration ${JSON.stringify(body)}`);
    const v = parseGoFloat(body);
    if (v === undefined || body.includes('_'))
      this.fail(n, `bad number or duration syntax: ${JSON.stringify(body)}`);
    return sign * v;
  }

  private string(n: SyntaxNode): string {
    try {
      return unquoteGoString(this.text(n));
    } catch (err) {
      return this.fail(n, (err as Error).message);
    }
  }

  private duration(n: SyntaxNode): number {
    const parts = this.children(n);
    if (parts.length !== 1 || parts[0]!.name !== 'NumberDurationLiteralInDurationContext')
      this.fail(n, `unexpected ${describeAt(this.query, parts[1]?.from ?? n.from)}`);
    const text = this.text(parts[0]!);
    if (!isPrometheusDuration(text) || !/[a-z]/.test(text))
      this.fail(n, `bad duration syntax: ${JSON.stringify(text)}`);
    return parsePrometheusDuration(text);
  }

  private offsetDuration(n: SyntaxNode): number {
    const parts = this.children(n);
    if (parts[0]?.name === 'UnaryOp') {
      const v = this.offsetDuration(parts[1]!);
      return this.text(parts[0]) === '-' ? -v : v;
    }
    const text = this.text(parts[0]!);
    if (!isPrometheusDuration(text) || !/[a-z]/.test(text))
      this.fail(n, `bad duration syntax: ${JSON.stringify(text)}`);
    return parsePrometheusDuration(text);
  }

  private vectorSelector(n: SyntaxNode): VectorSelector {
    let name: string | undefined;
    const matchers: LabelMatcher[] = [];
    for (const c of this.children(n)) {
      if (c.name === 'Identifier') name = this.text(c);
      else if (c.name === 'LabelMatchers') {
        for (const m of this.children(c)) {
          if (m.name !== 'UnquotedLabelMatcher') this.fail(m, `unexpected ${describeAt(this.query, m.from)}`);
          const [label, op, value] = this.children(m);
          const labelName = this.text(label!);
          const type = this.text(op!) as LabelMatcher['type'];
          try {
            matchers.push(labelMatcher(type, labelName, this.string(value!)));
          } catch (err) {
            this.fail(value!, (err as Error).message);
          }
        }
      }
    }
    if (name !== undefined) {
      for (const m of matchers)
        if (m.name === METRIC_NAME)
          this.fail(
            n,
            `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(m.value)}`,
          );
      matchers.push(labelMatcher('=', METRIC_NAME, name));
    }
    if (matchers.every((m) => matchesLabel(m, '')))
      this.fail(n, 'vector selector must contain at least one non-empty matcher');
    const metricName = name ?? matchers.find((m) => m.name === METRIC_NAME && m.type === '=')?.value;
    return {
      type: 'VectorSelector',
      ...(metricName !== undefined ? { name: metricName } : {}),
      matchers,
      offsetMs: 0,
      pos: this.pos(n),
    };
  }

  private matrixSelector(n: SyntaxNode): MatrixSelector {
    const [inner, range] = this.children(n);
    if (inner!.name === 'OffsetExpr') this.fail(n, 'no offset modifiers allowed before range');
    if (inner!.name === 'StepInvariantExpr') this.fail(n, 'no @ modifiers allowed before range');
    const vs = this.expr(inner!);
    if (vs.type !== 'VectorSelector') this.fail(n, 'ranges only allowed for vector selectors');
    return { type: 'MatrixSelector', vs, rangeMs: this.duration(range!), pos: this.pos(n) };
  }

  private subquery(n: SyntaxNode): SubqueryExpr {
    const [inner, range, step] = this.children(n);
    return {
      type: 'SubqueryExpr',
      expr: this.expr(inner!),
      rangeMs: this.duration(range!),
      stepMs: step ? this.duration(step) : 0,
      offsetMs: 0,
      pos: this.pos(n),
    };
  }

  private offset(n: SyntaxNode): Expr {
    const [inner, , dur] = this.children(n);
    const expr = this.expr(inner!);
    const ms = this.offsetDuration(dur!);
    const target = modifierTarget(expr);
    if (!target)
      this.fail(
        n,
        'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
      );
    if (target.offsetMs !== 0) this.fail(n, 'offset may not be set multiple times');
    target.offsetMs = ms;
    expr.pos = this.pos(n);
    return expr;
  }

  private at(n: SyntaxNode): Expr {
    const [inner, , value] = this.children(n);
    const expr = this.expr(inner!);
    const target = modifierTarget(expr);
    if (!target)
      this.fail(
        n,
        '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery',
      );
    if (target.at !== undefined) this.fail(n, '@ <timestamp> may not be set multiple times');
    let at: AtModifier;
    if (value!.name === 'AtModifierPreprocessors') at = this.text(value!) as 'start' | 'end';
    else {
      const seconds = this.number(value!);
      if (!Number.isFinite(seconds)) this.fail(value!, `timestamp out of bounds for @ modifier: ${seconds}`);
      at = Math.round(seconds * 1000);
    }
    target.at = at;
    expr.pos = this.pos(n);
    return expr;
  }

  private binary(n: SyntaxNode): Expr {
    const parts = this.children(n);
    const lhsNode = parts[0]!;
    const opNode = parts[1]!;
    const rhsNode = parts.at(-1)!;
    let returnBool = false;
    let matching: VectorMatching | undefined;
    for (const c of parts.slice(2, -1)) {
      if (c.name === 'BoolModifier') returnBool = true;
      else if (c.name === 'MatchingModifierClause') matching = this.matching(c);
      else this.fail(c, `unexpected ${describeAt(this.query, c.from)}`);
    }
    const op = this.text(opNode).toLowerCase() as BinaryOp;
    const lhsText = this.text(lhsNode);
    // `-2 ^ 2` is -(2 ^ 2) in Prometheus: unary minus binds less tightly than ^.
    if (op === '^' && lhsNode.name === 'NumberDurationLiteral' && /^[+-]/.test(lhsText)) {
      const unsigned = {
        type: 'NumberLiteral' as const,
        value: Math.abs(this.number(lhsNode)),
        pos: this.pos(lhsNode),
      };
      const inner = {
        type: 'BinaryExpr' as const,
        op,
        lhs: unsigned,
        rhs: this.expr(rhsNode),
        returnBool,
        pos: this.pos(n),
      };
      const folded: Expr = { ...inner, ...(matching ? { matching } : {}) };
      return lhsText.startsWith('-')
        ? { type: 'UnaryExpr', op: '-', expr: folded, pos: this.pos(n) }
        : folded;
    }
    return {
      type: 'BinaryExpr',
      op,
      lhs: this.expr(lhsNode),
      rhs: this.expr(rhsNode),
      returnBool,
      ...(matching ? { matching } : {}),
      pos: this.pos(n),
    };
  }

  private matching(n: SyntaxNode): VectorMatching {
    const parts = this.children(n);
    const m: VectorMatching = { card: 'one-to-one', on: false, labels: [], include: [] };
    for (let i = 0; i < parts.length; i++) {
      const c = parts[i]!;
      switch (c.name) {
        case 'On':
          m.on = true;
          m.labels = this.grouping(parts[++i]!);
          break;
        case 'Ignoring':
          m.labels = this.grouping(parts[++i]!);
          break;
        case 'GroupLeft':
        case 'GroupRight':
          m.card = c.name === 'GroupLeft' ? 'many-to-one' : 'one-to-many';
          if (parts[i + 1]?.name === 'GroupingLabels') m.include = this.grouping(parts[++i]!);
          break;
        default:
          this.fail(c, `unexpected ${describeAt(this.query, c.from)}`);
      }
    }
    return m;
  }

  private grouping(n: SyntaxNode): string[] {
    return this.children(n).map((c) => {
      if (c.name !== 'LabelName') this.fail(c, `unexpected ${describeAt(this.query, c.from)}`);
      const name = this.text(c);
      if (!isValidLabelName(name)) this.fail(c, `invalid label name ${JSON.stringify(name)}`);
      return name;
    });
  }

  private call(n: SyntaxNode): Expr {
    const [ident, body] = this.children(n);
    const written = this.text(ident!);
    const name = written === GRAMMAR_NAME && this.renamed.includes(ident!.from) ? HOLT_WINTERS : written;
    const func = FUNCTIONS.get(name);
    if (!func) this.fail(n, `unknown function with name ${JSON.stringify(name)}`);
    if (func.experimental && !this.options.experimentalFunctions)
      this.fail(n, `function ${JSON.stringify(name)} is not enabled`);
    const args = this.children(body!).map((a) => this.expr(a));
    return { type: 'Call', func, args, pos: this.pos(n) };
  }

  private aggregate(n: SyntaxNode): Expr {
    let op: AggregateOp | undefined;
    let grouping: string[] = [];
    let without = false;
    let args: Expr[] = [];
    for (const c of this.children(n)) {
      if (c.name === 'AggregateOp') {
        op = this.text(c).toLowerCase() as AggregateOp;
        if (op === ('limitk' as AggregateOp) || op === ('limit_ratio' as AggregateOp))
          this.fail(c, `unexpected ${describeAt(this.query, c.from)}`);
      } else if (c.name === 'AggregateModifier') {
        const [kind, labels] = this.children(c);
        without = kind!.name === 'Without';
        grouping = this.grouping(labels!);
      } else if (c.name === 'FunctionCallBody') args = this.children(c).map((a) => this.expr(a));
    }
    const withParam = op === 'topk' || op === 'bottomk' || op === 'quantile' || op === 'count_values';
    const expected = withParam ? 2 : 1;
    if (args.length !== expected)
      this.fail(
        n,
        `wrong number of arguments for aggregate expression provided, expected ${expected}, got ${args.length}`,
      );
    return {
      type: 'AggregateExpr',
      op: op!,
      expr: args.at(-1)!,
      ...(withParam ? { param: args[0]! } : {}),
      grouping,
      without,
      pos: this.pos(n),
    };
  }

  /** promql/parser checkAST: the type rules, with Prometheus' messages. */
  check(e: Expr): ValueType {
    const expect = (x: Expr, want: ValueType, context: string) => {
      const got = this.check(x);
      if (got !== want)
        throw new PromQLParseError(
          this.query,
          x.pos.start,
          `expected type ${typeName(want)} in ${context}, got ${typeName(got)}`,
        );
    };
    switch (e.type) {
      case 'NumberLiteral':
      case 'StringLiteral':
      case 'VectorSelector':
        return typeOf(e);
      case 'MatrixSelector':
        return 'matrix';
      case 'ParenExpr':
        return this.check(e.expr);
      case 'SubqueryExpr': {
        const t = this.check(e.expr);
        if (t !== 'vector')
          throw new PromQLParseError(
            this.query,
            e.pos.start,
            `subquery is only allowed on instant vector, got ${t} instead`,
          );
        return 'matrix';
      }
      case 'UnaryExpr': {
        const t = this.check(e.expr);
        if (t !== 'scalar' && t !== 'vector')
          throw new PromQLParseError(
            this.query,
            e.pos.start,
            `unary expression only allowed on expressions of type scalar or instant vector, got ${JSON.stringify(typeName(t))}`,
          );
        return t;
      }
      case 'AggregateExpr': {
        if (e.param) expect(e.param, e.op === 'count_values' ? 'string' : 'scalar', 'aggregation parameter');
        expect(e.expr, 'vector', 'aggregation expression');
        return 'vector';
      }
      case 'Call': {
        const f = e.func;
        const nargs = f.argTypes.length;
        const name = JSON.stringify(f.name);
        if (f.variadic === 0) {
          if (nargs !== e.args.length)
            throw new PromQLParseError(
              this.query,
              e.pos.start,
              `expected ${nargs} argument(s) in call to ${name}, got ${e.args.length}`,
            );
        } else {
          const min = nargs - 1;
          if (min > e.args.length)
            throw new PromQLParseError(
              this.query,
              e.pos.start,
              `expected at least ${min} argument(s) in call to ${name}, got ${e.args.length}`,
            );
          if (f.variadic > 0 && min + f.variadic < e.args.length)
            throw new PromQLParseError(
              this.query,
              e.pos.start,
              `expected at most ${min + f.variadic} argument(s) in call to ${name}, got ${e.args.length}`,
            );
        }
        e.args.forEach((arg, i) => {
          const t = f.argTypes[Math.min(i, nargs - 1)]!;
          if (i >= nargs && f.variadic === 0) return;
          expect(arg, t, `call to function ${name}`);
        });
        return f.returnType;
      }
      case 'BinaryExpr': {
        const lt = this.check(e.lhs);
        const rt = this.check(e.rhs);
        // The operator's position: the first non-space character after the left-hand side.
        let at = e.lhs.pos.end;
        while (/\s/.test(this.query[at] ?? '')) at++;
        const isComparison = COMPARISON_OPS.includes(e.op);
        const isSet = SET_OPS.includes(e.op);
        if (e.returnBool && !isComparison)
          throw new PromQLParseError(
            this.query,
            at,
            'bool modifier can only be used on comparison operators',
          );
        if (isComparison && !e.returnBool && lt === 'scalar' && rt === 'scalar')
          throw new PromQLParseError(this.query, at, 'comparisons between scalars must use BOOL modifier');
        const m = e.matching;
        if (m && isSet && m.card === 'one-to-one') m.card = 'many-to-many';
        if (m?.on) {
          for (const l of m.include)
            if (m.labels.includes(l))
              throw new PromQLParseError(
                this.query,
                at,
                `label ${JSON.stringify(l)} must not occur in ON and GROUP clause at once`,
              );
        }
        if (lt !== 'scalar' && lt !== 'vector')
          throw new PromQLParseError(
            this.query,
            e.lhs.pos.start,
            'binary expression must contain only scalar and instant vector types',
          );
        if (rt !== 'scalar' && rt !== 'vector')
          throw new PromQLParseError(
            this.query,
            e.rhs.pos.start,
            'binary expression must contain only scalar and instant vector types',
          );
        if (lt !== 'vector' || rt !== 'vector') {
          if (m && m.labels.length > 0)
            throw new PromQLParseError(
              this.query,
              e.pos.start,
              'vector matching only allowed between instant vectors',
            );
          delete e.matching;
        } else {
          e.matching ??= { card: isSet ? 'many-to-many' : 'one-to-one', on: false, labels: [], include: [] };
          if (isSet) {
            if (e.matching.card === 'one-to-many' || e.matching.card === 'many-to-one')
              throw new PromQLParseError(
                this.query,
                e.pos.start,
                `no grouping allowed for ${JSON.stringify(e.op)} operation`,
              );
            if (e.matching.card !== 'many-to-many')
              throw new PromQLParseError(
                this.query,
                e.pos.start,
                'set operations must always be many-to-many',
              );
          }
        }
        if ((lt === 'scalar' || rt === 'scalar') && isSet)
          throw new PromQLParseError(
            this.query,
            e.pos.start,
            `set operator ${JSON.stringify(e.op)} not allowed in binary scalar expression`,
          );
        return lt === 'scalar' && rt === 'scalar' ? 'scalar' : 'vector';
      }
    }
  }
}

/** The selector or subquery an offset or @ modifier applies to (through a range selector). */
function modifierTarget(e: Expr): VectorSelector | SubqueryExpr | undefined {
  if (e.type === 'VectorSelector' || e.type === 'SubqueryExpr') return e;
  if (e.type === 'MatrixSelector') return e.vs;
  return undefined;
}
