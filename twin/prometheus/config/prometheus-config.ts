import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isValidLabelName, type Labels, labelsFrom } from '../labels.ts';
import { DurationError, parsePrometheusDuration } from '../prometheus-duration.ts';
import { type RelabelConfig, type RelabelConfigInput, relabelConfigFrom } from '../relabel.ts';
import {
  any,
  bool,
  decodeStrict,
  type FieldType,
  float,
  list,
  map,
  str,
  struct,
  uint,
} from './strict-yaml.ts';

/**
 * The Prometheus configuration file (prometheus.yml) of Prometheus v2.54, read as Prometheus reads
 * it: unknown fields and values of the wrong type are errors with Prometheus' wording, defaults
 * are Prometheus' defaults, and the same validation rejects what Prometheus rejects.
 * https://prometheus.io/docs/prometheus/2.54/configuration/configuration/
 *
 * Twin simplification: alerting, rule_files, scrape_config_files, remote_write and remote_read, the
 * discovery mechanisms other than static, file and kubernetes, the kubernetes roles endpointslice
 * and ingress, and oauth2 are refused with a message naming them (Prometheus would use them);
 * storage, tracing and otlp are accepted and not used.
 */

const secret = str;
const duration = str;
const size = str;

const tlsConfig = struct('config.plain', {
  ca: secret,
  ca_file: str,
  cert: str,
  cert_file: str,
  key: secret,
  key_file: str,
  server_name: str,
  insecure_skip_verify: bool,
  min_version: str,
  max_version: str,
});

/** common/config.HTTPClientConfig, inlined into scrape and discovery configs. */
const httpClientFields: Record<string, FieldType> = {
  basic_auth: struct('config.BasicAuth', {
    username: str,
    username_file: str,
    password: secret,
    password_file: str,
  }),
  authorization: struct('config.Authorization', { type: str, credentials: secret, credentials_file: str }),
  oauth2: any,
  bearer_token: secret,
  bearer_token_file: str,
  tls_config: tlsConfig,
  proxy_url: str,
  no_proxy: str,
  proxy_from_environment: bool,
  proxy_connect_header: map(list(secret)),
  http_headers: any,
  follow_redirects: bool,
  enable_http2: bool,
};

const kubernetesSdConfig = struct('kubernetes.plain', {
  api_server: str,
  role: str,
  kubeconfig_file: str,
  namespaces: struct('kubernetes.plain', { own_namespace: bool, names: list(str) }),
  selectors: list(struct('kubernetes.SelectorConfig', { role: str, label: str, field: str })),
  attach_metadata: struct('kubernetes.AttachMetadataConfig', { node: bool }),
  ...httpClientFields,
});

const fileSdConfig = struct('file.plain', { files: list(str), refresh_interval: duration });

const staticConfig = struct(
  'struct { Targets []string "yaml:\\"targets\\""; Labels model.LabelSet "yaml:\\"labels\\"" }',
  { targets: list(str), labels: map(str) },
);

const relabelConfig = struct('relabel.plain', {
  source_labels: list(str),
  separator: str,
  regex: str,
  modulus: uint,
  target_label: str,
  replacement: str,
  action: str,
});

/** Discovery mechanisms Prometheus 2.54 has and the twin does not implement. */
export const UNSUPPORTED_SD_CONFIGS = [
  'azure_sd_configs',
  'consul_sd_configs',
  'digitalocean_sd_configs',
  'docker_sd_configs',
  'dockerswarm_sd_configs',
  'dns_sd_configs',
  'ec2_sd_configs',
  'eureka_sd_configs',
  'gce_sd_configs',
  'hetzner_sd_configs',
  'http_sd_configs',
  'ionos_sd_configs',
  'kuma_sd_configs',
  'lightsail_sd_configs',
  'linode_sd_configs',
  'marathon_sd_configs',
  'nerve_sd_configs',
  'nomad_sd_configs',
  'openstack_sd_configs',
  'ovhcloud_sd_configs',
  'puppetdb_sd_configs',
  'scaleway_sd_configs',
  'serverset_sd_configs',
  'triton_sd_configs',
  'uyuni_sd_configs',
  'vultr_sd_configs',
] as const;

