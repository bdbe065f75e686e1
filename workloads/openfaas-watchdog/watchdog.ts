/**
 * The OpenFaaS watchdog of the function images, in of-watchdog's serializing fork mode
 * (https://github.com/openfaas/of-watchdog#modes): on port 8080 it reads each call's body, forks
 * `fprocess` for it with the body on stdin and the request in Http_* variables, and answers the
 * process's stdout (200) or, when the process fails, 500 with its stderr. exec_timeout is the hard
 * timeout: the process is killed with SIGKILL and the call answers 500. `/_/health` answers 200.
 * The function's CPU and memory are the forked processes', so they count for the pod.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { ConfigError } from '../lib/config-error.ts';
import { durationFromEnv } from '../lib/go-duration.ts';
import { runMain, startService } from '../lib/http-service.ts';
import { log } from '../lib/log.ts';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Splits fprocess into words on white space, as the watchdog does (no shell). */
export function processWords(fprocess: string): string[] {
  return fprocess.trim().split(/\s+/).filter(Boolean);
}

runMain('openfaas-watchdog', async () => {
  const env = process.env;
  const fprocess = env['fprocess'] ?? env['function_process'];
  if (!fprocess?.trim())
    throw new ConfigError(
      'fprocess is not set: name the process to fork for each call (the image sets it, e.g. "node index.js")',
    );
  const [file, ...args] = processWords(fprocess);
  const execTimeoutMs = durationFromEnv(env, 'exec_timeout', 10_000);

  await startService({
    name: 'openfaas-watchdog',
    env: { ...env, PORT: env['port'] ?? env['PORT'] ?? '8080' },
    routes: ['/', '/_/health'],
    handler: async (req, res, url) => {
      if (url.pathname === '/_/health') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('OK');
        return;
      }
      const body = await readBody(req);
      const started = process.hrtime.bigint();
      const childEnv: NodeJS.ProcessEnv = {
        ...env,
        Http_Method: req.method ?? 'POST',
        Http_Path: url.pathname,
        Http_Query: url.search.replace(/^\?/, ''),
        Http_ContentLength: String(body.length),
        Http_Content_Type: String(req.headers['content-type'] ?? ''),
      };
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === 'string')
          childEnv[
            `Http_${k.replace(/-/g, '_').replace(/(^|_)([a-z])/g, (_m, p, c: string) => p + c.toUpperCase())}`
          ] = v;
      const child = spawn(file!, args, { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.stdin.on('error', () => {});
      child.stdin.end(body);
      let timedOut = false;
      const timer =
        execTimeoutMs > 0
          ? setTimeout(() => {
              timedOut = true;
              log('warn', 'Function was killed by ExecTimeout', { execTimeoutMs, pid: child.pid });
              child.kill('SIGKILL');
            }, execTimeoutMs)
          : undefined;
      const { code, signal, spawnError } = await new Promise<{
        code: number | null;
        signal: NodeJS.Signals | null;
        spawnError?: Error;
      }>((resolve) => {
        child.once('error', (e) => resolve({ code: null, signal: null, spawnError: e }));
        child.once('close', (c, s) => resolve({ code: c, signal: s }));
      });
      if (timer) clearTimeout(timer);
      const seconds = (Number(process.hrtime.bigint() - started) / 1e9).toFixed(6);
      if (spawnError || timedOut || code !== 0) {
        const why = spawnError
          ? `fork of ${file} failed: ${spawnError.message}`
          : timedOut
            ? `Function was killed by ExecTimeout: ${execTimeoutMs / 1000}s`
            : `${file} exited with ${code ?? signal}: ${Buffer.concat(err).toString('utf8').slice(-2000)}`;
        res.writeHead(500, { 'content-type': 'text/plain', 'x-duration-seconds': seconds });
        res.end(`${why}\n`);
        return;
      }
      const payload = Buffer.concat(out);
      res.writeHead(200, {
        'content-type': env['content_type'] || 'application/json',
        'content-length': payload.length,
        'x-duration-seconds': seconds,
      });
      res.end(payload);
    },
  });
});
