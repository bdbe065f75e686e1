import http from 'node:http';

export interface JsonResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * POST/GET JSON over node:http. Not fetch: node:http resolves names through dns.lookup, which the
 * twin's network layer can answer for cluster DNS names, and its keep-alive agent is tunable.
 */
export function requestJson(
  url: string,
  options: { method?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<JsonResponse> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string | number> = { accept: 'application/json' };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          // not JSON: the raw text is what the caller gets
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.setTimeout(options.timeoutMs ?? 5000, () => {
      req.destroy(
        new Error(`${options.method ?? 'GET'} ${url} timed out after ${options.timeoutMs ?? 5000} ms`),
      );
    });
    req.on('error', reject);
    req.end(payload);
  });
}
