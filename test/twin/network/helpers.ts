import { mkdtempSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScaledClock } from '../../../kube/clock.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { TwinNetwork } from '../../../twin/network/twin-network.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';

export function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'twin-network-'));
}

export async function startNetwork(
  options: {
    ingressPorts?: Record<string, number>;
    networkPolicy?: 'auto' | 'proxy';
    loadBalancerSubnets?: string[];
    ingressControllers?: ReadonlySet<string>;
    istio?: boolean;
  } = {},
) {
  const clock = new ScaledClock(1);
  const store = new ObjectStore(() => clock.now());
  const events = new EventRecorder(store, clock);
  const log: string[] = [];
  const net = new TwinNetwork({
    store,
    clock,
    events,
    workDir: workDir(),
    log: (m) => log.push(m),
    ...options,
  });
  await net.start();
  return { clock, store, net, log };
}

/** An HTTP "pod" on a loopback address that answers with its name (and the request's path). */
export async function startPod(
  ip: string,
  name: string,
  handler?: Parameters<typeof createServer>[1],
): Promise<{ server: Server; port: number }> {
  const server = createServer(
    handler ??
      ((req, res) => {
        res.setHeader('x-pod', name);
        res.end(JSON.stringify({ pod: name, url: req.url, xff: req.headers['x-forwarded-for'] ?? null }));
      }),
  );
  await new Promise<void>((r) => server.listen(0, ip, r));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

export function pod(namespace: string, name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels }, spec: { containers: [] } };
}

export function service(
  namespace: string,
  name: string,
  ports: Array<{ name?: string; port: number; targetPort?: number | string }>,
  extra: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { selector: { app: name }, ports, ...extra },
  };
}

export function endpoints(
  namespace: string,
  name: string,
  addresses: Array<{ ip: string; pod: string }>,
  ports: Array<{ name?: string; port: number }>,
  notReady: Array<{ ip: string; pod: string }> = [],
): KubeObject {
  const addr = (a: { ip: string; pod: string }) => ({
    ip: a.ip,
    targetRef: { kind: 'Pod', namespace, name: a.pod },
  });
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace },
    subsets: [{ addresses: addresses.map(addr), notReadyAddresses: notReady.map(addr), ports }],
  };
}

export async function closeAll(servers: Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (s) =>
        new Promise((r) => {
          s.closeAllConnections();
          s.close(r);
        }),
    ),
  );
}

export async function getText(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** GET with node:http, which (unlike fetch) may set the Host header. */
export function httpGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}
