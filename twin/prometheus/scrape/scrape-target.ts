import type { ScrapeConfig } from '../config/prometheus-config.ts';
import type { TargetGroup } from '../discovery/target-group.ts';
import {
  ADDRESS_LABEL,
  INSTANCE_LABEL,
  JOB_LABEL,
  type Labels,
  LabelsBuilder,
  labelsFrom,
  labelsKey,
  META_LABEL_PREFIX,
  METRICS_PATH_LABEL,
  PARAM_LABEL_PREFIX,
  SCHEME_LABEL,
  SCRAPE_INTERVAL_LABEL,
  SCRAPE_TIMEOUT_LABEL,
} from '../labels.ts';
import { formatPrometheusDuration, parsePrometheusDuration } from '../prometheus-duration.ts';
import { relabelBuilder } from '../relabel.ts';

/**
 * A scrape target as Prometheus builds it from a discovered group (scrape/target.go
 * PopulateLabels, v2.54): the job's defaults for job, __scheme__, __metrics_path__,
 * __scrape_interval__, __scrape_timeout__ and __param_*, then relabel_configs; a dropped target
 * keeps only its discovered labels; then the default port of the scheme, the interval and timeout
 * checks, the __meta_* labels removed and `instance` defaulting to the address.
 */
export interface ScrapeTarget {
  /** Labels after relabelling, `__` labels included (for the URL and the interval). */
  labels: Labels;
  /** The labels before relabelling (`discoveredLabels` in /api/v1/targets). */
  discoveredLabels: Labels;
  /** The labels series get: those without a `__` prefix. */
  publicLabels: Labels;
  url: string;
  intervalMs: number;
  timeoutMs: number;
  /** Identity: labels and URL (targets with both equal are one). */
  key: string;
}

export type TargetResult =
  | { kind: 'active'; target: ScrapeTarget }
  | { kind: 'dropped'; discoveredLabels: Labels }
  | { kind: 'error'; discoveredLabels: Labels; error: string };

function splitHostPort(addr: string): { host: string; port: string } | undefined {
  const bracket = /^\[([^\]]*)\]:(\d*)$/.exec(addr);
  if (bracket) return { host: bracket[1]!, port: bracket[2]! };
  const i = addr.lastIndexOf(':');
  if (i < 0) return undefined;
  const host = addr.slice(0, i);
  if (host.includes(':') || host.includes('[') || host.includes(']')) return undefined;
  return { host, port: addr.slice(i + 1) };
}

/** Whether a default port can be appended (net.SplitHostPort fails now and succeeds with one). */
function needsPort(addr: string): boolean {
  if (splitHostPort(addr)) return false;
  return splitHostPort(`${addr}:1234`) !== undefined;
}

