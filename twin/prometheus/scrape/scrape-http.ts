import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createGunzip } from 'node:zlib';
import type { HttpClientConfig } from '../config/prometheus-config.ts';

/**
 * One scrape's HTTP GET as Prometheus sends it: Accept from the job's scrape_protocols, gzip when
 * enable_compression, User-Agent and X-Prometheus-Scrape-Timeout-Seconds, the job's authorization
 * and TLS settings, redirects when follow_redirects. Errors read as Go's HTTP client words them.
 */
export const USER_AGENT = 'Prometheus/2.54.1';

export interface ScrapeRequest {
  url: string;
  accept: string;
  timeoutMs: number;
  compression: boolean;
  bodySizeLimit: number;
  http: HttpClientConfig;
}

export interface ScrapeResponse {
  contentType: string;
  body: string;
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 4 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 4 }),
};

const STATUS_TEXT: Record<number, string> = http.STATUS_CODES as Record<number, string>;

function authorizationHeader(config: HttpClientConfig): string | undefined {
  if (config.basicAuth) {
    const password =
      config.basicAuth.password ??
      (config.basicAuth.passwordFile ? readFileSync(config.basicAuth.passwordFile, 'utf8').trim() : '');
    return `Basic ${Buffer.from(`${config.basicAuth.username}:${password}`).toString('base64')}`;
  }
  const auth = config.authorization;
  if (!auth) return undefined;
  const credentials =
    auth.credentials ?? (auth.credentialsFile ? readFileSync(auth.credentialsFile, 'utf8').trim() : '');
  return `${auth.type} ${credentials}`;
}

export function scrapeHttp(req: ScrapeRequest, redirects = 0): Promise<ScrapeResponse> {
  const url = new URL(req.url);
  const secure = url.protocol === 'https:';
  const tls = req.http.tls;
  const headers: Record<string, string> = {
    Accept: req.accept,
    'User-Agent': USER_AGENT,
    'X-Prometheus-Scrape-Timeout-Seconds': String(req.timeoutMs / 1000),
  };
  if (req.compression) headers['Accept-Encoding'] = 'gzip';
  const authorization = authorizationHeader(req.http);
  if (authorization) headers['Authorization'] = authorization;
  const prefix = `Get ${JSON.stringify(req.url)}`;
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(
      url,
      {
        method: 'GET',
        headers,
        agent:
          secure && (tls.caFile || tls.ca || tls.certFile || tls.insecureSkipVerify)
            ? undefined
            : secure
              ? agents.https
              : agents.http,
        ...(secure
          ? {
              rejectUnauthorized: !tls.insecureSkipVerify,
              ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : tls.ca ? { ca: tls.ca } : {}),
              ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : tls.cert ? { cert: tls.cert } : {}),
              ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : tls.key ? { key: tls.key } : {}),
              ...(tls.serverName ? { servername: tls.serverName } : {}),
            }
          : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location && req.http.followRedirects) {
          res.resume();
          if (redirects >= 10) return reject(new Error(`${prefix}: stopped after 10 redirects`));
          const next = new URL(res.headers.location, url).toString();
          return void scrapeHttp({ ...req, url: next }, redirects + 1).then(resolve, reject);
        }
        if (status !== 200) {
          res.resume();
          return reject(
            new Error(`server returned HTTP status ${status} ${STATUS_TEXT[status] ?? ''}`.trimEnd()),
          );
        }
        const stream = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (c: Buffer) => {
          size += c.length;
          if (req.bodySizeLimit > 0 && size > req.bodySizeLimit) {
            request.destroy();
            reject(new Error(`body size limit exceeded`));
            return;
          }
          chunks.push(c);
        });
        stream.on('end', () =>
          resolve({
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        stream.on('error', (err) => reject(new Error(`${prefix}: ${err.message}`)));
      },
    );
    request.setTimeout(req.timeoutMs, () => request.destroy(new Error('context deadline exceeded')));
    request.on('error', (err: NodeJS.ErrnoException) => {
      if (err.message === 'context deadline exceeded')
        return reject(new Error(`${prefix}: context deadline exceeded`));
      if (err.code === 'ECONNREFUSED')
        return reject(new Error(`${prefix}: dial tcp ${url.host}: connect: connection refused`));
      reject(new Error(`${prefix}: ${err.message}`));
    });
    request.end();
  });
}