const scrapeConfig = struct('config.ScrapeConfig', {
  job_name: str,
  honor_labels: bool,
  honor_timestamps: bool,
  track_timestamps_staleness: bool,
  params: map(list(str)),
  scrape_interval: duration,
  scrape_timeout: duration,
  scrape_protocols: list(str),
  scrape_classic_histograms: bool,
  metrics_path: str,
  scheme: str,
  enable_compression: bool,
  body_size_limit: size,
  sample_limit: uint,
  target_limit: uint,
  label_limit: uint,
  label_name_length_limit: uint,
  label_value_length_limit: uint,
  native_histogram_bucket_limit: uint,
  native_histogram_min_bucket_factor: float,
  keep_dropped_targets: uint,
  ...httpClientFields,
  static_configs: list(staticConfig),
  file_sd_configs: list(fileSdConfig),
  kubernetes_sd_configs: list(kubernetesSdConfig),
  ...Object.fromEntries(UNSUPPORTED_SD_CONFIGS.map((name) => [name, any])),
  relabel_configs: list(relabelConfig),
  metric_relabel_configs: list(relabelConfig),
});

const globalConfig = struct('config.plain', {
  scrape_interval: duration,
  scrape_timeout: duration,
  scrape_protocols: list(str),
  evaluation_interval: duration,
  rule_query_offset: duration,
  query_log_file: str,
  external_labels: map(str),
  body_size_limit: size,
  sample_limit: uint,
  target_limit: uint,
  label_limit: uint,
  label_name_length_limit: uint,
  label_value_length_limit: uint,
  keep_dropped_targets: uint,
});

const configFile = struct('config.plain', {
  global: globalConfig,
  alerting: any,
  rule_files: list(str),
  scrape_config_files: list(str),
  scrape_configs: list(scrapeConfig),
  storage: any,
  tracing: any,
  remote_write: any,
  remote_read: any,
  otlp: any,
});

export interface TlsConfig {
  ca?: string;
  caFile?: string;
  cert?: string;
  certFile?: string;
  key?: string;
  keyFile?: string;
  serverName?: string;
  insecureSkipVerify: boolean;
}

export interface HttpClientConfig {
  basicAuth?: { username: string; password?: string; passwordFile?: string };
  authorization?: { type: string; credentials?: string; credentialsFile?: string };
  tls: TlsConfig;
  proxyUrl?: string;
  followRedirects: boolean;
  enableHttp2: boolean;
  /** Whether anything differs from the defaults (Kubernetes discovery needs api_server then). */
  customized: boolean;
}

export interface KubernetesSdConfig {
  role: 'pod' | 'service' | 'endpoints' | 'endpointslice' | 'node' | 'ingress';
  apiServer?: string;
  kubeconfigFile?: string;
  namespaces: { ownNamespace: boolean; names: string[] };
  selectors: Array<{ role: string; label?: string; field?: string }>;
  attachMetadata: { node: boolean };
  http: HttpClientConfig;
}

export interface FileSdConfig {
  files: string[];
  refreshIntervalMs: number;
}

export interface StaticConfig {
  targets: string[];
  labels: Record<string, string>;
}

export interface ScrapeConfig {
  jobName: string;
  honorLabels: boolean;
  honorTimestamps: boolean;
  trackTimestampsStaleness: boolean;
  params: Record<string, string[]>;
  scrapeIntervalMs: number;
  scrapeTimeoutMs: number;
  scrapeProtocols: string[];
  metricsPath: string;
  scheme: string;
  enableCompression: boolean;
  bodySizeLimit: number;
  sampleLimit: number;
  targetLimit: number;
  labelLimit: number;
  labelNameLengthLimit: number;
  labelValueLengthLimit: number;
  keepDroppedTargets: number;
  http: HttpClientConfig;
  staticConfigs: StaticConfig[];
  fileSdConfigs: FileSdConfig[];
  kubernetesSdConfigs: KubernetesSdConfig[];
  relabelConfigs: RelabelConfig[];
  metricRelabelConfigs: RelabelConfig[];
}

