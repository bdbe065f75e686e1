import { type LabelSelectorRequirement, matchesRequirement } from './labels.ts';

/**
 * The string form of label selectors (`?labelSelector=`, `kubectl -l`), parsed with the grammar of
 * k8s.io/apimachinery/pkg/labels:
 *
 *   selector    ::= requirement | requirement "," selector
 *   requirement ::= ["!"] KEY [ ("in" | "notin") "(" VALUES ")" | ("=" | "==" | "!=" | ">" | "<") VALUE ]
 *
 * `a`, `!a`, `a=b`, `a==b`, `a!=b`, `a in (b,c)`, `a notin (b)`, `a>1`, `a<1`. Errors carry the
 * wording of the upstream parser ("unable to parse requirement: …").
 * See https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
 */
export class LabelSelectorSyntaxError extends Error {}

type Tok = 'id' | 'eos' | ',' | '!' | '=' | '==' | '!=' | '>' | '<' | '(' | ')' | 'in' | 'notin' | 'error';

const SYMBOLS: Record<string, Tok> = {
  ',': ',',
  '!': '!',
  '=': '=',
  '==': '==',
  '!=': '!=',
  '>': '>',
  '<': '<',
  '(': '(',
  ')': ')',
};
const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);
const SPACE = new Set([' ', '\t', '\r', '\n']);

function lex(s: string): { tok: Tok; lit: string }[] {
  const out: { tok: Tok; lit: string }[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && SPACE.has(s[i]!)) i++;
    if (i >= s.length) {
      out.push({ tok: 'eos', lit: '' });
      return out;
    }
    if (SPECIAL.has(s[i]!)) {
      // The longest run of special characters that is an operator ("!=" before "!").
      let buf = '';
      let last: { tok: Tok; lit: string } | undefined;
      while (i < s.length && SPECIAL.has(s[i]!)) {
        buf += s[i];
        const t = SYMBOLS[buf];
        if (t) {
          last = { tok: t, lit: buf };
          i++;
        } else if (last) break;
        else i++;
      }
      out.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buf}'` });
      continue;
    }
    let buf = '';
    while (i < s.length && !SPECIAL.has(s[i]!) && !SPACE.has(s[i]!)) buf += s[i++];
    out.push({ tok: buf === 'in' ? 'in' : buf === 'notin' ? 'notin' : 'id', lit: buf });
  }
}

