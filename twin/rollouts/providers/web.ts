import http from 'node:http';
import https from 'node:https';
import { evaluateJsonPath } from '../jsonpath.ts';
import type { Metric } from '../types.ts';
import type { MeasureContext, MetricProvider, ProviderResult } from './provider.ts';

interface WebMetric {
  url: string;
  method?: string;
  headers?: Array<{ key: string; value: string }>;
  body?: string;
  jsonBody?: unknown;
  timeoutSeconds?: number;
  jsonPath?: string;
  insecure?: boolean;
}

const DEFAULT_TIMEOUT_SECONDS = 10;

/**
 * The `web` provider: an HTTP request whose JSON response, narrowed by jsonPath, is the result.
 * The timeout is real time: the request goes to a real socket.
 */
export class WebProvider implements MetricProvider {
  readonly type = 'web';

  async measure(metric: Metric, ctx: MeasureContext): Promise<ProviderResult> {
    const web = metric.provider['web'] as WebMetric;
    if (!web?.url) return { error: 'web provider: url is required' };
    let url: URL;
    try {
      url = new URL(web.url);
    } catch {
      return { error: `web provider: invalid url "${web.url}"` };
    }
    const body = web.jsonBody !== undefined ? JSON.stringify(web.jsonBody) : web.body;
    const headers: Record<string, string> = {};
    for (const h of web.headers ?? []) headers[h.key] = h.value;
    if (web.jsonBody !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = 'application/json';
    }
    let response: { status: number; text: string };
    try {
      response = await request(url, {
        method: (web.method ?? 'GET').toUpperCase(),
        headers,
        body,
        timeoutMs: (web.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
        lookup: ctx.lookup,
        insecure: web.insecure === true,
        signal: ctx.signal,
      });
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
    if (response.status < 200 || response.status >= 300) {
      return { error: `received non 2xx response code: ${response.status}` };
    }
    let data: unknown;
    try {
      data = JSON.parse(response.text);
    } catch {
      return { error: `could not parse JSON body: ${response.text.slice(0, 200)}` };
    }
    try {
      return { value: web.jsonPath ? evaluateJsonPath(web.jsonPath, data) : data };
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  }
}

function request(
  url: URL,
  options: {
    method: string;
    headers: Record<string, string>;
    body: string | undefined;
    timeoutMs: number;
    lookup: MeasureContext['lookup'];
    insecure: boolean;
    signal: AbortSignal | undefined;
  },
): Promise<{ status: number; text: string }> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: options.method,
        headers:
          options.body !== undefined
            ? { ...options.headers, 'Content-Length': Buffer.byteLength(options.body) }
            : options.headers,
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
    req.setTimeout(options.timeoutMs, () => {
      req.destroy(
        new Error(
          `Get "${url.href}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
        ),
      );
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}
