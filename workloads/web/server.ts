import os from 'node:os';
import { ConfigError, numberFromEnv } from '../lib/config-error.ts';
import { requestJson } from '../lib/http-client.ts';
import { sendJson } from '../lib/http-json.ts';
import { runMain, startService } from '../lib/http-service.ts';
import { type PageData, renderPage } from './page.ts';

async function fetchJson(url: string, timeoutMs: number): Promise<{ body?: any; error?: string }> {
  try {
    const res = await requestJson(url, { timeoutMs });
    if (res.status !== 200) {
      const detail = (res.body as { error?: string } | undefined)?.error;
      return { error: `${res.status}${detail ? ` ${detail}` : ''}` };
    }
    return { body: res.body };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

runMain('web', async () => {
  const apiUrl = (process.env['API_URL'] || 'http://api.production.svc.cluster.local').replace(/\/+$/, '');
  if (!URL.canParse(apiUrl)) throw new ConfigError(`API_URL=${JSON.stringify(apiUrl)} is not a URL`);
  const timeoutMs = numberFromEnv(process.env, 'API_TIMEOUT_MS', 2000, { min: 1 });
  const version = process.env['BUILD_VERSION'] || 'dev';
  const pod = process.env['POD_NAME'] || os.hostname();

  await startService({
    name: 'web',
    responseHeaders: { 'x-app-version': version },
    routes: ['/'],
    handler: async (req, res, url) => {
      if (url.pathname !== '/' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        return sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
      }
      const [apiVersion, prediction] = await Promise.all([
        fetchJson(`${apiUrl}/api/v1/version`, timeoutMs),
        fetchJson(`${apiUrl}/api/v1/predict?sensor=web-demo&value=21.5`, timeoutMs),
      ]);
      const data: PageData = {
        pod,
        version,
        api: apiVersion.error ? { error: apiVersion.error } : { ...apiVersion.body },
        prediction: prediction.error ? { error: prediction.error } : { body: prediction.body },
      };
      const html = renderPage(data);
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(html),
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : html);
    },
  });
});
