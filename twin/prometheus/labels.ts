/**
 * A Prometheus label set: name/value pairs sorted by name, no empty values (an empty value is the
 * same as an absent label). `key` is a stable string for maps.
 */
export interface Label {
  readonly name: string;
  readonly value: string;
}

export type Labels = readonly Label[];

export const METRIC_NAME = '__name__';
export const ADDRESS_LABEL = '__address__';
export const SCHEME_LABEL = '__scheme__';
export const METRICS_PATH_LABEL = '__metrics_path__';
export const SCRAPE_INTERVAL_LABEL = '__scrape_interval__';
export const SCRAPE_TIMEOUT_LABEL = '__scrape_timeout__';
export const PARAM_LABEL_PREFIX = '__param_';
export const META_LABEL_PREFIX = '__meta_';
export const TMP_LABEL_PREFIX = '__tmp_';
export const JOB_LABEL = 'job';
export const INSTANCE_LABEL = 'instance';
export const BUCKET_LABEL = 'le';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** model.LabelName.IsValid in the legacy (non-UTF-8) scheme Prometheus 2.x validates with. */
export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

export function isValidMetricName(name: string): boolean {
  return METRIC_NAME_RE.test(name);
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A label set from pairs: sorted, empty values dropped, the last value of a repeated name kept. */
export function labelsFrom(pairs: Iterable<readonly [string, string]> | Record<string, string>): Labels {
  const map = new Map<string, string>();
  const entries =
    Symbol.iterator in Object(pairs) ? (pairs as Iterable<readonly [string, string]>) : Object.entries(pairs);
  for (const [name, value] of entries) map.set(name, value);
  const out: Label[] = [];
  for (const [name, value] of map) if (value !== '') out.push({ name, value });
  return out.sort((x, y) => compareStrings(x.name, y.name));
}

export function labelsToRecord(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

export function getLabel(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return '';
}

export function hasLabel(labels: Labels, name: string): boolean {
  return labels.some((l) => l.name === name);
}

/** A string that identifies the label set (names and values cannot contain \xff). */
export function labelsKey(labels: Labels): string {
  let s = '';
  for (const l of labels) s += `${l.name}\xfe${l.value}\xff`;
  return s;
}

/** Orders label sets as Prometheus sorts series: by name, then value, pair by pair; shorter first. */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name) return compareStrings(x.name, y.name);
    if (x.value !== y.value) return compareStrings(x.value, y.value);
  }
  return a.length - b.length;
}

export function dropLabels(labels: Labels, names: readonly string[]): Labels {
  return labels.filter((l) => !names.includes(l.name));
}

export function keepLabels(labels: Labels, names: readonly string[]): Labels {
  return labels.filter((l) => names.includes(l.name));
}

export function dropMetricName(labels: Labels): Labels {
  return labels[0]?.name === METRIC_NAME || hasLabel(labels, METRIC_NAME)
    ? labels.filter((l) => l.name !== METRIC_NAME)
    : labels;
}

/** `{__name__="up", job="x"}` as Prometheus prints a label set (labels.Labels.String). */
export function formatLabels(labels: Labels): string {
  return `{${labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ')}}`;
}

/** A mutable label set for relabelling and result labels (labels.Builder). */
export class LabelsBuilder {
  private readonly map = new Map<string, string>();

  constructor(labels: Labels = []) {
    for (const l of labels) this.map.set(l.name, l.value);
  }

  get(name: string): string {
    return this.map.get(name) ?? '';
  }

  /** Sets a label; an empty value deletes it. */
  set(name: string, value: string): this {
    if (value === '') this.map.delete(name);
    else this.map.set(name, value);
    return this;
  }

  del(...names: string[]): this {
    for (const n of names) this.map.delete(n);
    return this;
  }

  keep(...names: string[]): this {
    for (const n of [...this.map.keys()]) if (!names.includes(n)) this.map.delete(n);
    return this;
  }

  names(): string[] {
    return [...this.map.keys()];
  }

  entries(): Array<[string, string]> {
    return [...this.map.entries()];
  }

  labels(): Labels {
    return labelsFrom(this.map);
  }
}
