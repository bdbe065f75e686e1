/**
 * The traffic-policy engine's configuration: what both front ends (Istio's VirtualService and
 * DestinationRule, Envoy's bootstrap) translate into. The names follow Envoy's route.v3 and
 * cluster.v3 APIs, which Istio's objects are themselves translated into by istiod.
 */

/** A string matcher (Envoy type.matcher.v3.StringMatcher; Istio StringMatch). */
export type StringMatch =
  | { exact: string; ignoreCase?: boolean }
  | { prefix: string; ignoreCase?: boolean }
  | { suffix: string; ignoreCase?: boolean }
  | { contains: string; ignoreCase?: boolean }
  | { regex: string };

export interface HeaderMatch {
  name: string;
  /** Absent: the header must be present (Envoy present_match). */
  value?: StringMatch;
  /** Envoy invert_match / Istio withoutHeaders. */
  invert?: boolean;
}

/** Every condition must hold (Envoy RouteMatch; one Istio HTTPMatchRequest). */
export interface RouteMatch {
  path?: StringMatch;
  method?: StringMatch;
  headers?: HeaderMatch[];
  queryParams?: { name: string; value?: StringMatch }[];
  authority?: StringMatch;
}

/** Envoy route.v3 RetryPolicy. */
export interface RetryPolicy {
  /** retry_on, parsed (see retry-policy.ts RETRY_ON). */
  retryOn: ReadonlySet<string>;
  numRetries: number;
  /** 0: no per-try timeout (the route's timeout bounds every try). */
  perTryTimeoutMs: number;
  retriableStatusCodes: ReadonlySet<number>;
  /** retry_back_off: base_interval (default 25 ms) and max_interval (default 10 × base). */
  baseIntervalMs: number;
  maxIntervalMs: number;
  /** envoy.retry_host_predicates.previous_hosts: a retry goes to a host not tried before when one is left. */
  otherHosts: boolean;
}

/** Envoy extensions.filters.http.fault.v3.HTTPFault (Istio HTTPFaultInjection). */
export interface FaultPolicy {
  delay?: { percent: number; fixedDelayMs: number };
  abort?: { percent: number; httpStatus: number };
}

export interface WeightedCluster {
  cluster: string;
  weight: number;
  /** Headers set on the request to this destination (Istio headers.request.set). */
  requestHeadersToSet?: Record<string, string>;
}

export interface RouteAction {
  type: 'route';
  clusters: WeightedCluster[];
  /** 0: no timeout. Envoy's default route timeout is 15 s; Istio's VirtualService sets 0 (disabled). */
  timeoutMs: number;
  retry?: RetryPolicy;
  fault?: FaultPolicy;
  /** Envoy prefix_rewrite / Istio rewrite.uri: replaces the matched prefix (or the whole path when no prefix matched). */
  rewritePath?: string;
  hostRewrite?: string;
}

export interface RedirectAction {
  type: 'redirect';
  scheme?: string;
  host?: string;
  port?: number;
  path?: string;
  /** 301 (Envoy MOVED_PERMANENTLY, the default), 302, 303, 307, 308. */
  status: number;
}

export interface DirectResponseAction {
  type: 'direct';
  status: number;
  body?: string;
}

export interface Route {
  /** Where the route came from, for errors and logs ("VirtualService ns/name http[0]"). */
  name: string;
  /** Any one of these matches (Istio's list of HTTPMatchRequest); empty: every request. */
  matches: RouteMatch[];
  action: RouteAction | RedirectAction | DirectResponseAction;
}

/** Envoy cluster.v3 CircuitBreakers.Thresholds (default priority). */
export interface CircuitBreakerThresholds {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
}

/** Envoy's defaults when a cluster names no thresholds. */
export const ENVOY_DEFAULT_THRESHOLDS: CircuitBreakerThresholds = {
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxRequests: 1024,
  maxRetries: 3,
};

/** Envoy cluster.v3 OutlierDetection (the consecutive-error detectors). */
export interface OutlierDetectionPolicy {
  /** 0: the detector is off. */
  consecutive5xx: number;
  consecutiveGatewayFailure: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
}

export interface Upstream {
  ip: string;
  port: number;
  /** "namespace/name" of the pod behind the address, '' when none. */
  pod: string;
}

/** An upstream cluster: where its hosts come from and the policies that guard them. */
export interface ClusterSpec {
  name: string;
  hosts: () => Upstream[];
  thresholds: CircuitBreakerThresholds;
  outlier?: OutlierDetectionPolicy;
  /** Connect timeout (Envoy connect_timeout, default 5 s; Istio connectionPool.tcp.connectTimeout, 10 s). */
  connectTimeoutMs: number;
  /**
   * Envoy common_lb_config healthy_panic_threshold (default 50 %; Istio's minHealthPercent): below this
   * share of healthy hosts the load balancer ignores health and uses every host.
   */
  panicThresholdPercent: number;
}

export interface RouteTable {
  /** Where the table came from, for logs. */
  source: string;
  routes: Route[];
}
