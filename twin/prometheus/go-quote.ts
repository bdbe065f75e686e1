/**
 * strconv.Unquote for PromQL string literals: "double" and 'single' quotes with Go's escapes
 * (\a \b \f \n \r \t \v \\ \' \" \xNN \NNN octal \uNNNN \UNNNNNNNN), `raw` backquotes without.
 */
export function unquoteGoString(literal: string): string {
  const q = literal[0];
  if (literal.length < 2 || literal.at(-1) !== q) throw new Error('unterminated quoted string');
  const body = literal.slice(1, -1);
  if (q === '`') {
    if (body.includes('`')) throw new Error('invalid syntax');
    return body.replaceAll('\r', '');
  }
  if (q !== '"' && q !== "'") throw new Error('invalid syntax');
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\n') throw new Error('invalid syntax');
    if (c === q) throw new Error('invalid syntax');
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    switch (e) {
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case '"':
      case "'":
        if (e !== q) throw new Error(`unknown escape sequence: \\${e}`);
        out += e;
        break;
      case 'x':
      case 'u':
      case 'U': {
        const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = body.slice(i + 1, i + 1 + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex))
          throw new Error(`invalid escape sequence: \\${e}${hex}`);
        const cp = Number.parseInt(hex, 16);
        if (e === 'x') out += Buffer.from([cp]).toString('latin1');
        else out += String.fromCodePoint(cp);
        i += n;
        break;
      }
      default: {
        if (e !== undefined && /[0-7]/.test(e)) {
          const oct = body.slice(i, i + 3);
          if (!/^[0-7]{3}$/.test(oct)) throw new Error(`invalid escape sequence: \\${oct}`);
          out += String.fromCharCode(Number.parseInt(oct, 8));
          i += 2;
          break;
        }
        throw new Error(`unknown escape sequence: \\${e ?? ''}`);
      }
    }
  }
  return out;
}
