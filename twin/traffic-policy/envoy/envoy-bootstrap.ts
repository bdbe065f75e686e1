import { parse } from 'yaml';
import { parseRetryOn, retryPolicy } from '../retry-policy.ts';
import type {
  CircuitBreakerThresholds,
  FaultPolicy,
  HeaderMatch,
  OutlierDetectionPolicy,
  Route,
  RouteAction,
  RouteMatch,
  StringMatch,
} from '../route-table.ts';
import { ENVOY_DEFAULT_THRESHOLDS } from '../route-table.ts';
import { ProtoReader } from './proto-fields.ts';

/** Where a certificate or key comes from (config.core.v3.DataSource). */
export type DataSource = { filename: string } | { inline: string };

export interface VirtualHostSpec {
  name: string;
  domains: string[];
  /** NONE, or a redirect to https for requests that did not come over TLS (EXTERNAL_ONLY and ALL). */
  requireTls: 'NONE' | 'EXTERNAL_ONLY' | 'ALL';
  routes: Route[];
}

/** envoy.filters.http.local_ratelimit: a token bucket per listener (HTTP connection manager). */
export interface LocalRateLimitSpec {
  maxTokens: number;
  tokensPerFill: number;
  fillIntervalMs: number;
  /** Percent of requests the filter checks (filter_enabled) and enforces (filter_enforced): 0 unless set, as Envoy defaults them. */
  enabledPercent: number;
  enforcedPercent: number;
  responseHeaders: Array<[string, string]>;
}

export interface ListenerSpec {
  name: string;
  address: string;
  port: number;
  tls?: { certificateChain: DataSource; privateKey: DataSource; alpn: string[] };
  virtualHosts: VirtualHostSpec[];
  rateLimit?: LocalRateLimitSpec;
}

export interface EndpointAddress {
  address: string;
  port: number;
}

export interface ClusterDefinition {
  name: string;
  type: 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS';
  endpoints: EndpointAddress[];
  connectTimeoutMs: number;
  dnsRefreshMs: number;
  thresholds: CircuitBreakerThresholds;
  outlier?: OutlierDetectionPolicy;
  panicThresholdPercent: number;
}

export interface EnvoyBootstrap {
  listeners: ListenerSpec[];
  clusters: ClusterDefinition[];
  admin?: { address: string; port: number };
}

const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TLS = 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';
const LOCAL_RATE_LIMIT = 'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const FAULT = 'envoy.extensions.filters.http.fault.v3.HTTPFault';
/** Envoy's route timeout when a route names none. */
const ENVOY_ROUTE_TIMEOUT_MS = 15_000;

/**
 * Reads an Envoy v3 bootstrap (YAML or JSON) as Envoy does with strict validation: `static_resources`
 * listeners (an http_connection_manager with its route_config and http_filters: local_ratelimit, fault,
 * router; TLS termination), clusters (STATIC, STRICT_DNS, LOGICAL_DNS endpoints, circuit_breakers,
 * outlier_detection, connect_timeout, healthy panic threshold) and `admin`. Unknown fields, and fields
 * Envoy knows but the twin does not play, are TwinErrors naming the field path.
 */
export function parseBootstrap(text: string, file: string): EnvoyBootstrap {
  const r = new ProtoReader(file);
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    r.fail('(document)', `not YAML: ${(err as Error).message}`);
  }
  const top = r.object(
    doc,
    'bootstrap',
    ['node', 'static_resources', 'admin', 'layered_runtime'],
    [
      'dynamic_resources',
      'cluster_manager',
      'stats_sinks',
      'stats_config',
      'overload_manager',
      'tracing',
      'watchdogs',
    ],
  );
  if (top.node) r.object(top.node, 'node', ['id', 'cluster', 'metadata', 'locality']);
  if (top.layered_runtime) layeredRuntime(r, top.layered_runtime);
  const sr = r.object(top.static_resources ?? {}, 'static_resources', ['listeners', 'clusters'], ['secrets']);
  const clusters = r
    .array(sr.clusters, 'static_resources.clusters')
    .map((c, i) => cluster(r, c, `static_resources.clusters[${i}]`));
  const names = new Set(clusters.map((c) => c.name));
  const listeners = r
    .array(sr.listeners, 'static_resources.listeners')
    .map((l, i) => listener(r, l, `static_resources.listeners[${i}]`, names));
  const out: EnvoyBootstrap = { listeners, clusters };
  if (top.admin) {
    const a = r.object(top.admin, 'admin', ['address', 'access_log', 'access_log_path', 'profile_path']);
    if (a.address) out.admin = socketAddress(r, a.address, 'admin.address');
  }
  return out;
}

function layeredRuntime(r: ProtoReader, v: unknown): void {
  const lr = r.object(v, 'layered_runtime', ['layers']);
  r.array(lr.layers, 'layered_runtime.layers').forEach((l, i) => {
    const layer = r.object(
      l,
      `layered_runtime.layers[${i}]`,
      ['name', 'static_layer', 'admin_layer'],
      ['disk_layer', 'rtds_layer'],
    );
    if (layer.static_layer && Object.keys(layer.static_layer).length > 0)
      r.fail(
        `layered_runtime.layers[${i}].static_layer`,
        'runtime overrides are not implemented by the twin',
      );
  });
}

