import { parseGoFloat } from '../go-float.ts';
import { isValidLabelName, isValidMetricName, type Label, METRIC_NAME } from '../labels.ts';

/**
 * The text formats a scrape returns, parsed as Prometheus' textparse does:
 * - the Prometheus text format 0.0.4 (`name{l="v"} value [timestamp_ms]`, # HELP/# TYPE/comments);
 * - OpenMetrics 1.0 (`application/openmetrics-text`): `# EOF` required, timestamps in seconds,
 *   exemplars after ` # ` ignored, `# UNIT` lines.
 * A line that does not parse fails the whole scrape, with Prometheus' kind of message.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 *
 * Twin simplification: exemplars are dropped (Prometheus keeps them only with
 * --enable-feature=exemplar-storage), and the protobuf format (native histograms) is not read: a
 * target answering with it fails to parse.
 */
export interface ParsedSample {
  /** Labels including __name__, in the order written (not yet sorted or deduplicated). */
  labels: Label[];
  value: number;
  /** Milliseconds, when the exposition gave a timestamp. */
  timestamp?: number;
}

export class ExpositionError extends Error {
  override name = 'ExpositionError';
}

export type ExpositionFormat = 'prometheus-text' | 'openmetrics';

/** The parser Prometheus picks from a scrape's Content-Type (text 0.0.4 for anything else). */
export function formatOf(contentType: string | undefined): ExpositionFormat {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return media === 'application/openmetrics-text' ? 'openmetrics' : 'prometheus-text';
}

export function parseExposition(text: string, format: ExpositionFormat): ParsedSample[] {
  return format === 'openmetrics' ? parseOpenMetrics(text) : parsePrometheusText(text);
}

class LineReader {
  i = 0;
  constructor(
    readonly line: string,
    readonly lineNo: number,
  ) {}

  fail(what: string): never {
    throw new ExpositionError(`${what} in line ${this.lineNo}: ${JSON.stringify(this.line)}`);
  }

  peek(): string | undefined {
    return this.line[this.i];
  }

  skipSpaces(): void {
    while (this.line[this.i] === ' ' || this.line[this.i] === '\t') this.i++;
  }

  name(): string {
    const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(this.line.slice(this.i));
    if (!m) this.fail('expected a valid start token, got invalid metric name');
    this.i += m[0].length;
    return m[0];
  }

  labels(openMetrics: boolean): Label[] {
    const labels: Label[] = [];
    this.i++; // {
    for (;;) {
      if (!openMetrics) this.skipSpaces();
      if (this.peek() === '}') {
        this.i++;
        return labels;
      }
      const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(this.line.slice(this.i));
      if (!m) this.fail('expected label name, got invalid label name');
      this.i += m[0].length;
      if (!openMetrics) this.skipSpaces();
      if (this.peek() !== '=') this.fail('expected equal, got invalid character');
      this.i++;
      if (!openMetrics) this.skipSpaces();
      if (this.peek() !== '"') this.fail('expected label value, got invalid character');
      this.i++;
      let value = '';
      for (;;) {
        const c = this.line[this.i];
        if (c === undefined) this.fail('expected label value, got end of line');
        this.i++;
        if (c === '"') break;
        if (c === '\\') {
          const e = this.line[this.i++];
          if (e === 'n') value += '\n';
          else if (e === '\\' || e === '"') value += e;
          else if (openMetrics) this.fail('invalid escape sequence');
          else value += `\\${e ?? ''}`;
          continue;
        }
        value += c;
      }
      labels.push({ name: m[0], value });
      if (!openMetrics) this.skipSpaces();
      if (this.peek() === ',') {
        this.i++;
        continue;
      }
      if (this.peek() !== '}') this.fail('expected comma or end of label set, got invalid character');
    }
  }

  token(): string {
    const start = this.i;
    while (this.i < this.line.length && this.line[this.i] !== ' ' && this.line[this.i] !== '\t') this.i++;
    return this.line.slice(start, this.i);
  }
}

