/**
 * The CloudNativePG instance manager as the twin runs it: the main process of each instance pod
 * (image ghcr.io/cloudnative-pg/postgresql). It runs postgres from the machine's binaries (as the
 * `postgres` user when root), serves the probes and its status on the pod's port 8000, and converges
 * to the role the twin's Cluster controller asks for: bootstrap a primary (initdb), clone a standby
 * (pg_basebackup), rejoin an old primary as a standby (pg_rewind), follow a new primary, promote,
 * and apply synchronous_standby_names.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import pg from 'pg';
import { isTwinError } from '../../core/errors.ts';
import { waitUntil } from '../../core/wait.ts';
import { podIp, podPath } from '../data/container-paths.ts';
import { findPostgres } from '../data/postgres/postgres-install.ts';
import { initCluster, isInitialised, run, serverArgv } from '../data/postgres/postgres-server.ts';
import { asUser, chownTree, serviceUser } from '../data/run-as.ts';
import type { Desired } from './instance-manager-types.ts';
import {
  INSTANCE_MANAGER_PORT,
  type InstanceStatus,
  lsnToBytes,
  POSTGRES_PORT,
} from './instance-protocol.ts';

const log = (m: string) => process.stderr.write(`${new Date().toISOString()} instance-manager: ${m}\n`);
const pod = process.env['HOSTNAME'] ?? 'instance';
const ip = podIp();
const dataDir = podPath('/var/lib/postgresql/data/pgdata');
/**
 * The superuser password for replication connections, as CloudNativePG keeps it: in a passfile that
 * primary_conninfo names (`passfile=…`), never in primary_conninfo itself, which ALTER SYSTEM writes
 * to postgresql.auto.conf and PostgreSQL logs when the configuration is reloaded.
 */
const passfile = podPath('/controller/external/pgpass');
const user = serviceUser();

class InstanceManager {
  private readonly install = findPostgres(['postgres', 'initdb', 'pg_basebackup', 'pg_rewind']);
  private child: ChildProcess | undefined;
  private desired: Desired | undefined;
  private phase = 'idle';
  private error: string | undefined;
  private busy = false;
  private client: pg.Client | undefined;
  private following: string | undefined;
  private forceRewind = false;
  private notStreamingSince: number | undefined;

  constructor() {
    // Re-check the desired state every second (a standby that stopped streaming, a server that died).
    setInterval(() => void this.converge(), 1000).unref();
  }
  private syncNames: string | undefined;

  want(d: Desired): void {
    this.desired = d;
    void this.converge();
  }

  private async converge(): Promise<void> {
    if (this.busy || !this.desired) return;
    this.busy = true;
    try {
      for (let guard = 0; guard < 5; guard++) {
        const d: Desired = this.desired;
        const changed = await this.step(d);
        if (!changed && d === this.desired) break;
      }
      this.error = undefined;
    } catch (err) {
      this.error = (err as Error).message;
      log(`error: ${this.error}`);
      await this.stopServer();
      this.phase = 'failed';
    } finally {
      this.busy = false;
    }
  }