function socketAddress(r: ProtoReader, v: unknown, path: string): EndpointAddress {
  const a = r.object(v, path, ['socket_address'], ['pipe', 'envoy_internal_address']);
  const s = r.object(
    a.socket_address,
    `${path}.socket_address`,
    ['address', 'port_value', 'protocol', 'ipv4_compat'],
    ['named_port', 'resolver_name'],
  );
  if (s.protocol !== undefined && s.protocol !== 'TCP')
    r.fail(`${path}.socket_address.protocol`, `${s.protocol}: only TCP is implemented`);
  return {
    address: r.string(s.address, `${path}.socket_address.address`),
    port: r.uint(s.port_value, `${path}.socket_address.port_value`),
  };
}

function listener(r: ProtoReader, v: unknown, path: string, clusters: ReadonlySet<string>): ListenerSpec {
  const l = r.object(
    v,
    path,
    [
      'name',
      'address',
      'filter_chains',
      'listener_filters',
      'per_connection_buffer_limit_bytes',
      'traffic_direction',
    ],
    ['default_filter_chain', 'filter_chain_matcher', 'udp_listener_config', 'additional_addresses'],
  );
  const addr = socketAddress(r, l.address, `${path}.address`);
  for (const [i, lf] of r.array(l.listener_filters, `${path}.listener_filters`).entries()) {
    const f = r.object(lf, `${path}.listener_filters[${i}]`, ['name', 'typed_config']);
    if (f.name !== 'envoy.filters.listener.tls_inspector')
      r.fail(
        `${path}.listener_filters[${i}].name`,
        `${f.name}: only envoy.filters.listener.tls_inspector is implemented`,
      );
  }
  const chains = r.array(l.filter_chains, `${path}.filter_chains`);
  if (chains.length !== 1)
    r.fail(
      `${path}.filter_chains`,
      `${chains.length} filter chains: the twin implements one per listener (no filter_chain_match)`,
    );
  const cp = `${path}.filter_chains[0]`;
  const chain = r.object(chains[0], cp, ['name', 'filters', 'transport_socket'], ['filter_chain_match']);
  const out: ListenerSpec = {
    name: l.name ?? `${addr.address}:${addr.port}`,
    address: addr.address,
    port: addr.port,
    virtualHosts: [],
  };
  if (chain.transport_socket) out.tls = downstreamTls(r, chain.transport_socket, `${cp}.transport_socket`);
  const filters = r.array(chain.filters, `${cp}.filters`);
  if (filters.length !== 1)
    r.fail(
      `${cp}.filters`,
      'exactly one network filter, envoy.filters.network.http_connection_manager, is implemented',
    );
  const fp = `${cp}.filters[0]`;
  const f = r.object(filters[0], fp, ['name', 'typed_config']);
  if (f.name !== 'envoy.filters.network.http_connection_manager')
    r.fail(`${fp}.name`, `${f.name}: only envoy.filters.network.http_connection_manager is implemented`);
  const tp = `${fp}.typed_config`;
  const hcm = r.typed(
    f.typed_config,
    tp,
    HCM,
    [
      'stat_prefix',
      'codec_type',
      'route_config',
      'http_filters',
      'access_log',
      'use_remote_address',
      'xff_num_trusted_hops',
      'generate_request_id',
      'server_name',
      'normalize_path',
      'merge_slashes',
      'common_http_protocol_options',
      'stream_idle_timeout',
      'request_timeout',
    ],
    [
      'rds',
      'scoped_routes',
      'upgrade_configs',
      'tracing',
      'forward_client_cert_details',
      'set_current_client_cert_details',
      'internal_address_config',
    ],
  );
  if (hcm.codec_type !== undefined && !['AUTO', 'HTTP1'].includes(hcm.codec_type))
    r.fail(`${tp}.codec_type`, `${hcm.codec_type}: the twin serves HTTP/1.1 (AUTO, HTTP1)`);
  const http = r.array(hcm.http_filters, `${tp}.http_filters`);
  let fault: FaultPolicy | undefined;
  http.forEach((hf, i) => {
    const hp = `${tp}.http_filters[${i}]`;
    const h = r.object(hf, hp, ['name', 'typed_config']);
    if (h.name === 'envoy.filters.http.router') {
      if (i !== http.length - 1) r.fail(hp, 'the router must be the last HTTP filter');
      r.typed(h.typed_config, `${hp}.typed_config`, ROUTER, ['suppress_envoy_headers']);
    } else if (h.name === 'envoy.filters.http.local_ratelimit')
      out.rateLimit = localRateLimit(r, h.typed_config, `${hp}.typed_config`);
    else if (h.name === 'envoy.filters.http.fault')
      fault = faultFilter(r, h.typed_config, `${hp}.typed_config`);
    else
      r.fail(
        `${hp}.name`,
        `${h.name}: the twin implements envoy.filters.http.router, local_ratelimit and fault`,
      );
  });
  if (http.at(-1)?.name !== 'envoy.filters.http.router')
    r.fail(`${tp}.http_filters`, 'no envoy.filters.http.router: Envoy routes nothing without it');
  const rc = r.object(
    hcm.route_config,
    `${tp}.route_config`,
    ['name', 'virtual_hosts', 'validate_clusters'],
    ['request_headers_to_add', 'response_headers_to_add', 'internal_only_headers'],
  );
  out.virtualHosts = r
    .array(rc.virtual_hosts, `${tp}.route_config.virtual_hosts`)
    .map((vh, i) => virtualHost(r, vh, `${tp}.route_config.virtual_hosts[${i}]`, clusters, fault));
  return out;
}

