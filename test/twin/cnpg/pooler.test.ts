import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { authFileLine, pgbouncerIni, pgbouncerVersion } from '../../../twin/cnpg/pgbouncer-config.ts';
import {
  authSetupSql,
  DEFAULT_PGBOUNCER_IMAGE,
  POOLER_AUTH_USER,
  poolerDeployment,
  poolerService,
  poolerSpec,
} from '../../../twin/cnpg/pooler-controller.ts';
import { findBinary } from '../../../twin/data/binaries.ts';
import { asUser, serviceUser } from '../../../twin/data/run-as.ts';

const pooler = (spec: Record<string, unknown>) => ({
  apiVersion: 'postgresql.cnpg.io/v1',
  kind: 'Pooler',
  metadata: { name: 'pg-pooler-rw', namespace: 'db', uid: 'u1' },
  spec,
});

describe('CloudNativePG Pooler', () => {
  it("applies CNPG's defaults (rw, 1 instance, session pooling, the default image)", () => {
    expect(poolerSpec(pooler({ cluster: { name: 'pg' } }))).toEqual({
      cluster: 'pg',
      type: 'rw',
      instances: 1,
      poolMode: 'session',
      parameters: {},
      image: DEFAULT_PGBOUNCER_IMAGE,
    });
  });

  it('rejects bad fields, naming the object and the field', () => {
    expect(() => poolerSpec(pooler({}))).toThrow('Pooler db/pg-pooler-rw: spec.cluster.name is required');
    expect(() => poolerSpec(pooler({ cluster: { name: 'pg-pooler-rw' } }))).toThrow(
      "can't be the same as the cluster name",
    );
    expect(() => poolerSpec(pooler({ cluster: { name: 'pg' }, type: 'r' }))).toThrow(
      'spec.type: "r" is not rw or ro',
    );
    expect(() => poolerSpec(pooler({ cluster: { name: 'pg' }, instances: -1 }))).toThrow('spec.instances');
    expect(() => poolerSpec(pooler({ cluster: { name: 'pg' }, pgbouncer: { poolMode: 'txn' } }))).toThrow(
      'spec.pgbouncer.poolMode: "txn" is not one of session, transaction, statement',
    );
  });

  it('makes a Deployment of PgBouncer pods and a Service, both named after the Pooler, aimed at the -rw Service', () => {
    const p = pooler({
      cluster: { name: 'pg' },
      instances: 3,
      type: 'rw',
      pgbouncer: { poolMode: 'transaction', parameters: { max_client_conn: 1000, default_pool_size: '20' } },
    });
    const spec = poolerSpec(p);
    const d = poolerDeployment(p, spec, 'pg-pooler-auth');
    expect(d.metadata).toMatchObject({ name: 'pg-pooler-rw', namespace: 'db' });
    expect(d.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'Pooler',
      name: 'pg-pooler-rw',
      controller: true,
    });
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.selector).toEqual({ matchLabels: { 'cnpg.io/poolerName': 'pg-pooler-rw' } });
    const c = d.spec.template.spec.containers[0];
    expect(c.image).toBe(DEFAULT_PGBOUNCER_IMAGE);
    const env = Object.fromEntries(c.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    expect(env).toMatchObject({
      PGBOUNCER_TARGET_HOST: 'pg-rw',
      PGBOUNCER_POOL_MODE: 'transaction',
      PGBOUNCER_AUTH_USER: POOLER_AUTH_USER,
    });
    expect(JSON.parse(env['PGBOUNCER_PARAMETERS'])).toEqual({
      max_client_conn: '1000',
      default_pool_size: '20',
    });
    expect(c.env.find((e: { name: string }) => e.name === 'PGBOUNCER_AUTH_PASSWORD').valueFrom).toEqual({
      secretKeyRef: { name: 'pg-pooler-auth', key: 'password' },
    });
    const svc = poolerService(p, spec);
    expect(svc.metadata.name).toBe('pg-pooler-rw');
    expect(svc.spec.selector).toEqual({ 'cnpg.io/poolerName': 'pg-pooler-rw' });
    expect(svc.spec.ports).toEqual([
      { name: 'pgbouncer', port: 5432, targetPort: 'pgbouncer', protocol: 'TCP' },
    ]);
    expect(poolerSpec(pooler({ cluster: { name: 'pg' }, type: 'ro' })).type).toBe('ro');
    expect(
      poolerDeployment(p, poolerSpec(pooler({ cluster: { name: 'pg' }, type: 'ro' })), 'x').spec.template.spec
        .containers[0].env[1].value,
    ).toBe('pg-ro');
  });

  it("creates CNPG's auth user and a user_search function only that user may run", () => {
    const sql = authSetupSql("pa'ss");
    expect(sql[1]).toBe(`ALTER ROLE ${POOLER_AUTH_USER} WITH LOGIN PASSWORD 'pa''ss'`);
    expect(sql.join('\n')).toMatch(/SECURITY DEFINER AS 'SELECT usename, passwd FROM pg_catalog.pg_shadow/);
    expect(sql).toContain('REVOKE ALL ON FUNCTION public.user_search(text) FROM public');
  });
});