export interface GlobalConfig {
  scrapeIntervalMs: number;
  scrapeTimeoutMs: number;
  evaluationIntervalMs: number;
  externalLabels: Labels;
  scrapeProtocols: string[];
  bodySizeLimit: number;
  sampleLimit: number;
  targetLimit: number;
  labelLimit: number;
  labelNameLengthLimit: number;
  labelValueLengthLimit: number;
  keepDroppedTargets: number;
}

export interface PrometheusConfig {
  global: GlobalConfig;
  scrapeConfigs: ScrapeConfig[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const SCRAPE_PROTOCOL_HEADERS: Record<string, string> = {
  PrometheusProto:
    'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
  'PrometheusText0.0.4': 'text/plain;version=0.0.4',
  'OpenMetricsText0.0.1': 'application/openmetrics-text;version=0.0.1',
  'OpenMetricsText1.0.0': 'application/openmetrics-text;version=1.0.0',
};
export const DEFAULT_SCRAPE_PROTOCOLS = [
  'OpenMetricsText1.0.0',
  'OpenMetricsText0.0.1',
  'PrometheusText0.0.4',
];

/** config.LoadFile: reads and validates the file; errors read as Prometheus words them. */
export async function loadConfigFile(file: string): Promise<PrometheusConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(
      e.code === 'ENOENT' ? `open ${file}: no such file or directory` : `open ${file}: ${e.message}`,
    );
  }
  try {
    return parseConfig(text, path.dirname(file));
  } catch (err) {
    throw new ConfigError(`parsing YAML file ${file}: ${(err as Error).message}`);
  }
}

/** config.Load for the text of a configuration file; relative file paths are resolved against `dir`. */
export function parseConfig(text: string, dir = '.'): PrometheusConfig {
  const raw = decodeStrict(text, configFile);
  const global = globalFrom(raw.global ?? {});
  for (const field of ['alerting', 'remote_write', 'remote_read'] as const) {
    if (raw[field] !== undefined && !isEmpty(raw[field]))
      throw new Error(`${field} is not implemented by the twin's Prometheus (its queries and scrapes are)`);
  }
  for (const field of ['rule_files', 'scrape_config_files'] as const) {
    if ((raw[field] ?? []).length > 0)
      throw new Error(`${field} is not implemented by the twin's Prometheus (its queries and scrapes are)`);
  }
  const jobs = new Set<string>();
  const scrapeConfigs: ScrapeConfig[] = [];
  for (const sc of raw.scrape_configs ?? []) {
    if (sc === undefined || sc === null) throw new Error('empty or null scrape config section');
    const parsed = scrapeConfigFrom(sc, global, dir);
    if (jobs.has(parsed.jobName))
      throw new Error(`found multiple scrape configs with job name ${JSON.stringify(parsed.jobName)}`);
    jobs.add(parsed.jobName);
    scrapeConfigs.push(parsed);
  }
  return { global, scrapeConfigs };
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as object).every(isEmpty);
  return false;
}

function durationOf(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  try {
    return parsePrometheusDuration(text);
  } catch (err) {
    if (err instanceof DurationError) throw new Error(err.message);
    throw err;
  }
}

/** units.Base2Bytes: `512MB` (powers of 2), `0` for no limit. */
export function parseSize(text: string | undefined): number {
  if (text === undefined || text === '' || text === '0') return 0;
  const m = /^(\d+)(B|KB|MB|GB|TB|PB|EB|KiB|MiB|GiB|TiB|PiB|EiB)$/.exec(text);
  if (!m) throw new Error(`units: invalid byte size ${JSON.stringify(text)}`);
  const powers: Record<string, number> = { B: 0, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6 };
  return Number(m[1]) * 1024 ** powers[m[2]![0]!]!;
}