function downstreamTls(r: ProtoReader, v: unknown, path: string): ListenerSpec['tls'] {
  const ts = r.object(v, path, ['name', 'typed_config']);
  if (ts.name !== 'envoy.transport_sockets.tls')
    r.fail(`${path}.name`, `${ts.name}: only envoy.transport_sockets.tls is implemented`);
  const tp = `${path}.typed_config`;
  const ctx = r.typed(
    ts.typed_config,
    tp,
    TLS,
    ['common_tls_context', 'require_client_certificate'],
    ['session_ticket_keys', 'require_sni', 'ocsp_staple_policy'],
  );
  if (ctx.require_client_certificate === true)
    r.fail(`${tp}.require_client_certificate`, 'client certificates (mTLS) are not implemented by the twin');
  const ctp = `${tp}.common_tls_context`;
  const c = r.object(
    ctx.common_tls_context,
    ctp,
    ['tls_certificates', 'alpn_protocols', 'tls_params'],
    ['tls_certificate_sds_secret_configs', 'validation_context', 'validation_context_sds_secret_config'],
  );
  if (c.tls_params)
    r.object(
      c.tls_params,
      `${ctp}.tls_params`,
      ['tls_minimum_protocol_version', 'tls_maximum_protocol_version'],
      ['cipher_suites', 'ecdh_curves'],
    );
  const certs = r.array(c.tls_certificates, `${ctp}.tls_certificates`);
  if (certs.length !== 1)
    r.fail(`${ctp}.tls_certificates`, `${certs.length} certificates: the twin serves exactly one`);
  const cert = r.object(
    certs[0],
    `${ctp}.tls_certificates[0]`,
    ['certificate_chain', 'private_key'],
    ['password', 'ocsp_staple', 'watched_directory'],
  );
  const source = (s: unknown, p: string): DataSource => {
    const d = r.object(s, p, ['filename', 'inline_string', 'inline_bytes'], ['environment_variable']);
    if (d.filename !== undefined) return { filename: r.string(d.filename, `${p}.filename`) };
    if (d.inline_string !== undefined) return { inline: r.string(d.inline_string, `${p}.inline_string`) };
    if (d.inline_bytes !== undefined)
      return { inline: Buffer.from(r.string(d.inline_bytes, `${p}.inline_bytes`), 'base64').toString() };
    return r.fail(p, 'needs filename, inline_string or inline_bytes');
  };
  return {
    certificateChain: source(cert.certificate_chain, `${ctp}.tls_certificates[0].certificate_chain`),
    privateKey: source(cert.private_key, `${ctp}.tls_certificates[0].private_key`),
    alpn: r
      .array(c.alpn_protocols, `${ctp}.alpn_protocols`)
      .map((a, i) => r.string(a, `${ctp}.alpn_protocols[${i}]`)),
  };
}

function runtimePercent(r: ProtoReader, v: unknown, path: string): number {
  if (v === undefined) return 0;
  const o = r.object(v, path, ['runtime_key', 'default_value']);
  return o.default_value === undefined ? 0 : r.fractionalPercent(o.default_value, `${path}.default_value`);
}

