import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary } from '../../twin/data/binaries.ts';
import { REPO_ROOT, type SpawnedWorkload, spawnWorkload } from './spawn-workload.ts';

const hasNats = findBinary({ name: 'nats-server', dirs: ['/usr/sbin'] }) !== undefined;
const hasPython = findBinary({ name: 'python3' }) !== undefined;

// Addresses of this test's "pods" (a block no other test uses) and the cluster names that lead to them.
const NATS_IP = '127.10.231.10';
const NODE_FN_IP = '127.10.231.11';
const PYTHON_FN_IP = '127.10.231.12';
const GATEWAY_IP = '127.10.231.13';
const WORKER_IP = '127.10.231.14';
const DNS = join(REPO_ROOT, 'twin/network/dns-preload.mjs');

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(
  url: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe.skipIf(!hasNats || !hasPython)(
  'OpenFaaS request path: gateway, NATS JetStream, queue worker, Node.js and Python functions (needs nats-server and python3)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'openfaas-'));
    const dnsFile = join(dir, 'dns.json');
    let nats: ChildProcess;
    const workloads: SpawnedWorkload[] = [];
    let gateway: SpawnedWorkload;
    const callbacks: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
    let callbackServer: http.Server;
    let callbackUrl: string;

    beforeAll(async () => {
      writeFileSync(
        dnsFile,
        JSON.stringify({
          records: {
            'nats.openfaas.svc.cluster.local': [NATS_IP],
            'nodejs-runtime.openfaas-fn.svc.cluster.local': [NODE_FN_IP],
            'python-runtime.openfaas-fn.svc.cluster.local': [PYTHON_FN_IP],
          },
        }),
      );
      // NATS through the image's twin entrypoint, with the container's arguments of the manifest.
      nats = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'twin/nats/nats-entrypoint.ts',
          '--port',
          '4222',
          '--http_port',
          '8222',
          '--jetstream',
          '--store_dir',
          '/data',
        ],
        {
          cwd: REPO_ROOT,
          env: {
            PATH: process.env['PATH'] ?? '',
            TWIN_POD_IP: NATS_IP,
            TWIN_CONTAINER_ROOT: join(dir, 'nats-root'),
            TWIN_VOLUME_MOUNTS: JSON.stringify([{ mountPath: '/data', path: join(dir, 'nats-data') }]),
          },
          stdio: 'ignore',
        },
      );
      const common = { TWIN_DNS_FILE: dnsFile, PATH: process.env['PATH'] ?? '' };
      const fn = (ip: string, fprocess: string, execTimeout: string) =>
        spawnWorkload(
          'workloads/openfaas-watchdog/watchdog.ts',
          {
            ...common,
            POD_IP: ip,
            PORT: '',
            port: '8080',
            fprocess,
            exec_timeout: execTimeout,
            TWIN_POD_NAMESPACE: 'openfaas-fn',
          },
          [DNS],
        );
      workloads.push(await fn(NODE_FN_IP, 'node workloads/openfaas-functions/handler.mjs', '1s'));
      workloads.push(await fn(PYTHON_FN_IP, 'python3 workloads/openfaas-functions/handler.py', '30s'));
      gateway = await spawnWorkload(
        'workloads/openfaas-gateway/server.ts',
        {
          ...common,
          POD_IP: GATEWAY_IP,
          PORT: '8080',
          TWIN_POD_NAMESPACE: 'openfaas',
          upstream_timeout: '3s',
          direct_functions: 'true',
          direct_functions_suffix: 'openfaas-fn.svc.cluster.local',
          faas_nats_address: 'nats.openfaas.svc.cluster.local',
          faas_nats_port: '4222',
        },
        [DNS],
      );
      workloads.push(gateway);
      workloads.push(
        await spawnWorkload(
          'workloads/openfaas-queue-worker/main.ts',
          {
            ...common,
            POD_IP: WORKER_IP,
            TWIN_POD_NAMESPACE: 'openfaas',
            faas_nats_address: 'nats.openfaas.svc.cluster.local',
            faas_function_suffix: '.openfaas-fn.svc.cluster.local',
            ack_wait: '30s',
          },
          [DNS],
        ),
      );
      callbackServer = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => {
          body += c.toString();
        });
        req.on('end', () => {
          callbacks.push({ headers: req.headers, body });
          res.end();
        });
      });
      await new Promise<void>((r) => callbackServer.listen(0, '127.0.0.1', r));
      callbackUrl = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/done`;
    }, 60_000);

    afterAll(async () => {
      for (const w of workloads.reverse()) await w.stop();
      nats?.kill('SIGTERM');
      callbackServer?.close();
    });

    it('invokes the Node.js and the Python function synchronously through /function/<name>', async () => {
      const node = await request(`${gateway.url}/function/nodejs-runtime`, 'POST', { cpuMs: 20 });
      expect(node.status, node.body).toBe(200);
      expect(JSON.parse(node.body)).toMatchObject({ runtime: 'nodejs' });
      expect(node.headers['x-call-id']).toMatch(/^[0-9a-f-]{36}$/);
      const python = await request(`${gateway.url}/function/python-runtime/some/path?x=1`, 'POST', {
        cpuMs: 20,
      });
      expect(python.status, python.body).toBe(200);
      expect(JSON.parse(python.body)).toMatchObject({ runtime: 'python' });
    }, 30_000);

    it('answers 502 for a function with no Service, as the gateway does for an upstream error', async () => {
      const r = await request(`${gateway.url}/function/no-such-function`, 'POST', {});
      expect(r.status).toBe(502);
    }, 30_000);

    it('kills a call at the function’s exec_timeout (500) and gives up at the gateway’s upstream_timeout (502)', async () => {
      const killed = await request(`${gateway.url}/function/nodejs-runtime`, 'POST', { sleepMs: 5000 });
      expect(killed.status).toBe(500);
      expect(killed.body).toContain('Function was killed by ExecTimeout: 1s');
      const late = await request(`${gateway.url}/function/python-runtime`, 'POST', { sleepMs: 6000 });
      expect(late.status).toBe(502);
      expect(late.headers['x-call-id']).toBeTruthy();
    }, 30_000);

    it('queues /async-function/<name> on NATS: 202 at once, the queue worker runs it and posts the result to X-Callback-Url', async () => {
      const r = await request(
        `${gateway.url}/async-function/python-runtime`,
        'POST',
        { cpuMs: 10 },
        {
          'x-callback-url': callbackUrl,
        },
      );
      expect(r.status, r.body).toBe(202);
      const callId = r.headers['x-call-id'] as string;
      expect(callId).toBeTruthy();
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && !callbacks.some((c) => c.headers['x-call-id'] === callId))
        await new Promise((res) => setTimeout(res, 100));
      const cb = callbacks.find((c) => c.headers['x-call-id'] === callId);
      expect(cb, `no callback for ${callId}`).toBeDefined();
      expect(cb!.headers['x-function-status']).toBe('200');
      expect(cb!.headers['x-function-name']).toBe('python-runtime');
      expect(JSON.parse(cb!.body)).toMatchObject({ runtime: 'python' });
    }, 30_000);

    it('refuses an asynchronous call that is not a POST', async () => {
      expect((await request(`${gateway.url}/async-function/python-runtime`, 'GET')).status).toBe(405);
    });
  },
);