function validateProtocols(protocols: string[], where: string): void {
  if (protocols.length === 0) throw new Error(`scrape_protocols cannot be empty ${where}`);
  const seen = new Set<string>();
  for (const p of protocols) {
    if (seen.has(p.toLowerCase()))
      throw new Error(`duplicated protocol in scrape_protocols, got [${protocols.join(' ')}] ${where}`);
    if (!(p in SCRAPE_PROTOCOL_HEADERS))
      throw new Error(
        `scrape_protocols: unknown scrape protocol ${p}, supported: [${Object.keys(SCRAPE_PROTOCOL_HEADERS).sort().join(' ')}] ${where}`,
      );
    seen.add(p.toLowerCase());
  }
}

function globalFrom(raw: any): GlobalConfig {
  const externalLabels = labelsFrom(raw.external_labels ?? {});
  for (const l of externalLabels)
    if (!isValidLabelName(l.name)) throw new Error(`${JSON.stringify(l.name)} is not a valid label name`);
  const scrapeIntervalMs = durationOf(raw.scrape_interval, 60_000) || 60_000;
  let scrapeTimeoutMs = durationOf(raw.scrape_timeout, 0);
  if (scrapeTimeoutMs > scrapeIntervalMs)
    throw new Error('global scrape timeout greater than scrape interval');
  if (scrapeTimeoutMs === 0) scrapeTimeoutMs = Math.min(10_000, scrapeIntervalMs);
  const scrapeProtocols = raw.scrape_protocols ?? DEFAULT_SCRAPE_PROTOCOLS;
  validateProtocols(scrapeProtocols, 'for global config');
  return {
    scrapeIntervalMs,
    scrapeTimeoutMs,
    evaluationIntervalMs: durationOf(raw.evaluation_interval, 60_000) || 60_000,
    externalLabels,
    scrapeProtocols,
    bodySizeLimit: parseSize(raw.body_size_limit),
    sampleLimit: raw.sample_limit ?? 0,
    targetLimit: raw.target_limit ?? 0,
    labelLimit: raw.label_limit ?? 0,
    labelNameLengthLimit: raw.label_name_length_limit ?? 0,
    labelValueLengthLimit: raw.label_value_length_limit ?? 0,
    keepDroppedTargets: raw.keep_dropped_targets ?? 0,
  };
}

function httpClientFrom(raw: any, dir: string): HttpClientConfig {
  const resolve = (f: string | undefined) => (f ? path.resolve(dir, f) : undefined);
  const tls = raw.tls_config ?? {};
  const config: HttpClientConfig = {
    tls: {
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.ca_file ? { caFile: resolve(tls.ca_file)! } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.cert_file ? { certFile: resolve(tls.cert_file)! } : {}),
      ...(tls.key ? { key: tls.key } : {}),
      ...(tls.key_file ? { keyFile: resolve(tls.key_file)! } : {}),
      ...(tls.server_name ? { serverName: tls.server_name } : {}),
      insecureSkipVerify: tls.insecure_skip_verify ?? false,
    },
    followRedirects: raw.follow_redirects ?? true,
    enableHttp2: raw.enable_http2 ?? true,
    customized: false,
  };
  if (raw.basic_auth) {
    config.basicAuth = {
      username: raw.basic_auth.username ?? '',
      ...(raw.basic_auth.password ? { password: raw.basic_auth.password } : {}),
      ...(raw.basic_auth.password_file ? { passwordFile: resolve(raw.basic_auth.password_file)! } : {}),
    };
  }
  const authCount =
    (raw.basic_auth ? 1 : 0) +
    (raw.authorization ? 1 : 0) +
    (raw.oauth2 ? 1 : 0) +
    (raw.bearer_token || raw.bearer_token_file ? 1 : 0);
  if (authCount > 1)
    throw new Error('at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured');
  if (raw.bearer_token && raw.bearer_token_file)
    throw new Error('at most one of bearer_token & bearer_token_file must be configured');
  if (raw.oauth2) throw new Error("oauth2 is not implemented by the twin's Prometheus");
  if (raw.bearer_token || raw.bearer_token_file) {
    config.authorization = {
      type: 'Bearer',
      ...(raw.bearer_token ? { credentials: raw.bearer_token } : {}),
      ...(raw.bearer_token_file ? { credentialsFile: resolve(raw.bearer_token_file)! } : {}),
    };
  }
  if (raw.authorization) {
    const type = raw.authorization.type ?? 'Bearer';
    if (type.toLowerCase() === 'basic')
      throw new Error(`authorization type cannot be set to "basic", use "basic_auth" instead`);
    if (raw.authorization.credentials && raw.authorization.credentials_file)
      throw new Error('at most one of authorization credentials & credentials_file must be configured');
    config.authorization = {
      type,
      ...(raw.authorization.credentials ? { credentials: raw.authorization.credentials } : {}),
      ...(raw.authorization.credentials_file
        ? { credentialsFile: resolve(raw.authorization.credentials_file)! }
        : {}),
    };
  }
  if (raw.proxy_url) config.proxyUrl = raw.proxy_url;
  config.customized =
    authCount > 0 ||
    raw.proxy_url !== undefined ||
    Object.keys(tls).length > 0 ||
    raw.follow_redirects === false ||
    raw.enable_http2 === false;
  return config;
}

