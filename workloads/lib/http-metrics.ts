import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics every reference service exports on GET /metrics, under the names a real
 * Node.js setup gives (prom-client, as express-prom-bundle and the Go client's promhttp name them):
 *
 * - `http_requests_total{method,route,code}` (counter)
 * - `http_request_duration_seconds{method,route,code}` (histogram, seconds, buckets below)
 * - prom-client's default `process_*` and `nodejs_*` metrics.
 *
 * `route` is the matched route template, never the raw path, so a path parameter does not make a
 * series per value. Probes (/healthz, /readyz) and /metrics itself are not counted: the kubelet's
 * probes would otherwise dilute a pod's error rate, and the twin runs them on its scaled clock.
 *
 * The series carry no `service`, `namespace` or `pod` label: Prometheus attaches those from the
 * Kubernetes objects it discovers the pod through (see docs/prometheus.md, "Where `service` comes
 * from"). An application that invented them would report names the cluster does not have.
 */

/** The Go client's DefBuckets, with 0.5 s on a bucket boundary for the canary's latency budget. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The route label of a path that matches none of the service's routes. */
export const UNMATCHED_ROUTE = 'unmatched';

export interface HttpMetrics {
  readonly registry: Registry;
  /** Records one answered request. */
  observe(method: string, route: string, code: number, seconds: number): void;
}

export function httpMetrics(options: { defaultMetrics?: boolean } = {}): HttpMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code.',
    labelNames: ['method', 'route', 'code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to the end of its response, by method, route template and status code.',
    labelNames: ['method', 'route', 'code'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
  return {
    registry,
    observe(method, route, code, seconds) {
      const labels = { method, route, code: String(code) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}

/**
 * The route template a path belongs to: `/api/v1/devices/:device/prediction` matches
 * `/api/v1/devices/d-1/prediction`. A path that matches none is `unmatched`.
 */
export function routeOf(routes: readonly string[], pathname: string): string {
  const parts = pathname.split('/');
  for (const route of routes) {
    const pattern = route.split('/');
    if (pattern.length !== parts.length) continue;
    if (pattern.every((p, i) => (p.startsWith(':') ? parts[i] !== '' : p === parts[i]))) return route;
  }
  return UNMATCHED_ROUTE;
}
