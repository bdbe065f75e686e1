import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { findPostgres } from '../../../twin/data/postgres/postgres-install.ts';

const has = (() => {
  try {
    findPostgres(['postgres', 'initdb']);
    return true;
  } catch {
    return false;
  }
})();

const ENTRY = path.resolve('twin/data/postgres/postgres-entrypoint.ts');

describe.skipIf(!has)('postgres image entrypoint (needs PostgreSQL server binaries: not found)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'twin-pg-'));
  chmodSync(dir, 0o755);
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.pid) process.kill(-c.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  function start(ip: string, env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '-c', 'max_connections=30'], {
      env: { ...process.env, TWIN_POD_DIR: path.join(dir, ip), TWIN_POD_IP: ip, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    children.push(child);
    return { child, output: () => output };
  }

  it('initialises PGDATA from POSTGRES_* like the official image and serves on the pod IP', async () => {
    const ip = '127.10.250.11';
    const { child, output } = start(ip, {
      POSTGRES_USER: 'app',
      POSTGRES_PASSWORD: 's3cret',
      POSTGRES_DB: 'orders',
    });
    const client = await connectWithin(
      { host: ip, port: 5432, user: 'app', password: 's3cret', database: 'orders' },
      60_000,
      output,
      child,
    );
    const r = await client.query("select current_database() as db, current_setting('max_connections') as mc");
    expect(r.rows[0]).toEqual({ db: 'orders', mc: '30' });
    await client.end();
    const bad = new pg.Client({ host: ip, port: 5432, user: 'app', password: 'wrong', database: 'orders' });
    await expect(bad.connect()).rejects.toThrow(/password authentication failed/);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
  });

  it('refuses an uninitialised database without POSTGRES_PASSWORD, as the image does', async () => {
    const { child, output } = start('127.10.250.12', {});
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(1);
    expect(output()).toMatch(/superuser password is not specified/);
  });
});

async function connectWithin(
  config: pg.ClientConfig,
  timeoutMs: number,
  output: () => string,
  child: ChildProcess,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client(config);
    try {
      await client.connect();
      return client;
    } catch (err) {
      await client.end().catch(() => {});
      if (
        /password|does not exist/.test((err as Error).message) ||
        child.exitCode !== null ||
        Date.now() > deadline
      )
        throw new Error(`${(err as Error).message}\n${output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