function localRateLimit(r: ProtoReader, v: unknown, path: string): LocalRateLimitSpec {
  const o = r.typed(
    v,
    path,
    LOCAL_RATE_LIMIT,
    ['stat_prefix', 'token_bucket', 'filter_enabled', 'filter_enforced', 'response_headers_to_add', 'status'],
    [
      'descriptors',
      'stage',
      'local_rate_limit_per_downstream_connection',
      'request_headers_to_add_when_not_enforced',
    ],
  );
  if (o.token_bucket === undefined) r.fail(`${path}.token_bucket`, 'is required');
  const tb = r.object(o.token_bucket, `${path}.token_bucket`, [
    'max_tokens',
    'tokens_per_fill',
    'fill_interval',
  ]);
  if (o.status !== undefined) r.object(o.status, `${path}.status`, ['code']);
  const headers = r
    .array(o.response_headers_to_add, `${path}.response_headers_to_add`)
    .map((h, i): [string, string] => {
      const hp = `${path}.response_headers_to_add[${i}]`;
      const opt = r.object(h, hp, ['header', 'append', 'append_action', 'keep_empty_value']);
      const hv = r.object(opt.header, `${hp}.header`, ['key', 'value']);
      return [r.string(hv.key, `${hp}.header.key`), String(hv.value ?? '')];
    });
  return {
    maxTokens: r.uint(tb.max_tokens, `${path}.token_bucket.max_tokens`),
    tokensPerFill:
      tb.tokens_per_fill === undefined
        ? 1
        : r.uint(tb.tokens_per_fill, `${path}.token_bucket.tokens_per_fill`),
    fillIntervalMs: r.duration(tb.fill_interval, `${path}.token_bucket.fill_interval`),
    enabledPercent: runtimePercent(r, o.filter_enabled, `${path}.filter_enabled`),
    enforcedPercent: runtimePercent(r, o.filter_enforced, `${path}.filter_enforced`),
    responseHeaders: headers,
  };
}

function faultFilter(r: ProtoReader, v: unknown, path: string): FaultPolicy {
  const o = r.typed(
    v,
    path,
    FAULT,
    ['delay', 'abort'],
    [
      'upstream_cluster',
      'headers',
      'downstream_nodes',
      'max_active_faults',
      'response_rate_limit',
      'delay_percent_runtime',
      'abort_percent_runtime',
    ],
  );
  const out: FaultPolicy = {};
  if (o.delay) {
    const d = r.object(o.delay, `${path}.delay`, ['fixed_delay', 'percentage'], ['header_delay']);
    out.delay = {
      fixedDelayMs: r.duration(d.fixed_delay, `${path}.delay.fixed_delay`),
      percent: d.percentage ? r.fractionalPercent(d.percentage, `${path}.delay.percentage`) : 0,
    };
  }
  if (o.abort) {
    const a = r.object(
      o.abort,
      `${path}.abort`,
      ['http_status', 'percentage'],
      ['grpc_status', 'header_abort'],
    );
    out.abort = {
      httpStatus: r.uint(a.http_status, `${path}.abort.http_status`),
      percent: a.percentage ? r.fractionalPercent(a.percentage, `${path}.abort.percentage`) : 0,
    };
  }
  return out;
}

function virtualHost(
  r: ProtoReader,
  v: unknown,
  path: string,
  clusters: ReadonlySet<string>,
  fault: FaultPolicy | undefined,
): VirtualHostSpec {
  const vh = r.object(
    v,
    path,
    ['name', 'domains', 'routes', 'require_tls', 'retry_policy'],
    [
      'virtual_clusters',
      'rate_limits',
      'request_headers_to_add',
      'response_headers_to_add',
      'cors',
      'typed_per_filter_config',
      'hedge_policy',
    ],
  );
  const requireTls = vh.require_tls ?? 'NONE';
  if (!['NONE', 'EXTERNAL_ONLY', 'ALL'].includes(requireTls))
    r.fail(`${path}.require_tls`, `${requireTls}: expected NONE, EXTERNAL_ONLY or ALL`);
  const vhRetry = vh.retry_policy ? retry(r, vh.retry_policy, `${path}.retry_policy`) : undefined;
  return {
    name: r.string(vh.name, `${path}.name`),
    domains: r.array(vh.domains, `${path}.domains`).map((d, i) => r.string(d, `${path}.domains[${i}]`)),
    requireTls,
    routes: r
      .array(vh.routes, `${path}.routes`)
      .map((rt, i) => route(r, rt, `${path}.routes[${i}]`, clusters, fault, vhRetry)),
  };
}

function stringMatcher(r: ProtoReader, v: unknown, path: string): StringMatch {
  const o = r.object(v, path, ['exact', 'prefix', 'suffix', 'contains', 'safe_regex', 'ignore_case']);
  const ic = o.ignore_case === true ? { ignoreCase: true } : {};
  if (o.exact !== undefined) return { exact: r.string(o.exact, `${path}.exact`), ...ic };
  if (o.prefix !== undefined) return { prefix: r.string(o.prefix, `${path}.prefix`), ...ic };
  if (o.suffix !== undefined) return { suffix: r.string(o.suffix, `${path}.suffix`), ...ic };
  if (o.contains !== undefined) return { contains: r.string(o.contains, `${path}.contains`), ...ic };
  if (o.safe_regex !== undefined) return { regex: regex(r, o.safe_regex, `${path}.safe_regex`) };
  return r.fail(path, 'needs one of exact, prefix, suffix, contains, safe_regex');
}

function regex(r: ProtoReader, v: unknown, path: string): string {
  const o = r.object(v, path, ['regex', 'google_re2']);
  const text = r.string(o.regex, `${path}.regex`);
  try {
    new RegExp(text);
  } catch (err) {
    r.fail(`${path}.regex`, `invalid regular expression: ${(err as Error).message}`);
  }
  return text;
}

