/**
 * The PgBouncer configuration of a CloudNativePG pooler pod, as CNPG writes it (connection_pooling.md):
 * one `*` fallback database pointing at the Cluster's `-rw`/`-ro` Service (so every connection
 * parameter from the client goes through to PostgreSQL), authentication through `auth_user` +
 * `auth_query` against the `user_search` function, the Pooler's pool mode and parameters on top.
 */
export interface PgBouncerSettings {
  /** Address PgBouncer listens on (the pod's) and the port (5432). */
  listenAddr: string;
  listenPort: number;
  /** The target Service's address and port. */
  targetHost: string;
  targetPort: number;
  poolMode: string;
  authUser: string;
  /** File with the auth user's own password (`"user" "password"`). */
  authFile: string;
  /** PgBouncer ≥ 1.19 runs auth_query in this database; older ones in the client's database. */
  authDbname?: string;
  /** spec.pgbouncer.parameters: written last, so they override the defaults. */
  parameters: Record<string, string>;
}

/** CNPG's defaults that a Pooler's parameters may override. */
const DEFAULTS: Record<string, string> = {
  // node-postgres and JDBC send these; PgBouncer refuses unknown startup parameters otherwise.
  ignore_startup_parameters: 'extra_float_digits,options',
  server_check_delay: '30',
  max_client_conn: '100',
  default_pool_size: '20',
};

/** CNPG manages these itself; a Pooler may not set them (the operator's webhook rejects them). */
const RESERVED = new Set([
  'listen_addr',
  'listen_port',
  'auth_type',
  'auth_user',
  'auth_query',
  'auth_file',
  'auth_dbname',
  'pool_mode',
  'unix_socket_dir',
  'logfile',
  'pidfile',
]);

export function pgbouncerIni(s: PgBouncerSettings): string {
  for (const k of Object.keys(s.parameters))
    if (RESERVED.has(k))
      throw new Error(`pgbouncer parameter ${k} is set by the operator and can't be changed`);
  const options: Record<string, string> = {
    listen_addr: s.listenAddr,
    listen_port: String(s.listenPort),
    unix_socket_dir: '',
    auth_type: 'scram-sha-256',
    auth_file: s.authFile,
    auth_user: s.authUser,
    auth_query: 'SELECT usename, passwd FROM public.user_search($1)',
    ...(s.authDbname ? { auth_dbname: s.authDbname } : {}),
    pool_mode: s.poolMode,
    ...DEFAULTS,
    ...s.parameters,
  };
  return [
    '[databases]',
    `* = host=${s.targetHost} port=${s.targetPort}`,
    '',
    '[pgbouncer]',
    ...Object.entries(options).map(([k, v]) => `${k} = ${v}`.trimEnd()),
    '',
  ].join('\n');
}

/** The auth file's line for one user (PgBouncer's format: both fields double-quoted, `"` doubled). */
export function authFileLine(user: string, password: string): string {
  const q = (v: string) => `"${v.replaceAll('"', '""')}"`;
  return `${q(user)} ${q(password)}\n`;
}

/** "PgBouncer 1.18.0" → [1, 18]; undefined when the text has no version. */
export function pgbouncerVersion(text: string): [number, number] | undefined {
  const m = /PgBouncer (\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
