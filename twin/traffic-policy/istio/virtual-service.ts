import { TwinError } from '../../../core/errors.ts';
import { requireGoDuration } from '../../../kube/duration.ts';
import { describeObject, type KubeObject } from '../../../kube/object.ts';
import { parseRetryOn, retryPolicy } from '../retry-policy.ts';
import type {
  FaultPolicy,
  HeaderMatch,
  Route,
  RouteAction,
  RouteMatch,
  StringMatch,
} from '../route-table.ts';

/** Istio's retry policy where a route names none, or names attempts without retryOn (istiod's defaults). */
export const ISTIO_DEFAULT_RETRY_ON =
  'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
const ISTIO_DEFAULT_ATTEMPTS = 2;

/** A destination of a route, for the front end to name the cluster it goes to. */
export interface IstioDestination {
  host: string;
  subset?: string;
  port?: number;
}

/** Fields of an HTTPRoute the engine does not implement: refused, not ignored. */
const UNIMPLEMENTED_ROUTE_FIELDS = [
  'delegate',
  'mirror',
  'mirrors',
  'mirrorPercentage',
  'mirrorPercent',
  'corsPolicy',
];
const UNIMPLEMENTED_MATCH_FIELDS = ['sourceLabels', 'sourceNamespace', 'port', 'scheme', 'statPrefix'];

/**
 * The routes of a VirtualService's `http` list, in order, as istiod translates them into Envoy routes:
 * each HTTPRoute's matches (uri, method, authority, headers, withoutHeaders, queryParams; ignoreUriCase),
 * its weighted destinations, timeout (Istio's default: none), retries (istiod's default when absent:
 * 2 attempts on connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes with 503
 * retriable, to other hosts), fault (delay and abort by percentage), rewrite, redirect and
 * directResponse. A field the engine does not implement is a TwinError naming it.
 */
export function virtualServiceRoutes(
  vs: KubeObject,
  cluster: (d: IstioDestination, field: string) => string,
): Route[] {
  const where = describeObject(vs);
  const http = (vs.spec?.http ?? []) as any[];
  if ((vs.spec?.tcp ?? []).length > 0 || (vs.spec?.tls ?? []).length > 0)
    refuse(
      where,
      vs.spec.tcp ? 'spec.tcp' : 'spec.tls',
      'TCP and TLS routes are not implemented by the twin',
    );
  return http.map((r, i) => {
    const field = `spec.http[${i}]`;
    for (const f of UNIMPLEMENTED_ROUTE_FIELDS)
      if (r[f] !== undefined) refuse(where, `${field}.${f}`, 'not implemented by the twin');
    const matches = ((r.match ?? []) as any[]).map((m, j) => matchOf(m, where, `${field}.match[${j}]`));
    return {
      name: `${where} ${field}${r.name ? ` (${r.name})` : ''}`,
      matches,
      action: actionOf(r, where, field, cluster),
    };
  });
}

function actionOf(
  r: any,
  where: string,
  field: string,
  cluster: (d: IstioDestination, field: string) => string,
): Route['action'] {
  if (r.redirect) {
    const d = r.redirect;
    if (d.derivePort === 'FROM_REQUEST_PORT')
      refuse(where, `${field}.redirect.derivePort`, 'FROM_REQUEST_PORT is not implemented');
    return {
      type: 'redirect',
      ...(d.scheme ? { scheme: d.scheme } : {}),
      ...(d.authority ? { host: d.authority } : {}),
      ...(d.port ? { port: d.port } : {}),
      ...(d.uri ? { path: d.uri } : {}),
      status: d.redirectCode ?? 301,
    };
  }
  if (r.directResponse)
    return { type: 'direct', status: r.directResponse.status, body: r.directResponse.body?.string ?? '' };
  const routes = (r.route ?? []) as any[];
  if (routes.length === 0) refuse(where, `${field}.route`, 'a route needs route, redirect or directResponse');
  if (r.headers?.response || r.headers?.request?.add || r.headers?.request?.remove)
    refuse(where, `${field}.headers`, 'only headers.request.set is implemented');
  const single = routes.length === 1;
  const clusters = routes.map((d: any, k: number) => {
    const f = `${field}.route[${k}]`;
    if (d.headers?.response || d.headers?.request?.add || d.headers?.request?.remove)
      refuse(where, `${f}.headers`, 'only headers.request.set is implemented');
    const dest: IstioDestination = {
      host: d.destination.host,
      ...(d.destination.subset ? { subset: d.destination.subset } : {}),
      ...(d.destination.port?.number ? { port: d.destination.port.number } : {}),
    };
    const set = { ...(r.headers?.request?.set ?? {}), ...(d.headers?.request?.set ?? {}) };
    return {
      cluster: cluster(dest, `${f}.destination`),
      // Istio: with one destination the weight is 100 whatever is written; with several, weights must add up to 100.
      weight: single ? 100 : (d.weight ?? 0),
      ...(Object.keys(set).length > 0 ? { requestHeadersToSet: set } : {}),
    };
  });
  if (!single) {
    const total = clusters.reduce((n, c) => n + c.weight, 0);
    if (total !== 100) refuse(where, `${field}.route`, `weights add up to ${total}; Istio requires 100`);
  }
  const action: RouteAction = {
    type: 'route',
    clusters,
    timeoutMs: r.timeout ? duration(r.timeout, where, `${field}.timeout`) : 0,
  };
  const retry = istioRetry(r.retries, where, `${field}.retries`);
  if (retry) action.retry = retry;
  if (r.fault) action.fault = faultOf(r.fault, where, `${field}.fault`);
  if (r.rewrite) {
    if (r.rewrite.uriRegexRewrite)
      refuse(where, `${field}.rewrite.uriRegexRewrite`, 'not implemented by the twin');
    if (r.rewrite.uri !== undefined) action.rewritePath = r.rewrite.uri;
    if (r.rewrite.authority !== undefined) action.hostRewrite = r.rewrite.authority;
  }
  return action;
}