function routeMatch(r: ProtoReader, v: unknown, path: string): RouteMatch {
  const m = r.object(
    v,
    path,
    ['prefix', 'path', 'safe_regex', 'headers', 'query_parameters', 'case_sensitive'],
    [
      'path_separated_prefix',
      'path_match_policy',
      'connect_matcher',
      'grpc',
      'tls_context',
      'runtime_fraction',
      'dynamic_metadata',
    ],
  );
  const ic = m.case_sensitive === false ? { ignoreCase: true } : {};
  const out: RouteMatch = {};
  if (m.prefix !== undefined) out.path = { prefix: r.string(m.prefix, `${path}.prefix`), ...ic };
  else if (m.path !== undefined) out.path = { exact: r.string(m.path, `${path}.path`), ...ic };
  else if (m.safe_regex !== undefined) out.path = { regex: regex(r, m.safe_regex, `${path}.safe_regex`) };
  else r.fail(path, 'needs one of prefix, path, safe_regex');
  const headers = r.array(m.headers, `${path}.headers`).map((h, i): HeaderMatch => {
    const hp = `${path}.headers[${i}]`;
    const o = r.object(
      h,
      hp,
      [
        'name',
        'string_match',
        'present_match',
        'invert_match',
        'exact_match',
        'prefix_match',
        'suffix_match',
        'contains_match',
        'safe_regex_match',
      ],
      ['range_match', 'treat_missing_header_as_empty'],
    );
    const name = r.string(o.name, `${hp}.name`);
    const invert = o.invert_match === true ? { invert: true } : {};
    if (o.string_match !== undefined)
      return { name, value: stringMatcher(r, o.string_match, `${hp}.string_match`), ...invert };
    if (o.exact_match !== undefined)
      return { name, value: { exact: r.string(o.exact_match, `${hp}.exact_match`) }, ...invert };
    if (o.prefix_match !== undefined)
      return { name, value: { prefix: r.string(o.prefix_match, `${hp}.prefix_match`) }, ...invert };
    if (o.suffix_match !== undefined)
      return { name, value: { suffix: r.string(o.suffix_match, `${hp}.suffix_match`) }, ...invert };
    if (o.contains_match !== undefined)
      return { name, value: { contains: r.string(o.contains_match, `${hp}.contains_match`) }, ...invert };
    if (o.safe_regex_match !== undefined)
      return { name, value: { regex: regex(r, o.safe_regex_match, `${hp}.safe_regex_match`) }, ...invert };
    // present_match (or nothing at all): the header must be there
    return { name, ...(o.present_match === false ? { invert: true } : {}), ...invert };
  });
  if (headers.length > 0) out.headers = headers;
  const qp = r.array(m.query_parameters, `${path}.query_parameters`).map((q, i) => {
    const qpp = `${path}.query_parameters[${i}]`;
    const o = r.object(q, qpp, ['name', 'string_match', 'present_match']);
    return {
      name: r.string(o.name, `${qpp}.name`),
      ...(o.string_match ? { value: stringMatcher(r, o.string_match, `${qpp}.string_match`) } : {}),
    };
  });
  if (qp.length > 0) out.queryParams = qp;
  return out;
}