function checkLabels(r: LineReader, labels: Label[]): void {
  const seen = new Set<string>();
  for (const l of labels) {
    if (l.name !== METRIC_NAME && !isValidLabelName(l.name))
      r.fail(`invalid label name ${JSON.stringify(l.name)}`);
    if (seen.has(l.name)) r.fail(`duplicate label name ${JSON.stringify(l.name)}`);
    seen.add(l.name);
  }
}

export function parsePrometheusText(text: string): ParsedSample[] {
  const out: ParsedSample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const r: LineReader = new LineReader(line, n + 1);
    r.skipSpaces();
    if (r.peek() === '#') {
      const m = /^#\s*(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line.trim());
      if (m?.[1] === 'TYPE') {
        if (!isValidMetricName(m[2]!)) r.fail('invalid metric name in comment');
        const type = (m[3] ?? '').trim();
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type))
          r.fail(`invalid metric type ${JSON.stringify(type)}`);
      }
      continue;
    }
    const labels: Label[] = [{ name: METRIC_NAME, value: r.name() }];
    r.skipSpaces();
    if (r.peek() === '{') labels.push(...r.labels(false));
    checkLabels(r, labels);
    r.skipSpaces();
    const valueText = r.token();
    if (valueText === '') r.fail('expected value after metric');
    const value = parseGoFloat(valueText);
    if (value === undefined)
      r.fail(`strconv.ParseFloat: parsing ${JSON.stringify(valueText)}: invalid syntax`);
    r.skipSpaces();
    const tsText = r.token();
    const sample: ParsedSample = { labels, value };
    if (tsText !== '') {
      if (!/^-?\d+$/.test(tsText))
        r.fail(`strconv.ParseInt: parsing ${JSON.stringify(tsText)}: invalid syntax`);
      sample.timestamp = Number(tsText);
      r.skipSpaces();
      if (r.i < line.length) r.fail('expected next entry after timestamp, got invalid character');
    }
    out.push(sample);
  }
  return out;
}

export function parseOpenMetrics(text: string): ParsedSample[] {
  const out: ParsedSample[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let sawEof = false;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const r: LineReader = new LineReader(line, n + 1);
    if (sawEof) r.fail('unexpected data after # EOF');
    if (line === '# EOF') {
      sawEof = true;
      continue;
    }
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*)( .*)?$/.exec(line);
      if (!m) r.fail('"INVALID" is not a valid start token');
      if (m[1] === 'TYPE') {
        const type = (m[3] ?? '').trim();
        const types = [
          'counter',
          'gauge',
          'histogram',
          'gaugehistogram',
          'summary',
          'info',
          'stateset',
          'unknown',
        ];
        if (!types.includes(type)) r.fail(`invalid metric type ${JSON.stringify(type)}`);
      }
      continue;
    }
    if (line === '') r.fail('unexpected empty line');
    const labels: Label[] = [{ name: METRIC_NAME, value: r.name() }];
    if (r.peek() === '{') labels.push(...r.labels(true));
    checkLabels(r, labels);
    if (r.peek() !== ' ') r.fail('expected value after metric');
    r.i++;
    const valueText = r.token();
    const value = parseGoFloat(valueText);
    if (value === undefined)
      r.fail(`strconv.ParseFloat: parsing ${JSON.stringify(valueText)}: invalid syntax`);
    const sample: ParsedSample = { labels, value };
    if (r.peek() === ' ' && line[r.i + 1] !== '#') {
      r.i++;
      const tsText = r.token();
      const seconds = parseGoFloat(tsText);
      if (seconds === undefined || !Number.isFinite(seconds))
        r.fail(`invalid timestamp ${JSON.stringify(tsText)}`);
      sample.timestamp = Math.trunc(seconds * 1000);
    }
    // An exemplar (` # {…} value [timestamp]`) follows; Prometheus keeps it apart, the twin drops it.
    if (r.i < line.length && !line.slice(r.i).startsWith(' # ')) r.fail('expected next entry after value');
    out.push(sample);
  }
  if (!sawEof) throw new ExpositionError('data does not end with # EOF');
  return out;
}
