import { TwinError } from '../../core/errors.ts';

/**
 * Argo Rollouts' condition language (expr-lang/expr) for successCondition/failureCondition: the
 * subset used in practice. Twin simplification: no pipes, closures (all/any/filter), slices or
 * string operators beyond `+`, `contains`, `startsWith`, `endsWith`.
 */
export type ExprEnv = Record<string, unknown>;

type Node =
  | { type: 'lit'; value: unknown }
  | { type: 'ident'; name: string }
  | { type: 'member'; object: Node; property: Node; computed: boolean }
  | { type: 'call'; callee: string; args: Node[] }
  | { type: 'unary'; op: string; arg: Node }
  | { type: 'binary'; op: string; left: Node; right: Node }
  | { type: 'cond'; test: Node; then: Node; else: Node }
  | { type: 'array'; items: Node[] };

interface Token {
  kind: 'num' | 'str' | 'ident' | 'op' | 'eof';
  value: string;
  pos: number;
}

const OPERATORS = [
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '**',
  '??',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '!',
  '(',
  ')',
  '[',
  ']',
  '.',
  ',',
  '?',
  ':',
];
const WORD_OPERATORS: Record<string, string> = { and: '&&', or: '||', not: '!', in: 'in' };

export class ExprError extends TwinError {
  constructor(expression: string, reason: string) {
    super('TWIN_INVALID', `expression "${expression}": ${reason}`);
  }
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+\.)/.exec(src.slice(i))!;
      out.push({ kind: 'num', value: m[0].replace(/\.$/, ''), pos: i });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      let value = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && c !== '`') {
          const n = src[j + 1];
          value += n === 'n' ? '\n' : n === 't' ? '\t' : (n ?? '');
          j += 2;
        } else value += src[j++];
      }
      if (j >= src.length) throw new ExprError(src, `unterminated string starting at column ${i + 1}`);
      out.push({ kind: 'str', value, pos: i });
      i = j + 1;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(src.slice(i))!;
      const word = m[0];
      out.push(
        WORD_OPERATORS[word]
          ? { kind: 'op', value: WORD_OPERATORS[word]!, pos: i }
          : { kind: 'ident', value: word, pos: i },
      );
      i += word.length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExprError(src, `unexpected character '${c}' at column ${i + 1}`);
    out.push({ kind: 'op', value: op, pos: i });
    i += op.length;
  }
  out.push({ kind: 'eof', value: '', pos: src.length });
  return out;
}

const BINARY_PRECEDENCE: Record<string, number> = {
  '??': 1,
  '||': 2,
  '&&': 3,
  '==': 4,
  '!=': 4,
  '<': 5,
  '<=': 5,
  '>': 5,
  '>=': 5,
  in: 5,
  '+': 6,
  '-': 6,
  '*': 7,
  '/': 7,
  '%': 7,
  '**': 9,
};

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly tokens: Token[],
  ) {}

  parse(): Node {
    if (this.peek().kind === 'eof') throw new ExprError(this.src, 'empty expression');
    const node = this.expression();
    const t = this.peek();
    if (t.kind !== 'eof') throw this.unexpected(t);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private isOp(value: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.value === value;
  }

  private expect(value: string): void {
    const t = this.next();
    if (t.kind !== 'op' || t.value !== value) throw this.unexpected(t, `expected '${value}'`);
  }

  private unexpected(t: Token, hint?: string): ExprError {
    const what =
      t.kind === 'eof'
        ? 'unexpected end of expression'
        : `unexpected token '${t.value}' at column ${t.pos + 1}`;
    return new ExprError(this.src, hint ? `${what} (${hint})` : what);
  }

  private expression(): Node {
    const test = this.binary(1);
    if (this.isOp('?')) {
      this.next();
      const then = this.expression();
      this.expect(':');
      return { type: 'cond', test, then, else: this.expression() };
    }
    return test;
  }

  private binary(minPrec: number): Node {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      const prec = t.kind === 'op' ? BINARY_PRECEDENCE[t.value] : undefined;
      if (prec === undefined || prec < minPrec) return left;
      this.next();
      // ** is right-associative; everything else is left-associative.
      const right = this.binary(t.value === '**' ? prec : prec + 1);
      left = { type: 'binary', op: t.value, left, right };
    }
  }

  private unary(): Node {
    if (this.isOp('!') || this.isOp('-') || this.isOp('+')) {
      const op = this.next().value;
      return { type: 'unary', op, arg: this.unary() };
    }
    return this.postfix(this.primary());
  }

  private postfix(node: Node): Node {
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const t = this.next();
        if (t.kind !== 'ident') throw this.unexpected(t, 'expected a field name');
        node = { type: 'member', object: node, property: { type: 'lit', value: t.value }, computed: false };
      } else if (this.isOp('[')) {
        this.next();
        const property = this.expression();
        this.expect(']');
        node = { type: 'member', object: node, property, computed: true };
      } else return node;
    }
  }

  private primary(): Node {
    const t = this.next();
    if (t.kind === 'num') return { type: 'lit', value: Number(t.value) };
    if (t.kind === 'str') return { type: 'lit', value: t.value };
    if (t.kind === 'ident') {
      if (t.value === 'true' || t.value === 'false') return { type: 'lit', value: t.value === 'true' };
      if (t.value === 'nil' || t.value === 'null') return { type: 'lit', value: null };
      if (this.isOp('(')) {
        this.next();
        const args: Node[] = [];
        if (!this.isOp(')')) {
          args.push(this.expression());
          while (this.isOp(',')) {
            this.next();
            args.push(this.expression());
          }
        }
        this.expect(')');
        return { type: 'call', callee: t.value, args };
      }
      return { type: 'ident', name: t.value };
    }
    if (t.kind === 'op' && t.value === '(') {
      const inner = this.expression();
      this.expect(')');
      return inner;
    }
    if (t.kind === 'op' && t.value === '[') {
      const items: Node[] = [];
      if (!this.isOp(']')) {
        items.push(this.expression());
        while (this.isOp(',')) {
          this.next();
          items.push(this.expression());
        }
      }
      this.expect(']');
      return { type: 'array', items };
    }
    throw this.unexpected(t);
  }
}