function route(
  r: ProtoReader,
  v: unknown,
  path: string,
  clusters: ReadonlySet<string>,
  fault: FaultPolicy | undefined,
  vhRetry: RouteAction['retry'],
): Route {
  const rt = r.object(
    v,
    path,
    ['name', 'match', 'route', 'redirect', 'direct_response', 'decorator'],
    [
      'typed_per_filter_config',
      'request_headers_to_add',
      'request_headers_to_remove',
      'response_headers_to_add',
      'response_headers_to_remove',
      'filter_action',
      'non_forwarding_action',
      'metadata',
    ],
  );
  const name = `${rt.name ?? path}`;
  const matches = [routeMatch(r, rt.match, `${path}.match`)];
  if (rt.redirect) {
    const rd = r.object(
      rt.redirect,
      `${path}.redirect`,
      [
        'https_redirect',
        'scheme_redirect',
        'host_redirect',
        'port_redirect',
        'path_redirect',
        'response_code',
        'strip_query',
      ],
      ['prefix_rewrite', 'regex_rewrite'],
    );
    const codes: Record<string, number> = {
      MOVED_PERMANENTLY: 301,
      FOUND: 302,
      SEE_OTHER: 303,
      TEMPORARY_REDIRECT: 307,
      PERMANENT_REDIRECT: 308,
    };
    const status = codes[rd.response_code ?? 'MOVED_PERMANENTLY'];
    if (status === undefined)
      r.fail(
        `${path}.redirect.response_code`,
        `${rd.response_code}: expected one of ${Object.keys(codes).join(', ')}`,
      );
    if (rd.strip_query === true) r.fail(`${path}.redirect.strip_query`, 'not implemented by the twin');
    const scheme = rd.https_redirect === true ? 'https' : rd.scheme_redirect;
    return {
      name,
      matches,
      action: {
        type: 'redirect',
        status,
        ...(scheme ? { scheme } : {}),
        ...(rd.host_redirect ? { host: rd.host_redirect } : {}),
        ...(rd.port_redirect ? { port: r.uint(rd.port_redirect, `${path}.redirect.port_redirect`) } : {}),
        ...(rd.path_redirect ? { path: rd.path_redirect } : {}),
      },
    };
  }
  if (rt.direct_response) {
    const dr = r.object(rt.direct_response, `${path}.direct_response`, ['status', 'body']);
    const body = dr.body
      ? r.object(
          dr.body,
          `${path}.direct_response.body`,
          ['inline_string'],
          ['filename', 'inline_bytes', 'environment_variable'],
        )
      : undefined;
    return {
      name,
      matches,
      action: {
        type: 'direct',
        status: r.uint(dr.status, `${path}.direct_response.status`),
        body: body?.inline_string ?? '',
      },
    };
  }
  if (!rt.route) r.fail(path, 'needs route, redirect or direct_response');
  const rp = `${path}.route`;
  const ra = r.object(
    rt.route,
    rp,
    [
      'cluster',
      'weighted_clusters',
      'timeout',
      'retry_policy',
      'prefix_rewrite',
      'host_rewrite_literal',
      'idle_timeout',
      'auto_host_rewrite',
    ],
    [
      'cluster_header',
      'cluster_specifier_plugin',
      'regex_rewrite',
      'request_mirror_policies',
      'rate_limits',
      'hash_policy',
      'hedge_policy',
      'upgrade_configs',
      'max_stream_duration',
      'host_rewrite_header',
      'host_rewrite_path_regex',
    ],
  );
  const known = (c: string, p: string) => {
    if (!clusters.has(c))
      r.fail(
        p,
        `cluster "${c}" is not defined in static_resources.clusters; Envoy rejects the route configuration`,
      );
    return c;
  };
  let weighted: RouteAction['clusters'];
  if (ra.cluster !== undefined)
    weighted = [{ cluster: known(r.string(ra.cluster, `${rp}.cluster`), `${rp}.cluster`), weight: 1 }];
  else if (ra.weighted_clusters !== undefined) {
    const wc = r.object(
      ra.weighted_clusters,
      `${rp}.weighted_clusters`,
      ['clusters', 'total_weight'],
      ['runtime_key_prefix', 'header_name'],
    );
    weighted = r.array(wc.clusters, `${rp}.weighted_clusters.clusters`).map((c, i) => {
      const cp = `${rp}.weighted_clusters.clusters[${i}]`;
      const o = r.object(
        c,
        cp,
        ['name', 'weight'],
        ['cluster_header', 'request_headers_to_add', 'typed_per_filter_config'],
      );
      return {
        cluster: known(r.string(o.name, `${cp}.name`), `${cp}.name`),
        weight: r.uint(o.weight ?? 0, `${cp}.weight`),
      };
    });
  } else r.fail(rp, 'needs cluster or weighted_clusters');
  const action: RouteAction = {
    type: 'route',
    clusters: weighted,
    timeoutMs: ra.timeout === undefined ? ENVOY_ROUTE_TIMEOUT_MS : r.duration(ra.timeout, `${rp}.timeout`),
  };
  // A route's retry_policy replaces the virtual host's (Envoy does not merge them).
  const rtRetry = ra.retry_policy ? retry(r, ra.retry_policy, `${rp}.retry_policy`) : vhRetry;
  if (rtRetry) action.retry = rtRetry;
  if (fault && (fault.delay || fault.abort)) action.fault = fault;
  if (ra.prefix_rewrite !== undefined)
    action.rewritePath = r.string(ra.prefix_rewrite, `${rp}.prefix_rewrite`);
  if (ra.host_rewrite_literal !== undefined)
    action.hostRewrite = r.string(ra.host_rewrite_literal, `${rp}.host_rewrite_literal`);
  if (ra.auto_host_rewrite === true) r.fail(`${rp}.auto_host_rewrite`, 'not implemented by the twin');
  return { name, matches, action };
}

