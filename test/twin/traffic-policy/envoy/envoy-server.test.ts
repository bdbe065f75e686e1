import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureCertificateAuthority, issueCertificate } from '../../../../twin/apiserver/certificates.ts';
import { parseBootstrap } from '../../../../twin/traffic-policy/envoy/envoy-bootstrap.ts';
import { EnvoyServer } from '../../../../twin/traffic-policy/envoy/envoy-server.ts';
import { REPO_ROOT } from '../../../workloads/spawn-workload.ts';
import { call, upstream } from '../engine-harness.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A bootstrap as a manifest would mount it: one listener, a STRICT_DNS cluster to `localhost`, `retry` as the route's retry_policy. */
function bootstrap(o: {
  upstreamPort: number;
  retry: string;
  extra?: string;
  rateLimit?: string;
  tls?: { cert: string; key: string };
}): string {
  return `
static_resources:
  listeners:
  - name: ingress
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - ${
      o.tls
        ? `transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            tls_certificates:
            - certificate_chain: { filename: ${o.tls.cert} }
              private_key: { filename: ${o.tls.key} }
      `
        : ''
    }filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            name: local_route
            virtual_hosts:
            - name: functions
              domains: ["*"]
              routes:
              - match:
                  prefix: "/function/"
                  headers: [{ name: x-runtime, string_match: { exact: python } }]
                direct_response: { status: 418, body: { inline_string: "python" } }
              - match: { prefix: "/function/" }
                route:
                  cluster: gateway
                  timeout: 30s
                  retry_policy:
${o.retry
  .split('\n')
  .map((l) => `                    ${l}`)
  .join('\n')}
          http_filters:${o.rateLimit ?? ''}
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:
  - name: gateway
    type: STRICT_DNS
    connect_timeout: 2s
    lb_policy: ROUND_ROBIN
    circuit_breakers:
      thresholds: [{ priority: DEFAULT, max_connections: 100, max_pending_requests: 100, max_requests: 100, max_retries: 10 }]
    outlier_detection: { consecutive_5xx: 50, interval: 10s, base_ejection_time: 30s, max_ejection_percent: 50 }
    load_assignment:
      cluster_name: gateway
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: localhost, port_value: ${o.upstreamPort} } } }
${o.extra ?? ''}`;
}

async function envoy(text: string): Promise<string> {
  const server = new EnvoyServer(parseBootstrap(text, 'envoy.yaml'), { readFile: (p) => readFileSync(p) });
  await server.start();
  cleanups.push(() => server.stop());
  const a = server.addresses.get('ingress')!;
  return `${a.host}:${a.port}`;
}

describe('Envoy front end: the bootstrap', () => {
  it('reports an unknown field with its path, and a field the twin does not play', () => {
    const text = bootstrap({ upstreamPort: 1, retry: 'retry_on: 5xx\nnum_retries: 2' });
    expect(() =>
      parseBootstrap(text.replace('circuit_breakers:', 'circuit_breaker:'), 'k8s/base/envoy.yaml'),
    ).toThrow('k8s/base/envoy.yaml: static_resources.clusters[0].circuit_breaker: unknown field');
    expect(() =>
      parseBootstrap(
        text.replace('num_retries: 2', 'num_retries: 2\n                    retry_priority: {}'),
        'f',
      ),
    ).toThrow(
      'f: static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[1].route.retry_policy.retry_priority: not implemented by the twin',
    );
    expect(() => parseBootstrap(text.replace('retry_on: 5xx', 'retry_on: 5xx,sometimes'), 'f')).toThrow(
      'unknown retry condition "sometimes"',
    );
    expect(() => parseBootstrap(text.replace('cluster: gateway', 'cluster: gateways'), 'f')).toThrow(
      'route.cluster: cluster "gateways" is not defined in static_resources.clusters',
    );
    const b = parseBootstrap(text, 'f');
    expect(b.clusters[0]).toMatchObject({
      type: 'STRICT_DNS',
      connectTimeoutMs: 2000,
      thresholds: { maxConnections: 100, maxPendingRequests: 100, maxRequests: 100, maxRetries: 10 },
      outlier: {
        consecutive5xx: 50,
        consecutiveGatewayFailure: 0,
        baseEjectionTimeMs: 30_000,
        maxEjectionPercent: 50,
      },
    });
    const action = b.listeners[0]!.virtualHosts[0]!.routes[1]!.action;
    expect(action).toMatchObject({ type: 'route', timeoutMs: 30_000, retry: { numRetries: 2 } });
  });
});