/** Parses a selector string into requirements (sorted by key, as the upstream parser returns them). */
export function parseLabelSelector(selector: string): LabelSelectorRequirement[] {
  const items = lex(selector);
  let pos = 0;
  // In a value position, "in" and "notin" are plain identifiers.
  const look = (values = true) => {
    const it = items[pos]!;
    return values && (it.tok === 'in' || it.tok === 'notin') ? { tok: 'id' as Tok, lit: it.lit } : it;
  };
  const take = (values = true) => {
    const it = look(values);
    pos++;
    return it;
  };
  const reqs: LabelSelectorRequirement[] = [];
  const fail = (m: string): never => {
    throw new LabelSelectorSyntaxError(m);
  };
  for (;;) {
    const { tok, lit } = look();
    if (tok === 'eos') break;
    if (tok !== 'id' && tok !== '!') fail(`found '${lit}', expected: !, identifier, or 'end of string'`);
    let req: LabelSelectorRequirement;
    try {
      req = parseRequirement();
    } catch (err) {
      throw new LabelSelectorSyntaxError(`unable to parse requirement: ${(err as Error).message}`);
    }
    reqs.push(req);
    const next = take();
    if (next.tok === 'eos') break;
    if (next.tok !== ',') fail(`found '${next.lit}', expected: ',' or 'end of string'`);
    const after = look();
    if (after.tok !== 'id' && after.tok !== '!') fail(`found '${after.lit}', expected: identifier after ','`);
  }
  return reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  function parseRequirement(): LabelSelectorRequirement {
    let t = take();
    let absent = false;
    if (t.tok === '!') {
      absent = true;
      t = take();
    }
    if (t.tok !== 'id') throw new Error(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    const keyErr = qualifiedNameError(key);
    if (keyErr) throw new Error(`key: Invalid value: "${key}": ${keyErr}`);
    const after = look().tok;
    if (after === 'eos' || after === ',') return { key, operator: absent ? 'DoesNotExist' : 'Exists' };
    if (absent) throw new Error(`found '${look().lit}', expected: ',' or 'end of string'`);
    const op = take(false);
    let operator: string;
    switch (op.tok) {
      case 'in':
        operator = 'In';
        break;
      case 'notin':
        operator = 'NotIn';
        break;
      case '=':
      case '==':
        operator = 'In';
        break;
      case '!=':
        operator = 'NotIn';
        break;
      case '>':
        operator = 'Gt';
        break;
      case '<':
        operator = 'Lt';
        break;
      default:
        throw new Error(`found '${op.lit}', expected: '=', '!=', '==', 'in', notin'`);
    }
    let values: string[];
    if (op.tok === 'in' || op.tok === 'notin') values = parseValues();
    else {
      const v = look();
      if (v.tok === 'eos' || v.tok === ',') values = [''];
      else {
        const got = take();
        if (got.tok !== 'id') throw new Error(`found '${got.lit}', expected: identifier`);
        values = [got.lit];
      }
    }
    if (operator === 'Gt' || operator === 'Lt') {
      if (values.length !== 1 || !/^-?\d+$/.test(values[0]!))
        throw new Error(
          `values: Invalid value: ${JSON.stringify(values)}: for 'Gt', 'Lt' operators, the value must be an integer`,
        );
    } else {
      for (const v of values) {
        const e = labelValueError(v);
        if (e) throw new Error(`values[0][${key}]: Invalid value: "${v}": ${e}`);
      }
    }
    return { key, operator, values: [...new Set(values)].sort() };
  }

  function parseValues(): string[] {
    const open = take();
    if (open.tok !== '(') throw new Error(`found '${open.lit}' expected: '('`);
    const first = look();
    if (first.tok === ')') {
      take();
      return [''];
    }
    if (first.tok !== 'id' && first.tok !== ',')
      throw new Error(`found '${first.lit}', expected: ',', ')' or identifier`);
    const out: string[] = [];
    for (;;) {
      const t = take();
      if (t.tok === 'id') {
        out.push(t.lit);
        const n = look();
        if (n.tok === ',') {
          take();
          if (look().tok === ')') out.push('');
          continue;
        }
        if (n.tok === ')') {
          take();
          return out;
        }
        throw new Error(`found '${n.lit}', expected: ',' or ')'`);
      }
      if (t.tok === ',') {
        out.push('');
        if (look().tok === ')') {
          take();
          return out;
        }
        continue;
      }
      if (t.tok === ')') return out;
      throw new Error(`found '${t.lit}', expected: ',', or identifier`);
    }
  }
}

/** Whether labels satisfy every requirement (an empty list matches everything). */
export function matchesRequirements(
  reqs: LabelSelectorRequirement[],
  labels: Record<string, string>,
): boolean {
  for (const r of reqs) if (!matchesRequirement(r, labels)) return false;
  return true;
}

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** validation.IsQualifiedName: [prefix/]name, name ≤ 63 characters, prefix a DNS subdomain. */
export function qualifiedNameError(key: string): string | undefined {
  const parts = key.split('/');
  let name = key;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) return 'prefix part must be non-empty';
    if (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))
      return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  } else if (parts.length > 2) {
    return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
  }
  if (name.length === 0) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!NAME_PART.test(name))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  return undefined;
}

/** validation.IsValidLabelValue: empty, or ≤ 63 alphanumerics, '-', '_', '.', alphanumeric at both ends. */
export function labelValueError(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!NAME_PART.test(value))
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  return undefined;
}