function retry(r: ProtoReader, v: unknown, path: string): RouteAction['retry'] {
  const o = r.object(
    v,
    path,
    [
      'retry_on',
      'num_retries',
      'per_try_timeout',
      'retriable_status_codes',
      'retry_back_off',
      'retry_host_predicate',
      'host_selection_retry_max_attempts',
    ],
    [
      'retry_priority',
      'retriable_headers',
      'retriable_request_headers',
      'rate_limited_retry_back_off',
      'per_try_idle_timeout',
      'retry_options_predicates',
    ],
  );
  const retryOn = parseRetryOn(
    o.retry_on === undefined ? '' : r.string(o.retry_on, `${path}.retry_on`),
    `${r.file}: ${path}.retry_on`,
  );
  let base = 25;
  let max: number | undefined;
  if (o.retry_back_off) {
    const b = r.object(o.retry_back_off, `${path}.retry_back_off`, ['base_interval', 'max_interval']);
    base = r.duration(b.base_interval, `${path}.retry_back_off.base_interval`);
    if (b.max_interval !== undefined) max = r.duration(b.max_interval, `${path}.retry_back_off.max_interval`);
  }
  let otherHosts = false;
  for (const [i, p] of r.array(o.retry_host_predicate, `${path}.retry_host_predicate`).entries()) {
    const pp = r.object(p, `${path}.retry_host_predicate[${i}]`, ['name', 'typed_config']);
    if (pp.name !== 'envoy.retry_host_predicates.previous_hosts')
      r.fail(
        `${path}.retry_host_predicate[${i}].name`,
        `${pp.name}: only envoy.retry_host_predicates.previous_hosts is implemented`,
      );
    otherHosts = true;
  }
  return retryPolicy({
    retryOn,
    // Envoy: num_retries defaults to 1
    numRetries: o.num_retries === undefined ? 1 : r.uint(o.num_retries, `${path}.num_retries`),
    perTryTimeoutMs:
      o.per_try_timeout === undefined ? 0 : r.duration(o.per_try_timeout, `${path}.per_try_timeout`),
    retriableStatusCodes: new Set(
      r
        .array(o.retriable_status_codes, `${path}.retriable_status_codes`)
        .map((c, i) => r.uint(c, `${path}.retriable_status_codes[${i}]`)),
    ),
    baseIntervalMs: base,
    ...(max !== undefined ? { maxIntervalMs: max } : {}),
    otherHosts,
  });
}

