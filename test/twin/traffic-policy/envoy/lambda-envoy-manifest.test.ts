import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseBootstrap } from '../../../../twin/traffic-policy/envoy/envoy-bootstrap.ts';
import { EnvoyServer } from '../../../../twin/traffic-policy/envoy/envoy-server.ts';
import { REPO_ROOT } from '../../../workloads/spawn-workload.ts';
import { call, upstream } from '../engine-harness.ts';

const MANIFEST = 'infra/lambda-microservice/k8s/base/ingress-envoy.yaml';
const docs = parseAllDocuments(readFileSync(path.join(REPO_ROOT, MANIFEST), 'utf8')).map((d) => d.toJS());
const BOOTSTRAP: string = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'envoy-config').data[
  'envoy.yaml'
];
const TLS = docs.find((d) => d.kind === 'Secret' && d.metadata.name === 'envoy-tls').stringData as Record<
  string,
  string
>;
/** The pod's address (loopback, as the twin gives pods) and the gateway Service's (where STRICT_DNS resolves it). */
const POD = '127.10.250.1';
const GATEWAY_IP = '127.10.250.2';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(bootstrap: string) {
  const server = new EnvoyServer(parseBootstrap(bootstrap, MANIFEST), {
    // the files the Deployment mounts: /etc/envoy/tls from the Secret envoy-tls
    readFile: (p) => Buffer.from(TLS[path.basename(p)] ?? ''),
    wildcardHost: POD,
    lookup: (host, _o, cb) =>
      host === 'gateway.openfaas.svc.cluster.local'
        ? cb(null, [{ address: GATEWAY_IP, family: 4 }])
        : cb(new Error(`ENOTFOUND ${host}`), []),
  });
  await server.start();
  cleanups.push(() => server.stop());
}

function https(pathname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: POD,
        port: 8443,
        path: pathname,
        servername: 'api.lambda-microservice.local',
        ca: TLS['tls.crt'],
        agent: false,
      },
      (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe(`the Envoy bootstrap of ${MANIFEST}, served as written`, () => {
  it('terminates TLS with the mounted certificate, redirects port 80, and retries gateway errors; without gateway-error in retry_on it does not', async () => {
    let failures = 0;
    const gateway = await upstream('gateway', (req, res) => {
      if (failures > 0) {
        failures--;
        res.statusCode = 502;
        return res.end('bad gateway');
      }
      res.end(`function ${req.url}`);
    });
    // the OpenFaaS gateway Service's port, on an address of its own
    gateway.server.close();
    await new Promise<void>((r) => gateway.server.listen(8080, GATEWAY_IP, r));
    cleanups.push(() => new Promise((r) => gateway.server.close(r)));

    await serve(BOOTSTRAP);
    const redirect = await call(`http://${POD}:8080/function/echo`, {
      headers: { host: 'api.lambda-microservice.local' },
    });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('https://api.lambda-microservice.local/function/echo');
    failures = 2;
    expect(await https('/function/echo')).toEqual({ status: 200, body: 'function /function/echo' });
    expect(gateway.hits()).toBe(3);
    await cleanups.pop()!();

    const changed = BOOTSTRAP.replace(
      'retry_on: "connect-failure,reset,gateway-error"',
      'retry_on: "connect-failure,reset"',
    );
    expect(changed).not.toBe(BOOTSTRAP);
    await serve(changed);
    failures = 2;
    expect(await https('/function/echo')).toEqual({ status: 502, body: 'bad gateway' });
    expect(gateway.hits()).toBe(4);
  });
});