describe('PgBouncer configuration of a pooler pod', () => {
  const base = {
    listenAddr: '127.10.0.5',
    listenPort: 5432,
    targetHost: '127.96.0.4',
    targetPort: 5432,
    poolMode: 'transaction',
    authUser: POOLER_AUTH_USER,
    authFile: '/p/userlist.txt',
    parameters: { max_client_conn: '1000' },
  };

  it('has one * database to the target, auth_query through user_search, and the Pooler parameters last', () => {
    const ini = pgbouncerIni({ ...base, authDbname: 'postgres' });
    expect(ini).toContain('[databases]\n* = host=127.96.0.4 port=5432\n');
    expect(ini).toContain('auth_query = SELECT usename, passwd FROM public.user_search($1)');
    expect(ini).toContain('auth_dbname = postgres');
    expect(ini).toContain('pool_mode = transaction');
    expect(ini).toContain('unix_socket_dir =\n');
    expect(ini.match(/^max_client_conn = .*$/gm)).toEqual(['max_client_conn = 1000']);
    expect(pgbouncerIni(base)).not.toContain('auth_dbname');
  });

  it('refuses parameters the operator sets', () => {
    expect(() => pgbouncerIni({ ...base, parameters: { pool_mode: 'session' } })).toThrow(
      'pgbouncer parameter pool_mode is set by the operator',
    );
  });

  it('quotes the auth file as PgBouncer reads it, and reads its version', () => {
    expect(authFileLine('u', 'p"w')).toBe('"u" "p""w"\n');
    expect(pgbouncerVersion('PgBouncer 1.18.0\nlibevent 2.1.12')).toEqual([1, 18]);
    expect(pgbouncerVersion('nope')).toBeUndefined();
  });

  const bin = findBinary({ name: 'pgbouncer', dirs: ['/usr/sbin'] });
  it.skipIf(!bin)(
    `the real pgbouncer starts from the generated file${bin ? '' : ' (needs pgbouncer: not found)'}`,
    async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'pgb-'));
      // As root, PgBouncer runs as the postgres user (it refuses root), which must read the files.
      chmodSync(dir, 0o755);
      try {
        const port = await freePort();
        const version = pgbouncerVersion(execFileSync(bin!, ['--version'], { encoding: 'utf8' }));
        const ini = path.join(dir, 'pgbouncer.ini');
        writeFileSync(path.join(dir, 'userlist.txt'), authFileLine(POOLER_AUTH_USER, 'x'));
        writeFileSync(
          ini,
          pgbouncerIni({
            ...base,
            listenAddr: '127.0.0.1',
            listenPort: port,
            authFile: path.join(dir, 'userlist.txt'),
            ...(version && version[1] >= 19 ? { authDbname: 'postgres' } : {}),
          }),
        );
        const argv = asUser([bin!, ini], serviceUser(['postgres', 'nobody']));
        const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stderr.on('data', (d) => (out += d));
        try {
          await waitFor(() => /listening on 127\.0\.0\.1/.test(out) || child.exitCode !== null, 10_000);
          expect(out).toMatch(/listening on 127\.0\.0\.1/);
        } finally {
          child.kill('SIGKILL');
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}