function cluster(r: ProtoReader, v: unknown, path: string): ClusterDefinition {
  const c = r.object(
    v,
    path,
    [
      'name',
      'type',
      'connect_timeout',
      'lb_policy',
      'load_assignment',
      'circuit_breakers',
      'outlier_detection',
      'dns_lookup_family',
      'dns_refresh_rate',
      'respect_dns_ttl',
      'common_lb_config',
      'per_connection_buffer_limit_bytes',
      'ignore_health_on_host_removal',
    ],
    [
      'eds_cluster_config',
      'cluster_type',
      'health_checks',
      'transport_socket',
      'transport_socket_matches',
      'typed_extension_protocol_options',
      'http2_protocol_options',
      'upstream_connection_options',
      'lb_subset_config',
      'ring_hash_lb_config',
      'least_request_lb_config',
      'dns_resolvers',
      'typed_dns_resolver_config',
      'upstream_bind_config',
    ],
  );
  const name = r.string(c.name, `${path}.name`);
  const type = c.type ?? 'STATIC';
  if (!['STATIC', 'STRICT_DNS', 'LOGICAL_DNS'].includes(type))
    r.fail(`${path}.type`, `${type}: the twin implements STATIC, STRICT_DNS and LOGICAL_DNS`);
  if (c.lb_policy !== undefined && !['ROUND_ROBIN', 'LEAST_REQUEST'].includes(c.lb_policy))
    r.fail(
      `${path}.lb_policy`,
      `${c.lb_policy}: the twin implements ROUND_ROBIN (LEAST_REQUEST is played as round robin)`,
    );
  if (
    c.dns_lookup_family !== undefined &&
    !['AUTO', 'V4_ONLY', 'V4_PREFERRED', 'ALL'].includes(c.dns_lookup_family)
  )
    r.fail(`${path}.dns_lookup_family`, `${c.dns_lookup_family}: the twin's cluster addresses are IPv4`);
  const la = r.object(
    c.load_assignment ?? {},
    `${path}.load_assignment`,
    ['cluster_name', 'endpoints'],
    ['policy', 'named_endpoints'],
  );
  const endpoints: EndpointAddress[] = [];
  r.array(la.endpoints, `${path}.load_assignment.endpoints`).forEach((e, i) => {
    const ep = `${path}.load_assignment.endpoints[${i}]`;
    const le = r.object(e, ep, ['lb_endpoints', 'locality', 'priority', 'load_balancing_weight']);
    if (le.priority !== undefined && le.priority !== 0)
      r.fail(`${ep}.priority`, 'priorities other than 0 are not implemented by the twin');
    r.array(le.lb_endpoints, `${ep}.lb_endpoints`).forEach((lb, j) => {
      const lp = `${ep}.lb_endpoints[${j}]`;
      const o = r.object(
        lb,
        lp,
        ['endpoint', 'health_status', 'load_balancing_weight'],
        ['endpoint_name', 'metadata'],
      );
      const en = r.object(
        o.endpoint,
        `${lp}.endpoint`,
        ['address', 'hostname'],
        ['health_check_config', 'additional_addresses'],
      );
      endpoints.push(socketAddress(r, en.address, `${lp}.endpoint.address`));
    });
  });
  if (type === 'LOGICAL_DNS' && endpoints.length !== 1)
    r.fail(`${path}.load_assignment`, 'LOGICAL_DNS clusters take exactly one endpoint');
  const thresholds = { ...ENVOY_DEFAULT_THRESHOLDS };
  if (c.circuit_breakers) {
    const cb = r.object(
      c.circuit_breakers,
      `${path}.circuit_breakers`,
      ['thresholds'],
      ['per_host_thresholds'],
    );
    r.array(cb.thresholds, `${path}.circuit_breakers.thresholds`).forEach((t, i) => {
      const tp = `${path}.circuit_breakers.thresholds[${i}]`;
      const o = r.object(
        t,
        tp,
        [
          'priority',
          'max_connections',
          'max_pending_requests',
          'max_requests',
          'max_retries',
          'track_remaining',
        ],
        ['retry_budget', 'max_connection_pools'],
      );
      // HIGH-priority thresholds apply to high-priority routes, which the twin's routes never are.
      if ((o.priority ?? 'DEFAULT') !== 'DEFAULT') return;
      if (o.max_connections !== undefined)
        thresholds.maxConnections = r.uint(o.max_connections, `${tp}.max_connections`);
      if (o.max_pending_requests !== undefined)
        thresholds.maxPendingRequests = r.uint(o.max_pending_requests, `${tp}.max_pending_requests`);
      if (o.max_requests !== undefined) thresholds.maxRequests = r.uint(o.max_requests, `${tp}.max_requests`);
      if (o.max_retries !== undefined) thresholds.maxRetries = r.uint(o.max_retries, `${tp}.max_retries`);
    });
  }
  let outlier: OutlierDetectionPolicy | undefined;
  if (c.outlier_detection) {
    const op = `${path}.outlier_detection`;
    const o = r.object(
      c.outlier_detection,
      op,
      [
        'consecutive_5xx',
        'consecutive_gateway_failure',
        'interval',
        'base_ejection_time',
        'max_ejection_percent',
        'enforcing_consecutive_5xx',
        'enforcing_consecutive_gateway_failure',
        'enforcing_success_rate',
        'max_ejection_time',
      ],
      [
        'split_external_local_origin_errors',
        'consecutive_local_origin_failure',
        'success_rate_minimum_hosts',
        'success_rate_request_volume',
        'success_rate_stdev_factor',
        'failure_percentage_threshold',
        'enforcing_failure_percentage',
        'successful_active_health_check_uneject_host',
      ],
    );
    const pct = (x: unknown, p: string, dflt: number) => (x === undefined ? dflt : r.uint(x, p));
    if (
      pct(o.enforcing_success_rate, `${op}.enforcing_success_rate`, 100) !== 0 &&
      o.enforcing_success_rate !== undefined
    )
      r.fail(
        `${op}.enforcing_success_rate`,
        'the success-rate detector is not implemented by the twin (set it to 0)',
      );
    const enforce5xx = pct(o.enforcing_consecutive_5xx, `${op}.enforcing_consecutive_5xx`, 100);
    const enforceGw = pct(
      o.enforcing_consecutive_gateway_failure,
      `${op}.enforcing_consecutive_gateway_failure`,
      0,
    );
    for (const [k, val] of [
      ['enforcing_consecutive_5xx', enforce5xx],
      ['enforcing_consecutive_gateway_failure', enforceGw],
    ] as const)
      if (val !== 0 && val !== 100) r.fail(`${op}.${k}`, `${val}: the twin enforces 0 or 100 %`);
    outlier = {
      consecutive5xx: enforce5xx === 100 ? pct(o.consecutive_5xx, `${op}.consecutive_5xx`, 5) : 0,
      consecutiveGatewayFailure:
        enforceGw === 100 ? pct(o.consecutive_gateway_failure, `${op}.consecutive_gateway_failure`, 5) : 0,
      intervalMs: o.interval === undefined ? 10_000 : r.duration(o.interval, `${op}.interval`),
      baseEjectionTimeMs:
        o.base_ejection_time === undefined
          ? 30_000
          : r.duration(o.base_ejection_time, `${op}.base_ejection_time`),
      maxEjectionPercent: pct(o.max_ejection_percent, `${op}.max_ejection_percent`, 10),
    };
  }
  let panic = 50;
  if (c.common_lb_config) {
    const lc = r.object(
      c.common_lb_config,
      `${path}.common_lb_config`,
      ['healthy_panic_threshold'],
      ['zone_aware_lb_config', 'locality_weighted_lb_config', 'update_merge_window'],
    );
    if (lc.healthy_panic_threshold)
      panic = Number(
        r.object(lc.healthy_panic_threshold, `${path}.common_lb_config.healthy_panic_threshold`, ['value'])
          .value ?? 0,
      );
  }
  return {
    name,
    type,
    endpoints,
    connectTimeoutMs:
      c.connect_timeout === undefined ? 5000 : r.duration(c.connect_timeout, `${path}.connect_timeout`),
    dnsRefreshMs:
      c.dns_refresh_rate === undefined ? 5000 : r.duration(c.dns_refresh_rate, `${path}.dns_refresh_rate`),
    thresholds,
    ...(outlier ? { outlier } : {}),
    panicThresholdPercent: panic,
  };
}
