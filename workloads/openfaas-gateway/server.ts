/**
 * The OpenFaaS gateway (ghcr.io/openfaas/gateway) as the twin runs it: the API of
 * https://docs.openfaas.com/reference/rest-api/ that the request path of seed 004 uses.
 *  - `/function/<name>[/path]`: the call is forwarded as it came (method, headers, query, body) to the
 *    function's Service (direct_functions: `<name>.<direct_functions_suffix>:8080`), with
 *    upstream_timeout; any upstream error, a timeout included, answers 502 as the gateway's
 *    forwarding proxy does.
 *  - `/async-function/<name>[/path]`: the call is queued on NATS (JetStream subject faas_nats_channel,
 *    the QueueRequest the queue worker reads) and answered 202 with its X-Call-Id; X-Callback-Url is
 *    where the queue worker posts the result.
 *  - `/system/functions`: the functions (Deployments labelled faas_function in function_namespace),
 *    read from the Kubernetes API with the pod's service account, as faas-netes lists them.
 *  - `/healthz`: 200 once started.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { ConfigError } from '../lib/config-error.ts';
import { FaasQueue } from '../lib/faas-queue.ts';
import { durationFromEnv } from '../lib/go-duration.ts';
import { sendJson } from '../lib/http-json.ts';
import { runMain, startService } from '../lib/http-service.ts';
import { log } from '../lib/log.ts';
import { listFunctions } from './function-list.ts';
import { functionBaseUrl, functionRoute } from './function-route.ts';

/** Hop-by-hop headers, removed before forwarding (RFC 7230; the gateway's hopHeaders). */
const HOP_HEADERS = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

runMain('openfaas-gateway', async () => {
  const env = process.env;
  const upstreamTimeoutMs = durationFromEnv(env, 'upstream_timeout', 60_000);
  const direct = (env['direct_functions'] ?? 'false') === 'true';
  if (!direct)
    throw new ConfigError(
      'direct_functions is not "true": this gateway resolves functions through their Services only (direct_functions=true, direct_functions_suffix); set them',
    );
  const suffix = env['direct_functions_suffix'] ?? '';
  const functionNamespace = env['function_namespace'] || 'openfaas-fn';
  const natsHost = env['faas_nats_address'];
  const natsPort = Number(env['faas_nats_port'] || 4222);
  const channel = env['faas_nats_channel'] || 'faas-request';
  const queue = natsHost
    ? new FaasQueue(`${natsHost}:${natsPort}`, channel, env['POD_NAME'] || 'openfaas-gateway')
    : undefined;

  async function invoke(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = functionRoute(url.pathname)!;
    const callId = (req.headers['x-call-id'] as string | undefined) ?? randomUUID();
    const started = process.hrtime.bigint();
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined && !HOP_HEADERS.has(k)) headers[k] = v;
    headers['x-call-id'] = callId;
    headers['x-forwarded-host'] ??= req.headers.host ?? '';
    headers['x-forwarded-for'] ??= `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const target = `${functionBaseUrl(route, suffix)}${route.path || '/'}${url.search}`;
    await new Promise<void>((resolve) => {
      const upstream = http.request(target, { method: req.method, headers, agent }, (up) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(up.headers))
          if (v !== undefined && !HOP_HEADERS.has(k)) out[k] = v;
        out['x-call-id'] = callId;
        out['x-duration-seconds'] = (Number(process.hrtime.bigint() - started) / 1e9).toFixed(6);
        res.writeHead(up.statusCode ?? 502, out);
        up.pipe(res);
        up.on('end', resolve);
        up.on('error', () => {
          res.destroy();
          resolve();
        });
      });
      const fail = (err: Error) => {
        log('warn', 'error with upstream request', {
          function: route.service,
          url: target,
          error: err.message,
        });
        if (!res.headersSent) {
          res.writeHead(502, { 'x-call-id': callId });
          res.end();
        } else res.destroy();
        resolve();
      };
      upstream.setTimeout(upstreamTimeoutMs, () =>
        upstream.destroy(new Error(`context deadline exceeded (upstream_timeout ${upstreamTimeoutMs} ms)`)),
      );
      upstream.on('error', fail);
      req.pipe(upstream);
    });
  }

  async function enqueue(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = functionRoute(url.pathname)!;
    if (!queue)
      return sendJson(res, 500, { error: 'faas_nats_address is not set: asynchronous calls are off' });
    const callbackUrl = req.headers['x-callback-url'] as string | undefined;
    if (callbackUrl !== undefined && !URL.canParse(callbackUrl))
      return sendJson(res, 400, { error: `X-Callback-Url ${JSON.stringify(callbackUrl)} is not a URL` });
    const callId = (req.headers['x-call-id'] as string | undefined) ?? randomUUID();
    const body = await readBody(req);
    const header: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) header[k] = Array.isArray(v) ? v : [v];
    header['x-call-id'] = [callId];
    try {
      await queue.publish({
        Header: header,
        Host: req.headers.host ?? '',
        Body: body.toString('base64'),
        Method: req.method ?? 'POST',
        Path: route.path,
        QueryString: url.search.replace(/^\?/, ''),
        Function: route.service,
        ...(callbackUrl ? { CallbackUrl: callbackUrl } : {}),
      });
    } catch (err) {
      log('error', 'queue error', { function: route.service, error: (err as Error).message });
      res.writeHead(500, { 'content-type': 'text/plain', 'x-call-id': callId });
      res.end(`${(err as Error).message}\n`);
      return;
    }
    res.writeHead(202, { 'x-call-id': callId, 'content-length': 0 });
    res.end();
  }

  await startService({
    name: 'openfaas-gateway',
    routes: ['/function/:name', '/async-function/:name', '/system/functions'],
    // NATS is connected in the background (and again after every loss): the gateway serves synchronous
    // calls without it, and an asynchronous call waits for it up to its publish timeout.
    warmUp: () => {
      queue?.connect().catch((err: Error) => log('error', 'NATS connection failed', { error: err.message }));
    },
    handler: async (req, res, url) => {
      const route = functionRoute(url.pathname);
      if (route?.async) {
        if (req.method !== 'POST') return sendJson(res, 405, { error: 'asynchronous calls are POST' });
        return enqueue(req, res, url);
      }
      if (route) return invoke(req, res, url);
      if (url.pathname === '/system/functions' && req.method === 'GET') {
        const namespace = url.searchParams.get('namespace') || functionNamespace;
        try {
          return sendJson(res, 200, await listFunctions(namespace, env));
        } catch (err) {
          return sendJson(res, 500, { error: (err as Error).message });
        }
      }
      return sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
    },
  });
});