const ROLES = ['pod', 'service', 'endpoints', 'endpointslice', 'node', 'ingress'];
const SELECTOR_ROLES: Record<string, string[]> = {
  pod: ['pod', 'node'],
  service: ['service'],
  endpoints: ['endpoints', 'pod', 'service', 'node'],
  endpointslice: ['endpointslice', 'pod', 'service', 'node'],
  node: ['node'],
  ingress: ['ingress'],
};

function kubernetesFrom(raw: any, dir: string): KubernetesSdConfig {
  const role = raw.role;
  if (!role) throw new Error('role missing (one of: pod, service, endpoints, endpointslice, node, ingress)');
  if (!ROLES.includes(role)) throw new Error(`unknown Kubernetes SD role ${JSON.stringify(role)}`);
  if (raw.api_server && raw.kubeconfig_file)
    throw new Error("cannot use 'kubeconfig_file' and 'api_server' simultaneously");
  const http = httpClientFrom(raw, dir);
  if (raw.kubeconfig_file && http.customized)
    throw new Error("cannot use a custom HTTP client configuration together with 'kubeconfig_file'");
  if (!raw.api_server && !raw.kubeconfig_file && http.customized)
    throw new Error("to use custom HTTP client configuration please provide the 'api_server' URL explicitly");
  if (raw.api_server !== undefined && !/^https?:\/\/[^/]+/.test(raw.api_server))
    throw new Error(`parse ${JSON.stringify(raw.api_server)}: invalid URI for request`);
  const selectors = (raw.selectors ?? []).map((s: any) => ({
    role: s.role ?? '',
    ...(s.label ? { label: s.label } : {}),
    ...(s.field ? { field: s.field } : {}),
  }));
  const seen = new Set<string>();
  for (const s of selectors) {
    if (!SELECTOR_ROLES[role]!.includes(s.role))
      throw new Error(`${role} role supports only ${SELECTOR_ROLES[role]!.join(', ')} selectors`);
    if (seen.has(s.role)) throw new Error(`duplicated selector role: ${s.role}`);
    seen.add(s.role);
  }
  if (role === 'endpointslice' || role === 'ingress')
    throw new Error(
      `the twin's Prometheus does not implement the Kubernetes SD role ${JSON.stringify(role)}`,
    );
  return {
    role,
    ...(raw.api_server ? { apiServer: raw.api_server } : {}),
    ...(raw.kubeconfig_file ? { kubeconfigFile: path.resolve(dir, raw.kubeconfig_file) } : {}),
    namespaces: {
      ownNamespace: raw.namespaces?.own_namespace ?? false,
      names: raw.namespaces?.names ?? [],
    },
    selectors,
    attachMetadata: { node: raw.attach_metadata?.node ?? false },
    http,
  };
}

