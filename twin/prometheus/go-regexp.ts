/**
 * Go's RE2 regular expressions as Prometheus uses them, on JavaScript's engine: the pattern is
 * translated (named groups `(?P<n>…)`, leading flags `(?i)`/`(?s)`, `\A` `\z` `\Q…\E`, POSIX
 * classes) and the syntax RE2 rejects (backreferences, lookaround) is rejected here too. Prometheus
 * anchors label matchers and relabel regexes as `^(?s:…)$`.
 */
export class RegexpError extends Error {
  override name = 'RegexpError';
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

function translate(pattern: string): { source: string; flags: string } {
  let flags = '';
  let rest = pattern;
  // Leading flag groups apply to the whole expression, which JavaScript expresses as flags.
  for (;;) {
    const m = /^\(\?([imsU]+)\)/.exec(rest);
    if (!m) break;
    for (const f of m[1]!) {
      if (f === 'U') throw new RegexpError(`invalid or unsupported Perl syntax: \`(?U\``);
      if (!flags.includes(f)) flags += f;
    }
    rest = rest.slice(m[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (c === '\\') {
      const n = rest[i + 1];
      if (n === undefined) throw new RegexpError('trailing backslash at end of expression: ``');
      if (!inClass && n === 'Q') {
        const end = rest.indexOf('\\E', i + 2);
        const literal = end < 0 ? rest.slice(i + 2) : rest.slice(i + 2, end);
        out += literal.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
        i = end < 0 ? rest.length : end + 1;
        continue;
      }
      if (!inClass && n === 'A') {
        out += '^';
        i++;
        continue;
      }
      if (!inClass && n === 'z') {
        out += '$(?![\\s\\S])';
        i++;
        continue;
      }
      if (/[1-9]/.test(n)) throw new RegexpError(`invalid escape sequence: \`\\${n}\``);
      if (n === 'p' || n === 'P' || n === 'C' || n === 'Z')
        throw new RegexpError(`invalid character class range: \`\\${n}\` (not supported by the twin)`);
      out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && rest[i + 1] === ':') {
        const end = rest.indexOf(':]', i + 2);
        const name = end < 0 ? '' : rest.slice(i + 2, end);
        const negated = name.startsWith('^');
        const cls = POSIX_CLASSES[negated ? name.slice(1) : name];
        if (cls === undefined || negated)
          throw new RegexpError(`invalid character class range: \`[:${name}:]\``);
        out += cls;
        i = end + 1;
        continue;
      }
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (rest[i + 1] === '^') {
        out += '^';
        i++;
      }
      // A `]` first in a class is a literal in RE2.
      if (rest[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && rest[i + 1] === '?') {
      if (rest.startsWith('(?P<', i)) {
        out += '(?<';
        i += 3;
        continue;
      }
      if (/^\(\?(=|!|<=|<!)/.test(rest.slice(i)))
        throw new RegexpError(`invalid or unsupported Perl syntax: \`${rest.slice(i, i + 3)}\``);
      if (rest.startsWith('(?:', i)) {
        out += '(?:';
        i += 2;
        continue;
      }
      const flagGroup = /^\(\?[imsU-]+[:)]/.exec(rest.slice(i));
      if (flagGroup)
        throw new RegexpError(`flag group ${flagGroup[0]} inside an expression is not supported by the twin`);
    }
    out += c;
  }
  return { source: out, flags };
}

/** Compiles `^(?s:pattern)$` as Prometheus does for matchers and relabelling. */
export function compileAnchored(pattern: string): RegExp {
  const { source, flags } = translate(pattern);
  const dotAll = flags.includes('s') ? flags : `${flags}s`;
  try {
    return new RegExp(`^(?:${source})$`, dotAll);
  } catch (err) {
    const detail = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '');
    throw new RegexpError(`error parsing regexp: ${detail}: \`${pattern}\``);
  }
}

/**
 * regexp.Expand: `$1`, `${1}`, `$name`, `${name}`, `$$`. A name is the longest run of word
 * characters (`$1x` is the group named "1x", i.e. empty); a malformed `$` stays as it is.
 */
export function expandTemplate(template: string, match: RegExpExecArray): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const d = template.indexOf('$', i);
    if (d < 0) break;
    out += template.slice(i, d);
    i = d + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string | undefined;
    if (template[i] === '{') {
      const end = template.indexOf('}', i);
      const inner = end < 0 ? '' : template.slice(i + 1, end);
      if (inner !== '' && /^\w+$/.test(inner)) {
        name = inner;
        i = end + 1;
      }
    } else {
      const m = /^\w+/.exec(template.slice(i));
      if (m) {
        name = m[0];
        i += m[0].length;
      }
    }
    if (name === undefined) {
      out += '$';
      continue;
    }
    if (/^\d+$/.test(name)) out += match[Number(name)] ?? '';
    else out += match.groups?.[name] ?? '';
  }
  return out + template.slice(i);
}