/** An HTTPRetry as istiod translates it (absent: istiod's default policy). */
export function istioRetry(r: any, where: string, field: string): RouteAction['retry'] {
  const attempts = r?.attempts ?? ISTIO_DEFAULT_ATTEMPTS;
  if (attempts <= 0) return undefined;
  if (r?.retryRemoteLocalities)
    refuse(where, `${field}.retryRemoteLocalities`, 'localities are not modelled');
  const retryOn = parseRetryOn(r?.retryOn ?? ISTIO_DEFAULT_RETRY_ON, `${where}: ${field}.retryOn`);
  const codes = new Set<number>([...retryOn].filter((c) => /^\d{3}$/.test(c)).map(Number));
  // istiod adds 503 as the retriable status code when retriable-status-codes is asked without codes
  if (retryOn.has('retriable-status-codes') && codes.size === 0) codes.add(503);
  return retryPolicy({
    retryOn,
    numRetries: attempts,
    perTryTimeoutMs: r?.perTryTimeout ? duration(r.perTryTimeout, where, `${field}.perTryTimeout`) : 0,
    retriableStatusCodes: codes,
    otherHosts: true,
  });
}

function faultOf(f: any, where: string, field: string): FaultPolicy {
  const out: FaultPolicy = {};
  if (f.delay) {
    if (f.delay.exponentialDelay)
      refuse(where, `${field}.delay.exponentialDelay`, 'not implemented (Istio does not support it either)');
    if (!f.delay.fixedDelay) refuse(where, `${field}.delay.fixedDelay`, 'is required');
    out.delay = {
      percent: percentOf(f.delay),
      fixedDelayMs: duration(f.delay.fixedDelay, where, `${field}.delay.fixedDelay`),
    };
  }
  if (f.abort) {
    if (f.abort.grpcStatus || f.abort.http2Error)
      refuse(
        where,
        `${field}.abort.${f.abort.grpcStatus ? 'grpcStatus' : 'http2Error'}`,
        'only httpStatus is implemented',
      );
    if (f.abort.httpStatus === undefined) refuse(where, `${field}.abort.httpStatus`, 'is required');
    out.abort = { percent: percentOf(f.abort), httpStatus: f.abort.httpStatus };
  }
  return out;
}

/** `percentage.value` (0–100, fractional), else the deprecated integer `percent`; neither: 100 % (Istio's default). */
function percentOf(x: any): number {
  if (x.percentage?.value !== undefined) return x.percentage.value;
  if (x.percent !== undefined) return x.percent;
  return 100;
}

function matchOf(m: any, where: string, field: string): RouteMatch {
  for (const f of UNIMPLEMENTED_MATCH_FIELDS)
    if (m[f] !== undefined) refuse(where, `${field}.${f}`, 'not implemented by the twin');
  const ci = m.ignoreUriCase === true;
  const out: RouteMatch = {};
  if (m.uri) out.path = stringMatch(m.uri, where, `${field}.uri`, ci);
  if (m.method) out.method = stringMatch(m.method, where, `${field}.method`);
  if (m.authority) out.authority = stringMatch(m.authority, where, `${field}.authority`);
  const headers: HeaderMatch[] = [];
  for (const [name, v] of Object.entries((m.headers ?? {}) as Record<string, any>))
    headers.push(headerMatch(name, v, where, `${field}.headers.${name}`, false));
  for (const [name, v] of Object.entries((m.withoutHeaders ?? {}) as Record<string, any>))
    headers.push(headerMatch(name, v, where, `${field}.withoutHeaders.${name}`, true));
  if (headers.length > 0) out.headers = headers;
  const qp = Object.entries((m.queryParams ?? {}) as Record<string, any>);
  if (qp.length > 0)
    out.queryParams = qp.map(([name, v]) => ({
      name,
      ...(Object.keys(v ?? {}).length > 0
        ? { value: stringMatch(v, where, `${field}.queryParams.${name}`) }
        : {}),
    }));
  return out;
}

/** Istio: an empty StringMatch on a header means "present". */
function headerMatch(name: string, v: any, where: string, field: string, invert: boolean): HeaderMatch {
  const empty = !v || Object.keys(v).length === 0;
  return { name, ...(empty ? {} : { value: stringMatch(v, where, field) }), ...(invert ? { invert } : {}) };
}

function stringMatch(m: any, where: string, field: string, ignoreCase = false): StringMatch {
  const keys = Object.keys(m ?? {});
  if (keys.length !== 1)
    refuse(where, field, `must set exactly one of exact, prefix, regex (got ${keys.join(', ') || 'none'})`);
  if (m.exact !== undefined) return { exact: m.exact, ...(ignoreCase ? { ignoreCase } : {}) };
  if (m.prefix !== undefined) return { prefix: m.prefix, ...(ignoreCase ? { ignoreCase } : {}) };
  try {
    new RegExp(m.regex);
  } catch (err) {
    refuse(where, `${field}.regex`, `invalid regular expression: ${(err as Error).message}`);
  }
  return { regex: m.regex };
}

function duration(text: string, where: string, field: string): number {
  try {
    return requireGoDuration(text, field);
  } catch (err) {
    throw new TwinError('TWIN_TRAFFIC_POLICY_INVALID', `${where}: ${(err as Error).message}`);
  }
}

export function refuse(where: string, field: string, why: string): never {
  throw new TwinError('TWIN_TRAFFIC_POLICY_INVALID', `${where}: ${field}: ${why}`);
}