const cache = new Map<string, Node>();

/** Parses an expression; throws ExprError naming the expression on a syntax error. */
export function parseExpr(expression: string): Node {
  let node = cache.get(expression);
  if (!node) {
    node = new Parser(expression, tokenize(expression)).parse();
    if (cache.size > 500) cache.clear();
    cache.set(expression, node);
  }
  return node;
}

/** Evaluates an expression against an environment (Argo passes `result`). */
export function evaluateExpr(expression: string, env: ExprEnv): unknown {
  return new Evaluator(expression, env).eval(parseExpr(expression));
}

/** Evaluates a condition; a non-boolean outcome is an error, as in Argo. */
export function evaluateCondition(expression: string, env: ExprEnv): boolean {
  const value = evaluateExpr(expression, env);
  if (typeof value !== 'boolean') {
    throw new ExprError(expression, `expected a boolean result, got ${describe(value)}`);
  }
  return value;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return `array ${JSON.stringify(v)}`;
  if (typeof v === 'object') return `map ${JSON.stringify(v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

const FUNCTIONS: Record<string, (fail: (m: string) => never, ...args: unknown[]) => unknown> = {
  len: (fail, v) => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (v !== null && typeof v === 'object') return Object.keys(v).length;
    return fail(`invalid argument for len (type ${describe(v)})`);
  },
  isNaN: (fail, v) =>
    typeof v === 'number' ? Number.isNaN(v) : fail(`isNaN expects a number, got ${describe(v)}`),
  isInf: (fail, v) =>
    typeof v === 'number'
      ? !Number.isFinite(v) && !Number.isNaN(v)
      : fail(`isInf expects a number, got ${describe(v)}`),
  isNil: (_fail, v) => v === null || v === undefined,
  default: (_fail, v, fallback) => (v === null || v === undefined || Number.isNaN(v) ? fallback : v),
  asInt: (fail, v) => {
    const n = typeof v === 'string' ? Number(v) : v;
    return typeof n === 'number' && !Number.isNaN(n)
      ? Math.trunc(n)
      : fail(`asInt: cannot convert ${describe(v)}`);
  },
  asFloat: (fail, v) => {
    const n = typeof v === 'string' ? Number(v) : v;
    return typeof n === 'number' && !Number.isNaN(n) ? n : fail(`asFloat: cannot convert ${describe(v)}`);
  },
  abs: (fail, v) => (typeof v === 'number' ? Math.abs(v) : fail(`abs expects a number, got ${describe(v)}`)),
  max: (fail, ...vs) =>
    vs.every((v) => typeof v === 'number') ? Math.max(...(vs as number[])) : fail('max expects numbers'),
  min: (fail, ...vs) =>
    vs.every((v) => typeof v === 'number') ? Math.min(...(vs as number[])) : fail('min expects numbers'),
  contains: (fail, s, sub) =>
    typeof s === 'string' && typeof sub === 'string' ? s.includes(sub) : fail('contains expects strings'),
  startsWith: (fail, s, sub) =>
    typeof s === 'string' && typeof sub === 'string' ? s.startsWith(sub) : fail('startsWith expects strings'),
  endsWith: (fail, s, sub) =>
    typeof s === 'string' && typeof sub === 'string' ? s.endsWith(sub) : fail('endsWith expects strings'),
  string: (_fail, v) => (typeof v === 'string' ? v : JSON.stringify(v)),
  float: (fail, v) => FUNCTIONS['asFloat']!(fail, v),
  int: (fail, v) => FUNCTIONS['asInt']!(fail, v),
};

class Evaluator {
  constructor(
    private readonly src: string,
    private readonly env: ExprEnv,
  ) {}

  private fail = (reason: string): never => {
    throw new ExprError(this.src, reason);
  };

  eval(node: Node): unknown {
    switch (node.type) {
      case 'lit':
        return node.value;
      case 'array':
        return node.items.map((n) => this.eval(n));
      case 'ident':
        if (!Object.hasOwn(this.env, node.name)) return this.fail(`unknown name ${node.name}`);
        return this.env[node.name] ?? null;
      case 'member': {
        const obj = this.eval(node.object);
        const key = this.eval(node.property);
        if (obj === null || obj === undefined) return this.fail(`cannot fetch ${String(key)} from nil`);
        if (Array.isArray(obj)) {
          if (typeof key !== 'number' || !Number.isInteger(key))
            return this.fail(`array index must be an integer, got ${describe(key)}`);
          const idx = key < 0 ? obj.length + key : key;
          if (idx < 0 || idx >= obj.length)
            return this.fail(`index out of range: ${key} (array of length ${obj.length})`);
          return obj[idx] ?? null;
        }
        if (typeof obj === 'object') {
          const value = (obj as Record<string, unknown>)[String(key)];
          return value === undefined ? null : value;
        }
        return this.fail(`type ${describe(obj)} has no field ${String(key)}`);
      }
      case 'call': {
        const fn = FUNCTIONS[node.callee];
        if (!fn) return this.fail(`unknown function ${node.callee}()`);
        return fn(this.fail, ...node.args.map((a) => this.eval(a)));
      }
      case 'unary': {
        const v = this.eval(node.arg);
        if (node.op === '!')
          return typeof v === 'boolean' ? !v : this.fail(`invalid operation: !${describe(v)}`);
        if (typeof v !== 'number') return this.fail(`invalid operation: ${node.op}${describe(v)}`);
        return node.op === '-' ? -v : v;
      }
      case 'cond': {
        const t = this.eval(node.test);
        if (typeof t !== 'boolean') return this.fail(`non-boolean condition ${describe(t)}`);
        return t ? this.eval(node.then) : this.eval(node.else);
      }
      case 'binary':
        return this.binary(node);
    }
  }

  private binary(node: Extract<Node, { type: 'binary' }>): unknown {
    const { op } = node;
    if (op === '&&' || op === '||') {
      const l = this.eval(node.left);
      if (typeof l !== 'boolean') return this.fail(`invalid operation: ${describe(l)} ${op} ...`);
      if (op === '&&' ? !l : l) return l;
      const r = this.eval(node.right);
      if (typeof r !== 'boolean') return this.fail(`invalid operation: ${describe(l)} ${op} ${describe(r)}`);
      return r;
    }
    if (op === '??') {
      const l = this.eval(node.left);
      return l === null || l === undefined ? this.eval(node.right) : l;
    }
    const l = this.eval(node.left);
    const r = this.eval(node.right);
    const bad = (): never => this.fail(`invalid operation: ${describe(l)} ${op} ${describe(r)}`);
    switch (op) {
      case '==':
        return equal(l, r);
      case '!=':
        return !equal(l, r);
      case 'in':
        if (Array.isArray(r)) return r.some((x) => equal(x, l));
        if (r !== null && typeof r === 'object' && typeof l === 'string') return Object.hasOwn(r, l);
        return bad();
      case '<':
      case '<=':
      case '>':
      case '>=': {
        if (
          !(
            (typeof l === 'number' && typeof r === 'number') ||
            (typeof l === 'string' && typeof r === 'string')
          )
        )
          return bad();
        const a = l as number | string;
        const b = r as number | string;
        return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
      }
      case '+':
        if (typeof l === 'string' && typeof r === 'string') return l + r;
        if (typeof l === 'number' && typeof r === 'number') return l + r;
        return bad();
      default: {
        if (typeof l !== 'number' || typeof r !== 'number') return bad();
        if (op === '-') return l - r;
        if (op === '*') return l * r;
        if (op === '/') return l / r;
        if (op === '%') return r === 0 ? this.fail('integer divide by zero') : l % r;
        if (op === '**') return l ** r;
        return bad();
      }
    }
  }
}

function equal(a: unknown, b: unknown): boolean {
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}
