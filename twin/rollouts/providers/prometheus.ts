import http from 'node:http';
import https from 'node:https';
import type { Metric } from '../types.ts';
import type { MeasureContext, MetricProvider, ProviderResult } from './provider.ts';

/**
 * Argo Rollouts' `prometheus` provider (metricproviders/prometheus): the query goes to the
 * metric's `address` (a cluster DNS name, resolved through the twin's DNS; else
 * ARGO_ROLLOUTS_PROMETHEUS_ADDRESS) as client_golang sends it — POST /api/v1/query with `query` and
 * `time` (the controller's clock, control-plane time in the twin) — within `timeout` seconds (30 by
 * default, real time: a real socket). A vector result is `result` as a list of numbers and recorded
 * as "[v1,v2]" (values as Prometheus wrote them, which is how Argo prints them), a scalar as its
 * number; other result types are an Error, as are API errors
 * ("bad_data: …"). The resolved query is kept as the metric result's `ResolvedPrometheusQuery`.
 */
interface PrometheusMetric {
  address?: string;
  query?: string;
  timeout?: number;
  insecure?: boolean;
  headers?: Array<{ key: string; value: string }>;
}

const DEFAULT_TIMEOUT_SECONDS = 30;
export const ADDRESS_ENV = 'ARGO_ROLLOUTS_PROMETHEUS_ADDRESS';
export const RESOLVED_QUERY = 'ResolvedPrometheusQuery';

export class PrometheusProvider implements MetricProvider {
  readonly type = 'prometheus';

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  metadata(metric: Metric): Record<string, string> {
    const query = (metric.provider['prometheus'] as PrometheusMetric | undefined)?.query;
    return query ? { [RESOLVED_QUERY]: query } : {};
  }

  async measure(metric: Metric, ctx: MeasureContext): Promise<ProviderResult> {
    const p = (metric.provider['prometheus'] ?? {}) as PrometheusMetric;
    let address = p.address ?? '';
    if (address === '') {
      address = this.env[ADDRESS_ENV] ?? '';
      if (address === '') return { error: 'prometheus address is not configured' };
    }
    let base: URL;
    try {
      base = new URL(address);
      if (!base.protocol || !base.host) throw new Error();
    } catch {
      return { error: 'prometheus address is not is url format' };
    }
    if (p.timeout !== undefined && p.timeout < 0)
      return { error: 'prometheus timeout should not be negative' };
    const timeoutMs = (p.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
    const now = ctx.now?.() ?? Date.now();
    const form = new URLSearchParams({ query: p.query ?? '', time: String(now / 1000) }).toString();
    const url = new URL(`${base.pathname.replace(/\/+$/, '')}/api/v1/query`, base);
    let response: { status: number; text: string };
    try {
      response = await post(url, form, {
        timeoutMs,
        headers: Object.fromEntries((p.headers ?? []).map((h) => [h.key, h.value])),
        insecure: p.insecure === true,
        lookup: ctx.lookup,
        signal: ctx.signal,
      });
    } catch (err) {
      return { error: `Post "${url.href}": ${(err as Error).message}` };
    }
    let body: any;
    try {
      body = JSON.parse(response.text);
    } catch {
      return {
        error: `bad_response: readObjectStart: expect { or n, but found ${response.text.slice(0, 1) || 'EOF'}`,
      };
    }
    if (body?.status === 'error') return { error: `${body.errorType}: ${body.error}` };
    if (response.status < 200 || response.status >= 300)
      return { error: `server_error: server error: ${response.status}` };
    const data = body?.data;
    const warnings: string[] = body?.warnings ?? [];
    const measurementMetadata =
      warnings.length > 0 ? { warnings: warnings.map((w) => `"${w}"`).join(', ') } : undefined;
    switch (data?.resultType) {
      case 'scalar': {
        const text = String(data.result[1]);
        return {
          value: Number(text),
          valueText: text,
          ...(measurementMetadata ? { measurementMetadata } : {}),
        };
      }
      case 'vector': {
        const texts: string[] = (data.result as Array<{ value: [number, string] }>).map((s) => s.value[1]);
        return {
          value: texts.map(Number),
          valueText: `[${texts.join(',')}]`,
          ...(measurementMetadata ? { measurementMetadata } : {}),
        };
      }
      default:
        return { error: 'Prometheus metric type not supported' };
    }
  }
}

function post(
  url: URL,
  form: string,
  options: {
    timeoutMs: number;
    headers: Record<string, string>;
    insecure: boolean;
    lookup: MeasureContext['lookup'];
    signal: AbortSignal | undefined;
  },
): Promise<{ status: number; text: string }> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: 'POST',
        headers: {
          ...options.headers,
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': Buffer.byteLength(form),
        },
        ...(options.lookup ? { lookup: options.lookup } : {}),
        ...(url.protocol === 'https:' && options.insecure ? { rejectUnauthorized: false } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs, () => req.destroy(new Error('context deadline exceeded')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ECONNREFUSED' ? new Error(`dial tcp ${url.host}: connect: connection refused`) : err,
      ),
    );
    req.end(form);
  });
}