  /** One step towards `d`; true when something changed. */
  private async step(d: Desired): Promise<boolean> {
    const running = this.child !== undefined && this.child.exitCode === null;
    if (!running) {
      if (!isInitialised(dataDir)) {
        if (d.role === 'primary') await this.bootstrap(d);
        else await this.clone(d);
        return true;
      }
      const standby = existsSync(path.join(dataDir, 'standby.signal'));
      if (d.role === 'replica' && !d.primaryHost) return false;
      if (d.role === 'replica' && (!standby || this.forceRewind)) await this.rewind(d);
      this.forceRewind = false;
      if (d.role === 'replica') this.writeStandbyConfig(d.primaryHost!, d.superuserPassword);
      this.phase = 'starting';
      try {
        await this.startServer(d);
      } catch (err) {
        if (d.role !== 'replica') throw err;
        // CNPG re-clones an instance that cannot rejoin from its volume.
        log(`${(err as Error).message}; cloning from ${d.primaryHost} instead`);
        rmSync(dataDir, { recursive: true, force: true });
        await this.clone(d);
      }
      this.phase = 'running';
      return true;
    }
    const inRecovery = await this.query<{ r: boolean }>('select pg_is_in_recovery() as r').then(
      (r) => r[0]!.r,
    );
    if (d.role === 'primary' && inRecovery) {
      this.phase = 'promoting';
      log('promoting to primary');
      await this.query('select pg_promote(true, 60)');
      // pg_rewind of the old primary reads this server's timeline from pg_control: checkpoint now.
      await this.query('checkpoint');
      rmSync(path.join(dataDir, 'standby.signal'), { force: true });
      this.following = undefined;
      this.phase = 'running';
      return true;
    }
    if (d.role === 'replica' && !inRecovery) {
      // A running primary told to be a replica (a switchover, or it came back after a failover).
      log(`demoting: shutting down to rejoin ${d.primaryHost} as a standby`);
      await this.stopServer();
      return true;
    }
    if (d.role === 'replica' && !d.primaryHost && this.following !== '') {
      // Failover, first phase: the operator stops every WAL receiver before it elects a new primary.
      log('stopping the WAL receiver (failover in progress)');
      await this.query(`alter system set primary_conninfo = ''`);
      await this.query('select pg_reload_conf()');
      this.following = '';
      return true;
    }
    if (d.role === 'replica' && d.primaryHost && this.following === d.primaryHost) {
      const [w] = await this.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_wal_receiver where status = 'streaming'",
      );
      if (w!.n > 0) this.notStreamingSince = undefined;
      else {
        this.notStreamingSince ??= Date.now();
        if (Date.now() - this.notStreamingSince > 8000) {
          // A standby ahead of the new primary's fork point cannot follow it: rewind it.
          log(`not streaming from ${d.primaryHost} for 8 s; rewinding onto its timeline`);
          this.notStreamingSince = undefined;
          this.forceRewind = true;
          await this.stopServer();
          return true;
        }
      }
      return false;
    }
    if (d.role === 'replica' && d.primaryHost && this.following !== d.primaryHost) {
      log(`following the new primary ${d.primaryHost}`);
      await this.query(
        `alter system set primary_conninfo = ${literal(conninfo(d.primaryHost, d.superuserPassword))}`,
      );
      await this.query('select pg_reload_conf()');
      this.following = d.primaryHost;
      return true;
    }
    if (
      d.role === 'primary' &&
      d.synchronousStandbyNames !== undefined &&
      this.syncNames !== d.synchronousStandbyNames
    ) {
      log(`synchronous_standby_names = '${d.synchronousStandbyNames}'`);
      await this.query(`alter system set synchronous_standby_names = ${literal(d.synchronousStandbyNames)}`);
      await this.query('select pg_reload_conf()');
      this.syncNames = d.synchronousStandbyNames;
      return true;
    }
    return false;
  }

  private async bootstrap(d: Desired): Promise<void> {
    this.phase = 'bootstrapping';
    log(`initdb ${dataDir}`);
    await initCluster({
      install: this.install,
      dataDir,
      user,
      superuser: 'postgres',
      password: d.superuserPassword,
      hostAuthMethod: 'scram-sha-256',
      replication: true,
      log,
    });
    await this.startServer(d);
    const b = d.bootstrap ?? { database: 'app', owner: 'app', ownerPassword: d.superuserPassword };
    await this.query(`create role ${ident(b.owner)} login password ${literal(b.ownerPassword)}`);
    await this.query(`create database ${ident(b.database)} owner ${ident(b.owner)}`);
    this.phase = 'running';
  }

  private async clone(d: Desired): Promise<void> {
    this.phase = 'cloning';
    log(`pg_basebackup from ${d.primaryHost}`);
    mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o755 });
    chownTree(path.dirname(dataDir), user);
    rmSync(dataDir, { recursive: true, force: true });
    await run(
      asUser(
        [
          this.install.bin('pg_basebackup'),
          `--dbname=${conninfo(d.primaryHost!, d.superuserPassword)}`,
          '-D',
          dataDir,
          '-X',
          'stream',
          '--checkpoint=fast',
        ],
        user,
      ),
      { log },
    );
    this.writeStandbyConfig(d.primaryHost!, d.superuserPassword);
    this.phase = 'starting';
    await this.startServer(d);
    this.phase = 'running';
  }

  /** The old primary rejoins: pg_rewind to the new primary's timeline (it runs crash recovery first when needed). */
  private async rewind(d: Desired): Promise<void> {
    this.phase = 'rewinding';
    log(`pg_rewind from ${d.primaryHost}`);
    try {
      await run(
        asUser(
          [
            this.install.bin('pg_rewind'),
            '-D',
            dataDir,
            `--source-server=${conninfo(d.primaryHost!, d.superuserPassword)} dbname=postgres`,
            '--progress',
          ],
          user,
        ),
        { log },
      );
    } catch (err) {
      // CloudNativePG re-clones an instance that cannot be rewound.
      log(`pg_rewind failed (${(err as Error).message}); cloning again`);
      rmSync(dataDir, { recursive: true, force: true });
      await this.clone(d);
      await this.stopServer();
    }
  }

  private writeStandbyConfig(primaryHost: string, password: string): void {
    writeFileSync(path.join(dataDir, 'standby.signal'), '');
    appendFileSync(
      path.join(dataDir, 'postgresql.auto.conf'),
      `primary_conninfo = ${literal(conninfo(primaryHost, password))}\nrecovery_target_timeline = 'latest'\n`,
    );
    chownTree(dataDir, user);
    this.following = primaryHost;
  }

  private async startServer(d: Desired): Promise<void> {
    chownTree(dataDir, user);
    const argv = asUser(
      serverArgv(this.install, dataDir, {
        listen: ip,
        port: POSTGRES_PORT,
        settings: {
          wal_level: 'replica',
          hot_standby: 'on',
          wal_log_hints: 'on',
          max_wal_senders: '10',
          max_replication_slots: '10',
          wal_keep_size: '512MB',
          wal_receiver_status_interval: '1s',
          cluster_name: pod,
          ...d.parameters,
        },
      }),
      user,
    );
    log(`starting postgres as ${d.role}`);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
    this.child = child;
    this.syncNames = undefined;
    child.once('exit', (code, signal) => {
      log(`postgres exited (${code ?? signal})`);
      if (this.child === child) this.child = undefined;
      this.client?.end().catch(() => {});
      this.client = undefined;
    });
    await waitUntil(async () => (await this.query('select 1', d.superuserPassword)).length > 0, {
      what: 'postgres to accept connections',
      timeout: 120_000,
      interval: 100,
      retryIf: () => child.exitCode === null, // a server that exited will not come up
    });
  }

  async stopServer(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.phase = 'stopping';
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await new Promise((r) => child.once('exit', r));
    clearTimeout(timer);
  }

  private async query<T = Record<string, unknown>>(sql: string, password?: string): Promise<T[]> {
    if (!this.client) {
      const pw = password ?? this.desired?.superuserPassword;
      const c = new pg.Client({
        host: ip,
        port: POSTGRES_PORT,
        user: 'postgres',
        password: pw,
        database: 'postgres',
        connectionTimeoutMillis: 1000,
      });
      c.on('error', () => {
        if (this.client === c) this.client = undefined;
      });
      await c.connect();
      this.client = c;
    }
    try {
      return (await this.client.query(sql)).rows as T[];
    } catch (err) {
      if (/terminat|Connection|ECONN/i.test((err as Error).message)) {
        this.client?.end().catch(() => {});
        this.client = undefined;
      }
      throw err;
    }
  }

  async status(): Promise<InstanceStatus> {
    const s: InstanceStatus = { pod, initialised: isInitialised(dataDir), running: false, phase: this.phase };
    if (this.error) s.error = this.error;
    if (!this.child || this.child.exitCode !== null || !this.desired) return s;
    try {
      const [r] = await this.query<{
        r: boolean;
        cur: string | null;
        rcv: string | null;
        rep: string | null;
        wr: string | null;
        tl: number;
      }>(
        `select pg_is_in_recovery() as r,
                case when pg_is_in_recovery() then null else pg_current_wal_lsn()::text end as cur,
                pg_last_wal_receive_lsn()::text as rcv, pg_last_wal_replay_lsn()::text as rep,
                (select status from pg_stat_wal_receiver limit 1) as wr,
                (select timeline_id from pg_control_checkpoint()) as tl`,
      );
      s.running = true;
      s.role = r!.r ? 'replica' : 'primary';
      s.timeline = r!.tl;
      const lsn = r!.r ? (lsnToBytes(r!.rcv) >= lsnToBytes(r!.rep) ? r!.rcv : r!.rep) : r!.cur;
      if (lsn) s.lsn = lsn;
      s.lsnBytes = lsnToBytes(lsn);
      if (r!.r) s.streaming = r!.wr === 'streaming';
      else
        s.standbys = (
          await this.query<{ name: string; state: string; sync: string }>(
            'select application_name as name, state, sync_state as sync from pg_stat_replication',
          )
        ).map((x) => ({ name: x.name, state: x.state, syncState: x.sync }));
    } catch (err) {
      s.error = (err as Error).message;
    }
    return s;
  }
}

