/**
 * The controller of seed 004 (3.4; the seed writes it in Rust, the twin's reference is this TypeScript
 * service with the same interface): the API on PORT (8080) between the OpenFaaS gateway and the
 * function runtimes, Prometheus metrics on METRICS_PORT (9090), /healthz and /readyz for the probes.
 *  - `POST /api/v1/functions/<runtime>/invoke`: the call's JSON body is run by the runtime's function
 *    (`<runtime>.<FUNCTION_NAMESPACE>.svc.cluster.local:8080`), within FUNCTION_TIMEOUT; its answer is
 *    returned as it came, an unreachable or late runtime answers 502 / 504. A GET passes its query to
 *    the function instead of a body (as the OpenFaaS gateway passes a GET on);
 *  - `GET /api/v1/runtimes`: the runtimes it routes to.
 * Stateless: every replica answers every call, so losing one delays the calls it held, nothing more.
 */
import http from 'node:http';
import { ConfigError, numberFromEnv } from '../lib/config-error.ts';
import { durationFromEnv } from '../lib/go-duration.ts';
import { readJsonBody, sendJson } from '../lib/http-json.ts';
import { runMain, startService } from '../lib/http-service.ts';

const RUNTIMES = ['nodejs-runtime', 'python-runtime', 'rust-runtime'];
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

runMain('rust-controller', async () => {
  const env = process.env;
  const namespace = env['FUNCTION_NAMESPACE'] || 'openfaas-fn';
  const timeoutMs = durationFromEnv(env, 'FUNCTION_TIMEOUT', 30_000);
  const metricsPort = numberFromEnv(env, 'METRICS_PORT', 9090, { min: 0, max: 65535 });
  if (metricsPort === numberFromEnv(env, 'PORT', 8080, { min: 0, max: 65535 }) && metricsPort !== 0)
    throw new ConfigError(`METRICS_PORT=${metricsPort} is the API's PORT; give metrics a port of their own`);

  await startService({
    name: 'rust-controller',
    metricsPort,
    routes: ['/api/v1/functions/:runtime/invoke', '/api/v1/runtimes'],
    handler: async (req, res, url) => {
      if (url.pathname === '/api/v1/runtimes' && req.method === 'GET')
        return sendJson(res, 200, { namespace, runtimes: RUNTIMES });
      const m = /^\/api\/v1\/functions\/([^/]+)\/invoke$/.exec(url.pathname);
      if (!m || (req.method !== 'POST' && req.method !== 'GET'))
        return sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
      const runtime = decodeURIComponent(m[1]!);
      if (!RUNTIMES.includes(runtime))
        return sendJson(res, 404, {
          error: `no runtime ${runtime}; the runtimes are ${RUNTIMES.join(', ')}`,
        });
      const payload =
        req.method === 'POST' ? Buffer.from(JSON.stringify(await readJsonBody(req))) : Buffer.alloc(0);
      await new Promise<void>((resolve) => {
        const upstream = http.request(
          `http://${runtime}.${namespace}.svc.cluster.local:8080/${url.search}`,
          {
            method: req.method,
            agent,
            headers: { 'content-type': 'application/json', 'content-length': payload.length },
          },
          (up) => {
            res.writeHead(up.statusCode ?? 502, {
              'content-type': up.headers['content-type'] ?? 'application/octet-stream',
              'x-runtime': runtime,
            });
            up.pipe(res);
            up.on('end', resolve);
            up.on('error', () => {
              res.destroy();
              resolve();
            });
          },
        );
        let late = false;
        upstream.setTimeout(timeoutMs, () => {
          late = true;
          upstream.destroy(new Error(`${runtime} did not answer within ${timeoutMs} ms`));
        });
        upstream.on('error', (err) => {
          if (!res.headersSent) sendJson(res, late ? 504 : 502, { error: err.message, runtime });
          else res.destroy();
          resolve();
        });
        upstream.end(payload);
      });
    },
  });
});