export function populateTarget(group: Record<string, string>, config: ScrapeConfig): TargetResult {
  const lb = new LabelsBuilder(labelsFrom(group));
  const defaults: Array<[string, string]> = [
    [JOB_LABEL, config.jobName],
    [SCRAPE_INTERVAL_LABEL, formatPrometheusDuration(config.scrapeIntervalMs)],
    [SCRAPE_TIMEOUT_LABEL, formatPrometheusDuration(config.scrapeTimeoutMs)],
    [METRICS_PATH_LABEL, config.metricsPath],
    [SCHEME_LABEL, config.scheme],
  ];
  for (const [name, value] of defaults) if (lb.get(name) === '') lb.set(name, value);
  for (const [name, values] of Object.entries(config.params)) {
    if (values.length > 0) lb.set(PARAM_LABEL_PREFIX + name, values[0]!);
  }
  const discoveredLabels = lb.labels();
  if (!relabelBuilder(lb, config.relabelConfigs)) return { kind: 'dropped', discoveredLabels };
  let addr = lb.get(ADDRESS_LABEL);
  if (addr === '') return { kind: 'error', discoveredLabels, error: 'no address' };
  const scheme = lb.get(SCHEME_LABEL);
  if (needsPort(addr)) {
    if (scheme === 'http' || scheme === '') addr += ':80';
    else if (scheme === 'https') addr += ':443';
    else
      return { kind: 'error', discoveredLabels, error: `invalid scheme: ${JSON.stringify(config.scheme)}` };
    lb.set(ADDRESS_LABEL, addr);
  }
  if (addr.includes('/'))
    return { kind: 'error', discoveredLabels, error: `${JSON.stringify(addr)} is not a valid hostname` };
  let intervalMs: number;
  let timeoutMs: number;
  try {
    intervalMs = parsePrometheusDuration(lb.get(SCRAPE_INTERVAL_LABEL));
  } catch (err) {
    return {
      kind: 'error',
      discoveredLabels,
      error: `error parsing scrape interval: ${(err as Error).message}`,
    };
  }
  if (intervalMs === 0) return { kind: 'error', discoveredLabels, error: 'scrape interval cannot be 0' };
  try {
    timeoutMs = parsePrometheusDuration(lb.get(SCRAPE_TIMEOUT_LABEL));
  } catch (err) {
    return {
      kind: 'error',
      discoveredLabels,
      error: `error parsing scrape timeout: ${(err as Error).message}`,
    };
  }
  if (timeoutMs === 0) return { kind: 'error', discoveredLabels, error: 'scrape timeout cannot be 0' };
  if (timeoutMs > intervalMs)
    return {
      kind: 'error',
      discoveredLabels,
      error: `scrape timeout cannot be greater than scrape interval (${JSON.stringify(lb.get(SCRAPE_TIMEOUT_LABEL))} > ${JSON.stringify(lb.get(SCRAPE_INTERVAL_LABEL))})`,
    };
  for (const name of lb.names()) if (name.startsWith(META_LABEL_PREFIX)) lb.del(name);
  if (lb.get(INSTANCE_LABEL) === '') lb.set(INSTANCE_LABEL, addr);
  const labels = lb.labels();
  const url = targetUrl(labels, config.params);
  return {
    kind: 'active',
    target: {
      labels,
      discoveredLabels,
      publicLabels: labels.filter((l) => !l.name.startsWith('__')),
      url,
      intervalMs,
      timeoutMs,
      key: `${labelsKey(labels)}|${url}`,
    },
  };
}

/** The scrape URL: scheme, address, metrics path, and the params with __param_* overriding the first value. */
export function targetUrl(labels: Labels, params: Record<string, string[]>): string {
  const merged = new Map<string, string[]>(Object.entries(params).map(([k, v]) => [k, [...v]]));
  for (const l of labels) {
    if (!l.name.startsWith(PARAM_LABEL_PREFIX)) continue;
    const k = l.name.slice(PARAM_LABEL_PREFIX.length);
    const values = merged.get(k);
    if (values && values.length > 0) values[0] = l.value;
    else merged.set(k, [l.value]);
  }
  const get = (n: string) => labels.find((l) => l.name === n)?.value ?? '';
  const query = [...merged.keys()]
    .sort()
    .flatMap((k) => merged.get(k)!.map((v) => `${encodeQuery(k)}=${encodeQuery(v)}`))
    .join('&');
  const path = get(METRICS_PATH_LABEL);
  return `${get(SCHEME_LABEL)}://${get(ADDRESS_LABEL)}${path.startsWith('/') || path === '' ? path : `/${path}`}${query ? `?${query}` : ''}`;
}

/** url.QueryEscape: spaces as '+'. */
function encodeQuery(s: string): string {
  return encodeURIComponent(s)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Every active and dropped target of a job's groups (targets with the same key are one). */
export function targetsFromGroups(
  groups: Iterable<TargetGroup>,
  config: ScrapeConfig,
): { active: ScrapeTarget[]; dropped: Labels[]; errors: Array<{ labels: Labels; error: string }> } {
  const active = new Map<string, ScrapeTarget>();
  const dropped: Labels[] = [];
  const errors: Array<{ labels: Labels; error: string }> = [];
  for (const g of groups) {
    for (const t of g.targets) {
      const r = populateTarget({ ...g.labels, ...t }, config);
      if (r.kind === 'active') {
        if (!active.has(r.target.key)) active.set(r.target.key, r.target);
      } else if (r.kind === 'dropped') dropped.push(r.discoveredLabels);
      else errors.push({ labels: r.discoveredLabels, error: r.error });
    }
  }
  return { active: [...active.values()], dropped, errors };
}
