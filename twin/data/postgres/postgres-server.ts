import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { asUser, chownTree, type ServiceUser } from '../run-as.ts';
import type { PostgresInstall } from './postgres-install.ts';

export interface InitOptions {
  install: PostgresInstall;
  dataDir: string;
  user: ServiceUser | undefined;
  superuser: string;
  password?: string;
  /** pg_hba method for TCP connections (the official image: scram-sha-256, or trust). */
  hostAuthMethod: string;
  /** Extra initdb arguments (POSTGRES_INITDB_ARGS). */
  initdbArgs?: string[];
  /** Also let replication connections in from any address (streaming standbys). */
  replication?: boolean;
  log?: (line: string) => void;
}

/** Runs a command to completion, its output going to `log`; rejects with the output on failure. */
export function run(argv: string[], options: { input?: string; log?: (line: string) => void } = {}) {
  return new Promise<string>((resolve, reject) => {
    const [file, ...args] = argv;
    const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      for (const line of out.split('\n').filter(Boolean)) options.log?.(line);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `${path.basename(file!)} exited with ${code}: ${out.trim().split('\n').slice(-5).join(' | ')}`,
          ),
        );
    });
    // A command that exits before reading its input (`test -w`) fails the write with EPIPE; its exit
    // code and output already say what happened.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input);
  });
}

export function isInitialised(dataDir: string): boolean {
  return existsSync(path.join(dataDir, 'PG_VERSION'));
}

/** initdb as the official image runs it, then the image's pg_hba line for TCP clients. */
export async function initCluster(o: InitOptions): Promise<void> {
  // The parents stay traversable by the server's user; the data directory itself is 0700 as postgres wants.
  mkdirSync(path.dirname(o.dataDir), { recursive: true, mode: 0o755 });
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  chownTree(o.dataDir, o.user);
  if (o.user) {
    await run(asUser(['test', '-w', o.dataDir], o.user)).catch(() => {
      throw new Error(
        `the ${o.user!.name} user that PostgreSQL runs as cannot reach ${o.dataDir}: every parent directory must be traversable by others (chmod o+x), e.g. a work directory under /tmp made by mkdtemp (0700)`,
      );
    });
  }
  const pwfile = path.join(path.dirname(o.dataDir), `.pwfile-${process.pid}`);
  // In the image, 127.0.0.1 is the container itself and trusted; here every pod shares loopback, so
  // TCP from 127.0.0.1 is another pod and needs the same method as any other address.
  const args = [
    o.install.bin('initdb'),
    '-D',
    o.dataDir,
    `--username=${o.superuser}`,
    '--auth-local=trust',
    `--auth-host=${o.hostAuthMethod}`,
  ];
  if (o.password !== undefined) {
    writeFileSync(pwfile, `${o.password}\n`, { mode: 0o600 });
    chownTree(pwfile, o.user);
    args.push(`--pwfile=${pwfile}`);
  }
  args.push(...(o.initdbArgs ?? []));
  try {
    await run(asUser(args, o.user), { ...(o.log ? { log: o.log } : {}) });
  } finally {
    rmSync(pwfile, { force: true });
  }
  const lines = ['', '# twin: as the official image, every address may connect with the password'];
  lines.push(`host all all all ${o.hostAuthMethod}`);
  if (o.replication) lines.push(`host replication all all ${o.hostAuthMethod}`);
  appendFileSync(path.join(o.dataDir, 'pg_hba.conf'), `${lines.join('\n')}\n`);
}

/** Runs SQL in single-user mode (before the server listens), as the image's init scripts do. */
export async function singleUserSql(
  install: PostgresInstall,
  dataDir: string,
  user: ServiceUser | undefined,
  sql: string,
  database = 'postgres',
): Promise<void> {
  await run(asUser([install.bin('postgres'), '--single', '-j', '-D', dataDir, database], user), {
    input: `${sql}\n`,
  });
}

export interface ServerOptions {
  listen: string;
  port: number;
  /** -c name=value settings. */
  settings?: Record<string, string>;
  extraArgs?: string[];
}

/**
 * The postgres argv: listening on the pod's address only (every pod shares the host's port space) and
 * without Unix sockets (their path must stay under 107 bytes; run directories can be deeper).
 */
export function serverArgv(install: PostgresInstall, dataDir: string, o: ServerOptions): string[] {
  const settings: Record<string, string> = {
    listen_addresses: o.listen,
    port: String(o.port),
    unix_socket_directories: '',
    ...o.settings,
  };
  return [
    install.bin('postgres'),
    '-D',
    dataDir,
    ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ...(o.extraArgs ?? []),
  ];
}
