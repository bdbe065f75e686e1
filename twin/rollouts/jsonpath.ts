import { TwinError } from '../../core/errors.ts';

type Segment = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'wildcard' };

/**
 * Kubernetes-style JSONPath as Argo's web provider uses it: `{$.a.b[0]}`, `{.a.b}`, `{$}`,
 * `{.items[*].name}`, `{.a['b.c']}`. Twin simplification: no filters, slices or recursive descent.
 */
export function parseJsonPath(path: string): Segment[] {
  let p = path.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1).trim();
  if (p.startsWith('$')) p = p.slice(1);
  const segments: Segment[] = [];
  let i = 0;
  const fail = (reason: string): never => {
    throw new TwinError('TWIN_INVALID', `jsonPath "${path}": ${reason}`);
  };
  while (i < p.length) {
    const c = p[i];
    if (c === '.') {
      const m = /^[A-Za-z0-9_\-$@]+/.exec(p.slice(i + 1));
      if (!m) {
        if (i + 1 === p.length) break;
        if (p[i + 1] === '*') {
          segments.push({ kind: 'wildcard' });
          i += 2;
          continue;
        }
        if (p[i + 1] === '[') {
          i++;
          continue;
        }
        fail(`expected a field name at column ${i + 2}`);
      }
      segments.push({ kind: 'key', key: m![0] });
      i += 1 + m![0].length;
    } else if (c === '[') {
      const end = p.indexOf(']', i);
      if (end < 0) fail(`unclosed '[' at column ${i + 1}`);
      const inner = p.slice(i + 1, end).trim();
      if (inner === '*') segments.push({ kind: 'wildcard' });
      else if (/^-?[0-9]+$/.test(inner)) segments.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) segments.push({ kind: 'key', key: inner.slice(1, -1) });
      else fail(`unsupported subscript [${inner}]`);
      i = end + 1;
    } else {
      fail(`unexpected '${c}' at column ${i + 1}`);
    }
  }
  return segments;
}

/**
 * Evaluates a JSONPath against a value. A path through a wildcard yields an array of the matches;
 * a path that finds nothing throws, as kubectl's "is not found" does.
 */
export function evaluateJsonPath(path: string, data: unknown): unknown {
  const segments = parseJsonPath(path);
  let values: unknown[] = [data];
  let multi = false;
  for (const seg of segments) {
    const next: unknown[] = [];
    for (const v of values) {
      if (seg.kind === 'wildcard') {
        multi = true;
        if (Array.isArray(v)) next.push(...v);
        else if (v !== null && typeof v === 'object') next.push(...Object.values(v));
      } else if (seg.kind === 'index') {
        if (Array.isArray(v)) {
          const idx = seg.index < 0 ? v.length + seg.index : seg.index;
          if (idx >= 0 && idx < v.length) next.push(v[idx]);
        }
      } else if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, seg.key)) {
        next.push((v as Record<string, unknown>)[seg.key]);
      }
    }
    if (!multi && next.length === 0) {
      throw new TwinError('TWIN_NOT_FOUND', `jsonPath "${path}": ${describeSegment(seg)} is not found`);
    }
    values = next;
  }
  return multi ? values : values[0];
}

function describeSegment(seg: Segment): string {
  return seg.kind === 'key' ? seg.key : seg.kind === 'index' ? `array index ${seg.index}` : '*';
}
