import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, type SpawnedWorkload, spawnWorkload } from './spawn-workload.ts';

const FN_IP = '127.10.231.21';
const CONTROLLER_IP = '127.10.231.22';
const DNS = join(REPO_ROOT, 'twin/network/dns-preload.mjs');

describe('lambda-microservice controller (8080 API, 9090 metrics)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-controller-'));
  const dnsFile = join(dir, 'dns.json');
  const workloads: SpawnedWorkload[] = [];
  let controller: SpawnedWorkload;

  beforeAll(async () => {
    writeFileSync(
      dnsFile,
      JSON.stringify({ records: { 'nodejs-runtime.openfaas-fn.svc.cluster.local': [FN_IP] } }),
    );
    const common = { TWIN_DNS_FILE: dnsFile, PATH: process.env['PATH'] ?? '' };
    workloads.push(
      await spawnWorkload(
        'workloads/openfaas-watchdog/watchdog.ts',
        { ...common, POD_IP: FN_IP, PORT: '8080', fprocess: 'node workloads/openfaas-functions/handler.mjs' },
        [DNS],
      ),
    );
    controller = await spawnWorkload(
      'workloads/lambda-controller/server.ts',
      {
        ...common,
        POD_IP: CONTROLLER_IP,
        PORT: '8080',
        METRICS_PORT: '9090',
        TWIN_POD_NAMESPACE: 'controller',
      },
      [DNS],
    );
    workloads.push(controller);
    await controller.waitReady();
  }, 60_000);

  afterAll(async () => {
    for (const w of workloads.reverse()) await w.stop();
  });

  it('runs a call on the runtime’s function and answers what it answered', async () => {
    const r = await fetch(`${controller.url}/api/v1/functions/nodejs-runtime/invoke`, {
      method: 'POST',
      body: JSON.stringify({ cpuMs: 5 }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-runtime')).toBe('nodejs-runtime');
    expect(await r.json()).toMatchObject({ runtime: 'nodejs' });
  });

  it('answers 404 for an unknown runtime and 502 for a runtime it cannot reach', async () => {
    const unknown = await fetch(`${controller.url}/api/v1/functions/cobol-runtime/invoke`, {
      method: 'POST',
      body: '{}',
    });
    expect(unknown.status).toBe(404);
    const unreachable = await fetch(`${controller.url}/api/v1/functions/rust-runtime/invoke`, {
      method: 'POST',
      body: '{}',
    });
    expect(unreachable.status).toBe(502);
  });

  it('exports its request metrics on the metrics port, not only on the API port', async () => {
    const text = await (await fetch(`http://${CONTROLLER_IP}:9090/metrics`)).text();
    expect(text).toMatch(
      /http_requests_total\{method="POST",route="\/api\/v1\/functions\/:runtime\/invoke",code="200"\} 1/,
    );
    expect((await fetch(`http://${CONTROLLER_IP}:9090/api/v1/runtimes`)).status).toBe(404);
  });
});