describe('Envoy front end: serving the bootstrap', () => {
  it('serves its retry policy, and a changed retry policy changes what clients see', async () => {
    let failures = 0;
    const gw = await upstream('gateway', (req, res) => {
      if (failures > 0) {
        failures--;
        res.statusCode = 503;
        return res.end('busy');
      }
      res.end(`ok ${req.url}`);
    });
    cleanups.push(() => new Promise((r) => gw.server.close(r)));
    const withRetries = await envoy(
      bootstrap({
        upstreamPort: gw.host.port,
        retry: 'retry_on: 5xx\nnum_retries: 2\nretry_back_off: { base_interval: 0.01s }',
      }),
    );
    failures = 2;
    expect(await call(`http://${withRetries}/function/echo`)).toMatchObject({
      status: 200,
      body: 'ok /function/echo',
    });
    expect(gw.hits()).toBe(3);
    expect(
      (await call(`http://${withRetries}/function/echo`, { headers: { 'x-runtime': 'python' } })).status,
    ).toBe(418);

    const noRetries = await envoy(
      bootstrap({ upstreamPort: gw.host.port, retry: 'retry_on: 5xx\nnum_retries: 0' }),
    );
    failures = 1;
    expect(await call(`http://${noRetries}/function/echo`)).toMatchObject({ status: 503, body: 'busy' });
    const onlyConnect = await envoy(
      bootstrap({ upstreamPort: gw.host.port, retry: 'retry_on: connect-failure\nnum_retries: 3' }),
    );
    failures = 1;
    expect((await call(`http://${onlyConnect}/function/echo`)).status).toBe(503);
  });

  it('answers 429 local_rate_limited beyond the token bucket, only where the filter is enabled and enforced', async () => {
    const gw = await upstream('gateway');
    cleanups.push(() => new Promise((r) => gw.server.close(r)));
    const rateLimit = (enforced: number) => `
          - name: envoy.filters.http.local_ratelimit
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
              stat_prefix: http_local_rate_limiter
              token_bucket: { max_tokens: 3, tokens_per_fill: 3, fill_interval: 60s }
              filter_enabled: { runtime_key: local_rate_limit_enabled, default_value: { numerator: 100, denominator: HUNDRED } }
              filter_enforced: { runtime_key: local_rate_limit_enforced, default_value: { numerator: ${enforced}, denominator: HUNDRED } }
              response_headers_to_add: [{ header: { key: x-local-rate-limit, value: "true" } }]`;
    const limited = await envoy(
      bootstrap({ upstreamPort: gw.host.port, retry: 'retry_on: 5xx', rateLimit: rateLimit(100) }),
    );
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await call(`http://${limited}/function/x`));
    expect(statuses.map((s) => s.status)).toEqual([200, 200, 200, 429, 429]);
    expect(statuses[4]).toMatchObject({
      body: 'local_rate_limited',
      headers: { 'x-local-rate-limit': 'true' },
    });
    const shadow = await envoy(
      bootstrap({ upstreamPort: gw.host.port, retry: 'retry_on: 5xx', rateLimit: rateLimit(0) }),
    );
    for (let i = 0; i < 5; i++) expect((await call(`http://${shadow}/function/x`)).status).toBe(200);
  });

  it('terminates TLS with the mounted certificate and redirects plain HTTP to HTTPS', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'twin-envoy-'));
    const ca = await ensureCertificateAuthority(dir);
    const pair = await issueCertificate(ca, {
      commonName: 'api.example.com',
      dnsNames: ['api.example.com'],
      ips: ['127.0.0.1'],
      usage: 'server',
    });
    writeFileSync(path.join(dir, 'tls.crt'), pair.certPem);
    writeFileSync(path.join(dir, 'tls.key'), pair.keyPem);
    const gw = await upstream('gateway');
    cleanups.push(() => new Promise((r) => gw.server.close(r)));
    const https = await envoy(
      bootstrap({
        upstreamPort: gw.host.port,
        retry: 'retry_on: 5xx',
        tls: { cert: path.join(dir, 'tls.crt'), key: path.join(dir, 'tls.key') },
      }),
    );
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        `https://${https}/function/f`,
        { ca: ca.certPem, servername: 'api.example.com', agent: false },
        (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('gateway /function/f');
    const redirect = bootstrap({ upstreamPort: gw.host.port, retry: 'retry_on: 5xx' }).replace(
      'routes:\n',
      'require_tls: ALL\n              routes:\n',
    );
    const plain = await envoy(redirect);
    const r = await call(`http://${plain}/function/f?x=1`, { headers: { host: 'api.example.com' } });
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('https://api.example.com/function/f?x=1');
  });
});

describe('the envoy binary', () => {
  function run(args: string[]) {
    return new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'twin/traffic-policy/envoy/envoy-entrypoint.ts', ...args],
        {
          cwd: REPO_ROOT,
          env: { PATH: process.env['PATH'] ?? '' },
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (out += d));
      child.once('exit', (code) => resolve({ code, out }));
    });
  }

  it('validates a bootstrap with --mode validate and exits 1 naming an unknown field', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'twin-envoy-'));
    const good = path.join(dir, 'envoy.yaml');
    writeFileSync(good, bootstrap({ upstreamPort: 8080, retry: 'retry_on: 5xx' }));
    const ok = await run(['-c', good, '--mode', 'validate', '--service-cluster', 'ingress']);
    expect(ok.out).toContain('OK');
    expect(ok.code).toBe(0);
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      bootstrap({ upstreamPort: 8080, retry: 'retry_on: 5xx' }).replace('lb_policy:', 'lb_polcy:'),
    );
    const failed = await run(['-c', bad, '--mode', 'validate']);
    expect(failed.code).toBe(1);
    expect(failed.out).toContain('static_resources.clusters[0].lb_polcy: unknown field');
    expect((await run(['--config-yaml', '{}'])).code).toBe(1);
  }, 60_000);
});
