import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PolicyRouter, type RoutedResult } from '../../../twin/traffic-policy/policy-router.ts';
import {
  type ClusterSpec,
  ENVOY_DEFAULT_THRESHOLDS,
  type RouteTable,
  type Upstream,
} from '../../../twin/traffic-policy/route-table.ts';
import { UpstreamCluster } from '../../../twin/traffic-policy/upstream-cluster.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

/** A real upstream on loopback that counts its requests. */
export async function upstream(
  name: string,
  handler?: Handler,
): Promise<{ host: Upstream; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    if (handler) return handler(req, res, hits);
    res.setHeader('x-upstream', name);
    res.end(`${name} ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { host: { ip: '127.0.0.1', port, pod: `test/${name}` }, hits: () => hits, server };
}

export function cluster(name: string, hosts: Upstream[], over: Partial<ClusterSpec> = {}): UpstreamCluster {
  return new UpstreamCluster({
    name,
    hosts: () => hosts,
    thresholds: ENVOY_DEFAULT_THRESHOLDS,
    connectTimeoutMs: 2000,
    panicThresholdPercent: 50,
    ...over,
  });
}

/** A front server on loopback that sends every request through the engine with `table`. */
export async function front(
  table: () => RouteTable,
  clusters: UpstreamCluster[],
  random?: () => number,
): Promise<{ url: string; results: RoutedResult[]; close: () => Promise<void> }> {
  const results: RoutedResult[] = [];
  const router = new PolicyRouter({
    clusters: (n) => clusters.find((c) => c.spec.name === n),
    ...(random ? { random } : {}),
    onResult: (r) => results.push(r),
  });
  const server = createServer((req, res) => router.handle(req, res, table()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    results,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      for (const c of clusters) c.close();
    },
  };
}

export interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  ms: number;
}

export function call(
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method ?? 'GET', headers: o.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          headers: res.headers,
          ms: performance.now() - t0,
        }),
      );
    });
    req.on('error', reject);
    req.end(o.body);
  });
}