/** A libpq connection string to `host` as the superuser; the password goes to the passfile (0600, the server's user). */
function conninfo(host: string, password: string): string {
  mkdirSync(path.dirname(passfile), { recursive: true, mode: 0o711 });
  writeFileSync(passfile, `*:${POSTGRES_PORT}:*:postgres:${pgpassEscape(password)}\n`, { mode: 0o600 });
  chownTree(passfile, user);
  return `host=${host} port=${POSTGRES_PORT} user=postgres passfile=${passfile} application_name=${pod}`;
}

/** The .pgpass format escapes `\` and `:` with a backslash. */
function pgpassEscape(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll(':', '\\:');
}
function literal(v: string): string {
  return `'${v.replaceAll("'", "''")}'`;
}
function ident(v: string): string {
  return `"${v.replaceAll('"', '""')}"`;
}

function main(): void {
  let manager: InstanceManager;
  try {
    manager = new InstanceManager();
  } catch (err) {
    log(isTwinError(err) ? err.message : String(err));
    process.exit(127);
  }
  const server = http.createServer((req, res) => {
    const reply = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/healthz') return reply(200, { ok: true });
    if (req.method === 'GET' && (req.url === '/readyz' || req.url === '/pg/status')) {
      void manager.status().then((s) => reply(req.url === '/readyz' && !s.running ? 503 : 200, s));
      return;
    }
    if (req.method === 'POST' && req.url === '/pg/desired') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        try {
          manager.want(JSON.parse(body) as Desired);
          reply(202, { accepted: true });
        } catch (err) {
          reply(400, { error: (err as Error).message });
        }
      });
      return;
    }
    reply(404, { error: `no route ${req.method} ${req.url}` });
  });
  server.listen(INSTANCE_MANAGER_PORT, ip, () =>
    log(`listening on ${ip}:${INSTANCE_MANAGER_PORT}, PGDATA ${dataDir}`),
  );
  const shutdown = () => {
    server.close();
    void manager.stopServer().then(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // The password file lives as long as the instance, as a Secret volume lives with its pod.
  process.on('exit', () => rmSync(passfile, { force: true }));
}

main();
