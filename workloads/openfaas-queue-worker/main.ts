/**
 * The OpenFaaS queue worker (ghcr.io/openfaas/queue-worker) as the twin runs it: it takes the
 * asynchronous calls the gateway queued on NATS (JetStream stream faas_nats_channel, the shared durable
 * consumer), invokes each function straight through its Service
 * (`<function><faas_function_suffix>:8080`) with the call's method, path, query, headers and body, and
 * posts the result to the call's X-Callback-Url with X-Call-Id, X-Function-Name, X-Function-Status and
 * X-Duration-Seconds. ack_wait is both the call's timeout and the time after which an unacknowledged
 * call is delivered to another worker; max_inflight calls run at once per worker. Every call is
 * acknowledged once it has run, whatever its status (the Community Edition's worker does not retry).
 */
import http from 'node:http';
import type { JsMsg } from 'nats';
import { numberFromEnv } from '../lib/config-error.ts';
import { CONSUMER_NAME, FaasQueue, type QueueRequest } from '../lib/faas-queue.ts';
import { durationFromEnv } from '../lib/go-duration.ts';
import { runMain } from '../lib/http-service.ts';
import { log } from '../lib/log.ts';

const agent = new http.Agent({ keepAlive: true });

interface Result {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function call(
  url: string,
  method: string,
  headers: Record<string, string | string[]>,
  body: Buffer,
  timeoutMs: number,
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms (ack_wait)`)));
    req.on('error', reject);
    req.end(body);
  });
}

runMain('openfaas-queue-worker', async () => {
  const env = process.env;
  const natsHost = env['faas_nats_address'] || 'nats';
  const natsPort = numberFromEnv(env, 'faas_nats_port', 4222, { min: 1, max: 65535 });
  const channel = env['faas_nats_channel'] || 'faas-request';
  const suffix = env['faas_function_suffix'] ?? '';
  const ackWaitMs = durationFromEnv(env, 'ack_wait', 30_000);
  const maxInflight = numberFromEnv(env, 'max_inflight', 1, { min: 1 });
  const queue = new FaasQueue(`${natsHost}:${natsPort}`, channel, env['POD_NAME'] || 'queue-worker');
  let stopping = false;
  const stop = () => {
    stopping = true;
    void queue.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  async function handle(msg: JsMsg): Promise<void> {
    const started = process.hrtime.bigint();
    let request: QueueRequest;
    try {
      request = JSON.parse(new TextDecoder().decode(msg.data)) as QueueRequest;
    } catch (err) {
      log('error', 'unreadable queued call; dropped', { error: (err as Error).message });
      msg.term();
      return;
    }
    const dot = request.Function.lastIndexOf('.');
    const host =
      dot > 0
        ? `${request.Function.slice(0, dot)}.${request.Function.slice(dot + 1)}.svc.cluster.local`
        : `${request.Function}${suffix}`;
    const url = `http://${host}:8080${request.Path || '/'}${request.QueryString ? `?${request.QueryString}` : ''}`;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(request.Header ?? {}))
      if (
        !['host', 'content-length', 'connection', 'transfer-encoding', 'x-callback-url'].includes(
          k.toLowerCase(),
        )
      )
        headers[k] = v;
    const callId = request.Header?.['x-call-id']?.[0] ?? request.Header?.['X-Call-Id']?.[0] ?? '';
    let result: Result;
    try {
      result = await call(
        url,
        request.Method || 'POST',
        headers,
        Buffer.from(request.Body ?? '', 'base64'),
        ackWaitMs,
      );
    } catch (err) {
      result = { status: 500, headers: {}, body: Buffer.from((err as Error).message) };
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    log('info', 'invoked', {
      function: request.Function,
      callId,
      status: result.status,
      durationSeconds: seconds,
    });
    if (request.CallbackUrl) {
      try {
        const cb = await call(
          request.CallbackUrl,
          'POST',
          {
            'x-call-id': callId,
            'x-function-name': request.Function,
            'x-function-status': String(result.status),
            'x-duration-seconds': seconds.toFixed(6),
            ...(result.headers['content-type'] ? { 'content-type': result.headers['content-type'] } : {}),
          },
          result.body,
          ackWaitMs,
        );
        log('info', 'callback posted', { callId, url: request.CallbackUrl, status: cb.status });
      } catch (err) {
        log('warn', 'callback failed', { callId, url: request.CallbackUrl, error: (err as Error).message });
      }
    }
    msg.ack();
  }

  const { js } = await queue.connect();
  await queue.ensureConsumer(ackWaitMs, 1000);
  const consumer = await js.consumers.get(channel, CONSUMER_NAME);
  log('info', 'listening', { channel, consumer: CONSUMER_NAME, maxInflight, ackWaitMs });
  const inflight = new Set<Promise<void>>();
  while (!stopping) {
    const messages = await consumer.consume({ max_messages: maxInflight });
    for await (const msg of messages) {
      const p = handle(msg).finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= maxInflight) await Promise.race(inflight);
      if (stopping) break;
    }
  }
});