function scrapeConfigFrom(raw: any, global: GlobalConfig, dir: string): ScrapeConfig {
  const jobName: string = raw.job_name ?? '';
  if (jobName === '') throw new Error('job_name is empty');
  for (const name of UNSUPPORTED_SD_CONFIGS) {
    if (raw[name] !== undefined)
      throw new Error(
        `scrape config with job name ${JSON.stringify(jobName)}: ${name} are not implemented by the twin's Prometheus (static_configs, file_sd_configs and kubernetes_sd_configs are)`,
      );
  }
  const scrapeIntervalMs = durationOf(raw.scrape_interval, 0) || global.scrapeIntervalMs;
  let scrapeTimeoutMs = durationOf(raw.scrape_timeout, 0);
  if (scrapeTimeoutMs > scrapeIntervalMs)
    throw new Error(
      `scrape timeout greater than scrape interval for scrape config with job name ${JSON.stringify(jobName)}`,
    );
  if (scrapeTimeoutMs === 0) scrapeTimeoutMs = Math.min(global.scrapeTimeoutMs, scrapeIntervalMs);
  const scrapeProtocols = raw.scrape_protocols ?? global.scrapeProtocols;
  validateProtocols(scrapeProtocols, `for scrape config with job name ${JSON.stringify(jobName)}`);
  const relabelList = (items: RelabelConfigInput[] | undefined, what: string) =>
    (items ?? []).map((r) => {
      if (r === undefined || r === null)
        throw new Error(
          `empty or null ${what} rule in scrape config with job name ${JSON.stringify(jobName)}`,
        );
      return relabelConfigFrom(r);
    });
  const staticConfigs: StaticConfig[] = (raw.static_configs ?? []).map((g: any) => {
    const labels: Record<string, string> = g?.labels ?? {};
    for (const name of Object.keys(labels))
      if (!isValidLabelName(name)) throw new Error(`${JSON.stringify(name)} is not a valid label name`);
    const targets: string[] = g?.targets ?? [];
    for (const t of targets)
      if (t.includes('/')) throw new Error(`${JSON.stringify(t)} is not a valid hostname`);
    return { targets, labels };
  });
  const fileSdConfigs: FileSdConfig[] = (raw.file_sd_configs ?? []).map((f: any) => {
    const files: string[] = f?.files ?? [];
    for (const file of files) {
      if (!/\.(json|ya?ml)$/.test(file) && !/\*$/.test(file))
        throw new Error(`path name ${JSON.stringify(file)} is not valid for file discovery`);
    }
    return {
      files: files.map((file) => path.resolve(dir, file)),
      refreshIntervalMs: durationOf(f?.refresh_interval, 300_000),
    };
  });
  const params: Record<string, string[]> = raw.params ?? {};
  const scheme: string = raw.scheme ?? 'http';
  return {
    jobName,
    honorLabels: raw.honor_labels ?? false,
    honorTimestamps: raw.honor_timestamps ?? true,
    trackTimestampsStaleness: raw.track_timestamps_staleness ?? false,
    params,
    scrapeIntervalMs,
    scrapeTimeoutMs,
    scrapeProtocols,
    metricsPath: raw.metrics_path ?? '/metrics',
    scheme,
    enableCompression: raw.enable_compression ?? true,
    bodySizeLimit: raw.body_size_limit !== undefined ? parseSize(raw.body_size_limit) : global.bodySizeLimit,
    sampleLimit: raw.sample_limit ?? global.sampleLimit,
    targetLimit: raw.target_limit ?? global.targetLimit,
    labelLimit: raw.label_limit ?? global.labelLimit,
    labelNameLengthLimit: raw.label_name_length_limit ?? global.labelNameLengthLimit,
    labelValueLengthLimit: raw.label_value_length_limit ?? global.labelValueLengthLimit,
    keepDroppedTargets: raw.keep_dropped_targets ?? global.keepDroppedTargets,
    http: httpClientFrom(raw, dir),
    staticConfigs,
    fileSdConfigs,
    kubernetesSdConfigs: (raw.kubernetes_sd_configs ?? []).map((k: any) => kubernetesFrom(k ?? {}, dir)),
    relabelConfigs: relabelList(raw.relabel_configs, 'target relabeling'),
    metricRelabelConfigs: relabelList(raw.metric_relabel_configs, 'metric relabeling'),
  };
}
