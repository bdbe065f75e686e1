import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../system/system.ts';

const AGNHOST = path.join(REPO_ROOT, 'test/fixtures/systems/conformance/workloads/agnhost.ts');
const run = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', AGNHOST, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The twin's agnhost (the conformance suite's binding of registry.k8s.io/e2e-test-images/agnhost). */
describe("the twin's agnhost netexec", () => {
  let child: ChildProcess;
  let http: number;
  let udp: number;
  const base = () => `http://127.0.0.1:${http}`;

  beforeAll(async () => {
    http = await freePort();
    udp = await freePort();
    child = spawn(
      process.execPath,
      ['--import', 'tsx', AGNHOST, 'netexec', `--http-port=${http}`, '--udp-port', String(udp)],
      { cwd: REPO_ROOT, env: { ...process.env, TWIN_POD_IP: '127.0.0.1', HOSTNAME: 'server-0' } },
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`${base()}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error('netexec did not become healthy');
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 40_000);

  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('serves the endpoints netexec documents: /hostname, /clientip, /echo with a code, /readyz, 404 otherwise', async () => {
    expect(await (await fetch(`${base()}/hostname`)).text()).toBe('server-0');
    expect(await (await fetch(`${base()}/clientip`)).text()).toMatch(/^127\.0\.0\.1:\d+$/);
    const echo = await fetch(`${base()}/echo?msg=hello&code=418`);
    expect(echo.status).toBe(418);
    expect(await echo.text()).toBe('hello');
    expect(await (await fetch(`${base()}/readyz`)).text()).toBe('ok');
    expect((await fetch(`${base()}/dial?host=x&port=1&request=hostname`)).status).toBe(404);
  });

  it('answers hostname, echo and clientip over UDP', async () => {
    const socket = dgram.createSocket('udp4');
    const ask = (text: string) =>
      new Promise<string>((resolve) => {
        socket.once('message', (m) => resolve(m.toString()));
        socket.send(text, udp, '127.0.0.1');
      });
    try {
      expect(await ask('hostname')).toBe('server-0');
      expect(await ask('echo hi there')).toBe('hi there');
      expect(await ask('clientip')).toMatch(/^127\.0\.0\.1:\d+$/);
    } finally {
      socket.close();
    }
  });

  it('is not ready without its UDP server (--udp-port=-1), as netexec', async () => {
    const port = await freePort();
    const c = spawn(
      process.execPath,
      ['--import', 'tsx', AGNHOST, 'netexec', `--http-port=${port}`, '--udp-port=-1'],
      { cwd: REPO_ROOT, env: { ...process.env, TWIN_POD_IP: '127.0.0.1' } },
    );
    try {
      const deadline = Date.now() + 30_000;
      let status = 0;
      while (Date.now() < deadline) {
        status = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.status,
          () => 0,
        );
        if (status) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(412);
    } finally {
      c.kill('SIGTERM');
    }
  }, 40_000);

  it('refuses what it does not implement with exit 1 naming it', () => {
    const other = run(['serve-hostname']);
    expect(other.status).toBe(1);
    expect(other.stderr).toContain('unknown command "serve-hostname" for "agnhost"');
    const tls = run(['netexec', '--tls-cert-file=/localhost.crt']);
    expect(tls.status).toBe(1);
    expect(tls.stderr).toContain('--tls-cert-file');
  });
});
