import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { ScaledClock } from '../../../kube/clock.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { ApiServer, type ApiServerOptions } from '../../../twin/apiserver/api-server.ts';
import { SYSTEM_NAMESPACES, systemNamespace } from '../../../twin/apiserver/in-cluster.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export interface Credentials {
  ca: string;
  cert?: string;
  key?: string;
  token?: string;
}

/** An API server over a bare store (no controllers), with the kubeconfig's admin credentials. */
export async function startApiServer(
  options: Partial<ApiServerOptions> & { historyLimit?: number } = {},
): Promise<{
  store: ObjectStore;
  server: ApiServer;
  admin: Credentials;
  dir: string;
  request: (
    method: string,
    urlPath: string,
    body?: unknown,
    headers?: Record<string, string>,
    creds?: Credentials,
  ) => Promise<Reply>;
  stop: () => Promise<void>;
}> {
  const dir = mkdtempSync(path.join(tmpdir(), 'twin-apiserver-'));
  const clock = new ScaledClock(1);
  const store = new ObjectStore(() => clock.now(), { historyLimit: options.historyLimit ?? 10_000 });
  for (const ns of SYSTEM_NAMESPACES) store.create(systemNamespace(ns));
  store.create({ ...systemNamespace('production'), metadata: { name: 'production' } });
  const server = new ApiServer({
    store,
    clock,
    events: new EventRecorder(store, clock),
    pkiDir: path.join(dir, 'pki'),
    kubeconfigFile: path.join(dir, 'kubeconfig'),
    bookmarkIntervalMs: 200,
    ...options,
  });
  await server.start();
  const kc = parse(readFileSync(path.join(dir, 'kubeconfig'), 'utf8'));
  const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  const admin: Credentials = {
    ca: b64(kc.clusters[0].cluster['certificate-authority-data']),
    cert: b64(kc.users[0].user['client-certificate-data']),
    key: b64(kc.users[0].user['client-key-data']),
  };
  const request = (
    method: string,
    urlPath: string,
    body?: unknown,
    headers: Record<string, string> = {},
    creds: Credentials = admin,
  ): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const data =
        body === undefined
          ? undefined
          : typeof body === 'string' || Buffer.isBuffer(body)
            ? body
            : JSON.stringify(body);
      const req = https.request(
        `${server.url}${urlPath}`,
        {
          method,
          ca: creds.ca,
          ...(creds.cert ? { cert: creds.cert, key: creds.key } : {}),
          headers: {
            ...(data !== undefined
              ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(data)) }
              : {}),
            ...(creds.token ? { Authorization: `Bearer ${creds.token}` } : {}),
            ...headers,
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => {
            let json: any;
            try {
              json = JSON.parse(text);
            } catch {}
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
        },
      );
      req.on('error', reject);
      if (data !== undefined) req.write(data);
      req.end();
    });
  return {
    store,
    server,
    admin,
    dir,
    request,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function configMap(
  name: string,
  namespace = 'production',
  labels: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels },
    data: { a: '1' },
  } as KubeObject;
}

/** Reads a watch stream until `count` events arrived (or `ms` passed), then aborts it. */
export function watchEvents(
  server: ApiServer,
  creds: Credentials,
  urlPath: string,
  count: number,
  ms = 5000,
  headers: Record<string, string> = {},
): Promise<{ status: number; events: any[] }> {
  return new Promise((resolve, reject) => {
    const events: any[] = [];
    let buf = '';
    const req = https.request(
      `${server.url}${urlPath}`,
      { ca: creds.ca, cert: creds.cert, key: creds.key, headers },
      (res) => {
        const done = () => {
          clearTimeout(timer);
          req.destroy();
          resolve({ status: res.statusCode ?? 0, events });
        };
        const timer = setTimeout(done, ms);
        res.on('data', (c) => {
          buf += c;
          let nl = buf.indexOf('\n');
          while (nl >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line.trim()) events.push(JSON.parse(line));
            nl = buf.indexOf('\n');
          }
          if (events.length >= count) done();
        });
        res.on('end', done);
      },
    );
    req.on('error', (err) => {
      if (events.length >= count) return;
      reject(err);
    });
    req.end();
  });
}
