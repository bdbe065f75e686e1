import { TwinError } from '../../../core/errors.ts';
import { requireGoDuration } from '../../../kube/duration.ts';
import { describeObject, type KubeObject } from '../../../kube/object.ts';
import type { CircuitBreakerThresholds, OutlierDetectionPolicy } from '../route-table.ts';
import { refuse } from './virtual-service.ts';

/** istiod sets every circuit breaker threshold to the maximum unless the DestinationRule says otherwise. */
const ISTIO_MAX = 4_294_967_295;

export interface IstioClusterPolicy {
  thresholds: CircuitBreakerThresholds;
  outlier?: OutlierDetectionPolicy;
  connectTimeoutMs: number;
  panicThresholdPercent: number;
  /** Pod labels a subset selects ({} for the host as a whole). */
  labels: Record<string, string>;
}

/**
 * The cluster policy of a host (and subset) under a DestinationRule, as istiod builds the Envoy cluster:
 * connectionPool.tcp.maxConnections → max_connections, http.http1MaxPendingRequests →
 * max_pending_requests, http.http2MaxRequests → max_requests, http.maxRetries → max_retries (each the
 * maximum when unset), tcp.connectTimeout (10 s); outlierDetection with Istio's defaults
 * (consecutive5xxErrors 5, interval 10 s, baseEjectionTime 30 s, maxEjectionPercent 10 %) and
 * minHealthPercent as the healthy panic threshold (0 by default with outlier detection, Envoy's 50 %
 * without). A subset's trafficPolicy replaces the host's, field by field at the top level.
 */
export function clusterPolicy(
  dr: KubeObject | undefined,
  subset: string | undefined,
  field: string,
): IstioClusterPolicy {
  const where = dr ? describeObject(dr) : '';
  let policy = dr?.spec?.trafficPolicy ?? {};
  let labels: Record<string, string> = {};
  if (subset !== undefined) {
    const s = ((dr?.spec?.subsets ?? []) as any[]).find((x) => x.name === subset);
    if (!s)
      throw new TwinError(
        'TWIN_TRAFFIC_POLICY_INVALID',
        `${field}: subset "${subset}" is not defined${dr ? ` in ${where}` : ' (no DestinationRule names the host)'}; Envoy answers 503 (no cluster)`,
      );
    labels = s.labels ?? {};
    if (s.trafficPolicy) policy = { ...policy, ...s.trafficPolicy };
  }
  const f = (x: string) =>
    subset ? `spec.subsets[${subset}].trafficPolicy.${x}` : `spec.trafficPolicy.${x}`;
  if (policy.portLevelSettings) refuse(where, f('portLevelSettings'), 'not implemented by the twin');
  if (policy.tunnel || policy.proxyProtocol)
    refuse(where, f(policy.tunnel ? 'tunnel' : 'proxyProtocol'), 'not implemented by the twin');
  const lb = policy.loadBalancer;
  if (
    lb &&
    (lb.consistentHash ||
      lb.localityLbSetting ||
      (lb.simple && !['ROUND_ROBIN', 'UNSPECIFIED', 'LEAST_REQUEST'].includes(lb.simple)))
  )
    refuse(
      where,
      f('loadBalancer'),
      `only ROUND_ROBIN (and LEAST_REQUEST, played as round robin) is implemented; got ${JSON.stringify(lb)}`,
    );
  if (policy.tls && !['DISABLE', 'ISTIO_MUTUAL'].includes(policy.tls.mode))
    refuse(
      where,
      f('tls.mode'),
      `${policy.tls.mode} to the upstream is not implemented (DISABLE and ISTIO_MUTUAL are)`,
    );
  const tcp = policy.connectionPool?.tcp ?? {};
  const http = policy.connectionPool?.http ?? {};
  const ms = (v: string | undefined, name: string, dflt: number) => {
    if (v === undefined) return dflt;
    try {
      return requireGoDuration(v, f(name));
    } catch (err) {
      throw new TwinError('TWIN_TRAFFIC_POLICY_INVALID', `${where}: ${(err as Error).message}`);
    }
  };
  const od = policy.outlierDetection;
  const outlier: OutlierDetectionPolicy | undefined = od
    ? {
        consecutive5xx: od.consecutive5xxErrors ?? od.consecutiveErrors ?? 5,
        consecutiveGatewayFailure: od.consecutiveGatewayErrors ?? 0,
        intervalMs: ms(od.interval, 'outlierDetection.interval', 10_000),
        baseEjectionTimeMs: ms(od.baseEjectionTime, 'outlierDetection.baseEjectionTime', 30_000),
        maxEjectionPercent: od.maxEjectionPercent ?? 10,
      }
    : undefined;
  if (od?.splitExternalLocalOriginErrors || od?.consecutiveLocalOriginFailures !== undefined)
    refuse(
      where,
      f('outlierDetection.splitExternalLocalOriginErrors'),
      'local-origin errors are counted as 5xx (not split) by the twin',
    );
  return {
    thresholds: {
      maxConnections: tcp.maxConnections ?? ISTIO_MAX,
      maxPendingRequests: http.http1MaxPendingRequests ?? ISTIO_MAX,
      maxRequests: http.http2MaxRequests ?? ISTIO_MAX,
      maxRetries: http.maxRetries ?? ISTIO_MAX,
    },
    ...(outlier ? { outlier } : {}),
    connectTimeoutMs: ms(tcp.connectTimeout, 'connectionPool.tcp.connectTimeout', 10_000),
    panicThresholdPercent: od ? (od.minHealthPercent ?? 0) : 50,
    labels,
  };
}
