import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DNS_PRELOAD } from '../../../twin/network/twin-network.ts';
import { closeAll, service, startNetwork, startPod, workDir } from './helpers.ts';

const run = promisify(execFile);

describe('dns-preload.mjs in a live Node pod', () => {
  let pod: Awaited<ReturnType<typeof startPod>>;
  let file: string;
  beforeAll(async () => {
    pod = await startPod('127.10.3.4', 'api-1');
    file = join(workDir(), 'dns.json');
    writeFileSync(file, JSON.stringify({ records: { 'api.production.svc.cluster.local': ['127.10.3.4'] } }));
  });
  afterAll(() => closeAll([pod.server]));

  const child = (code: string, env: Record<string, string>) =>
    run(process.execPath, ['--import', DNS_PRELOAD, '--input-type=module', '-e', code], {
      env: { ...process.env, ...env },
      timeout: 20_000,
    });

  it('makes fetch() and http.get resolve cluster names with the pod search list', async () => {
    const code = `
      import http from 'node:http';
      import dns from 'node:dns';
      const port = ${pod.port};
      const viaFetch = await (await fetch('http://api:' + port + '/f')).json();
      const viaFetchFqdn = await (await fetch('http://api.production.svc.cluster.local:' + port + '/g')).json();
      const viaHttp = await new Promise((resolve, reject) => {
        http.get('http://api.production:' + port + '/h', (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => resolve(JSON.parse(b))); }).on('error', reject);
      });
      const forms = await Promise.all([
        new Promise((r) => dns.lookup('api', (e, a, f) => r([a, f]))),
        new Promise((r) => dns.lookup('api', 4, (e, a, f) => r([a, f]))),
        new Promise((r) => dns.lookup('api', { all: true }, (e, a) => r(a))),
        dns.promises.lookup('api.production.svc'),
        dns.promises.lookup('api', { all: true }),
        new Promise((r) => dns.lookup('localhost', { family: 4 }, (e, a) => r(a))),
        new Promise((r) => dns.lookup('nope', (e) => r(e?.code))),
      ]);
      console.log(JSON.stringify({ viaFetch, viaFetchFqdn, viaHttp, forms }));
    `;
    const { stdout } = await child(code, { TWIN_DNS_FILE: file, TWIN_POD_NAMESPACE: 'production' });
    const out = JSON.parse(stdout);
    expect(out.viaFetch.url).toBe('/f');
    expect(out.viaFetchFqdn.url).toBe('/g');
    expect(out.viaHttp.url).toBe('/h');
    expect(out.forms).toEqual([
      ['127.10.3.4', 4],
      ['127.10.3.4', 4],
      [{ address: '127.10.3.4', family: 4 }],
      { address: '127.10.3.4', family: 4 },
      [{ address: '127.10.3.4', family: 4 }],
      '127.0.0.1',
      'ENOTFOUND',
    ]);
  });

  it('reads the file again when it changes, and short names only resolve in their namespace', async () => {
    const code = `
      import dns from 'node:dns';
      import { writeFileSync, renameSync } from 'node:fs';
      const before = await dns.promises.lookup('api').catch((e) => e.code);
      const qualified = await dns.promises.lookup('api.production');
      writeFileSync(process.env.TWIN_DNS_FILE + '.tmp', JSON.stringify({ records: { 'api.production.svc.cluster.local': ['127.10.9.9'] } }));
      renameSync(process.env.TWIN_DNS_FILE + '.tmp', process.env.TWIN_DNS_FILE);
      const after = await dns.promises.lookup('api.production');
      console.log(JSON.stringify({ before, qualified: qualified.address, after: after.address }));
    `;
    const copy = join(workDir(), 'dns.json');
    writeFileSync(copy, JSON.stringify({ records: { 'api.production.svc.cluster.local': ['127.10.3.4'] } }));
    const { stdout } = await child(code, { TWIN_DNS_FILE: copy, TWIN_POD_NAMESPACE: 'staging' });
    expect(JSON.parse(stdout)).toEqual({ before: 'ENOTFOUND', qualified: '127.10.3.4', after: '127.10.9.9' });
  });
});

describe('TwinNetwork.podDnsSetup', () => {
  it('gives a live pod the preload through NODE_OPTIONS and resolves the live cluster records', async () => {
    const { store, net } = await startNetwork();
    try {
      store.create(service('production', 'api', [{ port: 80 }]));
      await net.serviceUrl({ namespace: 'production', name: 'api' });
      await net.dns.flush();
      const setup = net.podDnsSetup('production');
      const { stdout } = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "import dns from 'node:dns'; console.log((await dns.promises.lookup('api')).address)",
        ],
        { env: { ...process.env, ...setup.env }, timeout: 20_000 },
      );
      expect(stdout.trim()).toBe(
        store.get({ kind: 'Service', namespace: 'production', name: 'api' })!.spec.clusterIP,
      );
      expect(setup.nodeArgs).toEqual(['--import', DNS_PRELOAD]);
    } finally {
      await net.stop();
    }
  });
});
