import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describeObject, type KubeObject, ownerReferenceTo } from '../../kube/object.ts';
import { PollingController } from '../controllers/controller.ts';
import { POSTGRES_PORT } from './instance-protocol.ts';

const GROUP = 'postgresql.cnpg.io';
const TICK_MS = 500;
/** CloudNativePG's default PgBouncer image (operator 1.24); `spec.template` may name another. */
export const DEFAULT_PGBOUNCER_IMAGE = 'ghcr.io/cloudnative-pg/pgbouncer:1.23.0';
/** The user PgBouncer looks other users up as (CNPG's name). */
export const POOLER_AUTH_USER = 'cnpg_pooler_pgbouncer';
const POOL_MODES = ['session', 'transaction', 'statement'];

/** The fields of a `Pooler` the twin acts on, with CNPG's defaults; a bad field throws naming it. */
export interface PoolerSpec {
  cluster: string;
  type: 'rw' | 'ro';
  instances: number;
  poolMode: string;
  parameters: Record<string, string>;
  image: string;
}

export function poolerSpec(pooler: KubeObject): PoolerSpec {
  const spec = pooler.spec ?? {};
  const where = `${describeObject(pooler)}: spec`;
  const cluster = spec.cluster?.name;
  if (typeof cluster !== 'string' || !cluster) throw new Error(`${where}.cluster.name is required`);
  if (cluster === pooler.metadata.name)
    throw new Error(`${where}.cluster.name: the pooler name can't be the same as the cluster name`);
  const type = spec.type ?? 'rw';
  if (type !== 'rw' && type !== 'ro') throw new Error(`${where}.type: "${type}" is not rw or ro`);
  const instances = spec.instances ?? 1;
  if (!Number.isInteger(instances) || instances < 0)
    throw new Error(`${where}.instances: ${JSON.stringify(instances)} is not a non-negative integer`);
  const poolMode = spec.pgbouncer?.poolMode ?? 'session';
  if (!POOL_MODES.includes(poolMode))
    throw new Error(`${where}.pgbouncer.poolMode: "${poolMode}" is not one of ${POOL_MODES.join(', ')}`);
  const parameters: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.pgbouncer?.parameters ?? {})) {
    if (!/^[a-z_]+$/.test(k))
      throw new Error(`${where}.pgbouncer.parameters: "${k}" is not a PgBouncer option`);
    parameters[k] = String(v);
  }
  const containers: Array<{ name?: string; image?: string }> = spec.template?.spec?.containers ?? [];
  const image = containers.find((c) => c.name === 'pgbouncer')?.image ?? DEFAULT_PGBOUNCER_IMAGE;
  return { cluster, type, instances, poolMode, parameters, image };
}

/** The Deployment CNPG makes for a Pooler: `instances` PgBouncer pods labelled with the pooler's name. */
export function poolerDeployment(pooler: KubeObject, spec: PoolerSpec, authSecret: string): KubeObject {
  const name = pooler.metadata.name;
  const labels = { 'cnpg.io/poolerName': name, 'cnpg.io/podRole': 'pooler', 'cnpg.io/cluster': spec.cluster };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: pooler.metadata.namespace,
      labels,
      ownerReferences: [{ ...ownerReferenceTo(pooler), controller: true }],
    },
    spec: {
      replicas: spec.instances,
      selector: { matchLabels: { 'cnpg.io/poolerName': name } },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'pgbouncer',
              image: spec.image,
              // Twin simplification: CNPG's pooler pods read the Pooler through the API; here the
              // entrypoint gets it as environment variables.
              env: [
                { name: 'POOLER_NAME', value: name },
                { name: 'PGBOUNCER_TARGET_HOST', value: `${spec.cluster}-${spec.type}` },
                { name: 'PGBOUNCER_TARGET_PORT', value: String(POSTGRES_PORT) },
                { name: 'PGBOUNCER_POOL_MODE', value: spec.poolMode },
                { name: 'PGBOUNCER_PARAMETERS', value: JSON.stringify(spec.parameters) },
                { name: 'PGBOUNCER_AUTH_USER', value: POOLER_AUTH_USER },
                {
                  name: 'PGBOUNCER_AUTH_PASSWORD',
                  valueFrom: { secretKeyRef: { name: authSecret, key: 'password' } },
                },
              ],
              ports: [{ name: 'pgbouncer', containerPort: POSTGRES_PORT, protocol: 'TCP' }],
              readinessProbe: { tcpSocket: { port: POSTGRES_PORT }, periodSeconds: 10 },
              livenessProbe: { tcpSocket: { port: POSTGRES_PORT }, periodSeconds: 10 },
            },
          ],
        },
      },
    },
  };
}

/** The Service named after the Pooler, in front of its PgBouncer pods. */
export function poolerService(pooler: KubeObject, spec: PoolerSpec): KubeObject {
  const name = pooler.metadata.name;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: pooler.metadata.namespace,
      labels: { 'cnpg.io/poolerName': name, 'cnpg.io/cluster': spec.cluster },
      ownerReferences: [{ ...ownerReferenceTo(pooler), controller: true }],
    },
    spec: {
      type: 'ClusterIP',
      selector: { 'cnpg.io/poolerName': name },
      ports: [{ name: 'pgbouncer', port: POSTGRES_PORT, targetPort: 'pgbouncer', protocol: 'TCP' }],
    },
  };
}

/**
 * What CNPG sets up on the primary for its poolers (connection_pooling.md, "Authentication"): the
 * `cnpg_pooler_pgbouncer` user and the SECURITY DEFINER `user_search` function PgBouncer's auth_query
 * calls, executable by that user only. Run in each database (PgBouncer before 1.19 has no
 * auth_dbname and runs the query in the database the client asked for).
 */
export function authSetupSql(password: string): string[] {
  const pw = `'${password.replaceAll("'", "''")}'`;
  return [
    `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${POOLER_AUTH_USER}') THEN CREATE ROLE ${POOLER_AUTH_USER} LOGIN; END IF; END $$`,
    `ALTER ROLE ${POOLER_AUTH_USER} WITH LOGIN PASSWORD ${pw}`,
    `CREATE OR REPLACE FUNCTION public.user_search(uname TEXT) RETURNS TABLE (usename name, passwd text) LANGUAGE sql SECURITY DEFINER AS 'SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename=$1;'`,
    'REVOKE ALL ON FUNCTION public.user_search(text) FROM public',
    `GRANT EXECUTE ON FUNCTION public.user_search(text) TO ${POOLER_AUTH_USER}`,
  ];
}

/**
 * A twin controller for CloudNativePG `Pooler` objects: a Deployment of PgBouncer pods and a Service,
 * both named after the Pooler, pointed at the Cluster's `-rw` or `-ro` Service, with the auth user
 * and lookup function CNPG creates on the primary.
 *
 * Twin simplification: `cnpg_pooler_pgbouncer` authenticates to PostgreSQL with a password kept in
 * the Secret `<cluster>-pooler-auth` (CNPG issues it a TLS client certificate).
 */
export class CnpgPoolerController extends PollingController {
  readonly name = 'cnpg-pooler';
  /** Per cluster uid: the primary the auth setup was last applied on. */
  private readonly authDone = new Map<string, string>();
  private readonly reported = new Map<string, string>();

  constructor() {
    super({ apiVersion: `${GROUP}/v1`, kind: 'Pooler' }, TICK_MS);
  }

  /** A failure is logged and made an event once, not on every tick while it lasts. */
  protected override failed(pooler: KubeObject, err: unknown, key: string): void {
    const message = (err as Error).message;
    if (this.reported.get(key) === message) return;
    this.reported.set(key, message);
    this.ctx.log(`cnpg pooler: ${message}`);
    this.ctx.events.record(pooler, 'Warning', 'ReconcileError', message, 'cloudnative-pg');
  }

  protected override succeeded(_pooler: KubeObject, key: string): void {
    this.reported.delete(key);
  }

  protected async reconcile(pooler: KubeObject): Promise<void> {
    const ns = pooler.metadata.namespace!;
    const spec = poolerSpec(pooler);
    const cluster = this.ctx.store.get({
      apiVersion: `${GROUP}/v1`,
      kind: 'Cluster',
      namespace: ns,
      name: spec.cluster,
    });
    if (!cluster) throw new Error(`${describeObject(pooler)}: Cluster ${ns}/${spec.cluster} not found`);
    const authSecret = `${spec.cluster}-pooler-auth`;
    this.ensureAuthSecret(cluster, authSecret);
    await this.ensureAuthOnPrimary(cluster, authSecret);
    const deployment = poolerDeployment(pooler, spec, authSecret);
    const existing = this.ctx.store.get({ kind: 'Deployment', namespace: ns, name: pooler.metadata.name });
    if (!existing) this.ctx.store.create(deployment);
    else if (existing.spec?.replicas !== spec.instances)
      this.ctx.store.patch({ kind: 'Deployment', namespace: ns, name: pooler.metadata.name }, (d) => {
        d.spec.replicas = spec.instances;
      });
    if (!this.ctx.store.get({ kind: 'Service', namespace: ns, name: pooler.metadata.name }))
      this.ctx.store.create(poolerService(pooler, spec));
    const d = this.ctx.store.get({ kind: 'Deployment', namespace: ns, name: pooler.metadata.name });
    const instances = d?.status?.availableReplicas ?? 0;
    if (pooler.status?.instances !== instances)
      this.ctx.store.patch(
        { apiVersion: pooler.apiVersion, kind: 'Pooler', namespace: ns, name: pooler.metadata.name },
        (p) => {
          p.status = {
            ...p.status,
            instances,
            secrets: { serverCA: {}, clientCA: {}, pgBouncerSecrets: { authQuery: { name: authSecret } } },
          };
        },
      );
  }

  private ensureAuthSecret(cluster: KubeObject, name: string): void {
    const ns = cluster.metadata.namespace!;
    if (this.ctx.store.get({ kind: 'Secret', namespace: ns, name })) return;
    const password = randomBytes(12).toString('hex');
    this.ctx.store.create({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/basic-auth',
      metadata: {
        name,
        namespace: ns,
        labels: { 'cnpg.io/cluster': cluster.metadata.name },
        ownerReferences: [{ ...ownerReferenceTo(cluster), controller: true }],
      },
      data: {
        username: Buffer.from(POOLER_AUTH_USER).toString('base64'),
        password: Buffer.from(password).toString('base64'),
      },
    });
  }

  /** Creates the auth user and lookup function on the current primary (once per primary). */
  private async ensureAuthOnPrimary(cluster: KubeObject, authSecret: string): Promise<void> {
    const ns = cluster.metadata.namespace!;
    const primary: string | undefined = cluster.status?.currentPrimary;
    const uid = cluster.metadata.uid ?? `${ns}/${cluster.metadata.name}`;
    if (!primary || this.authDone.get(uid) === primary) return;
    const ip = this.ctx.store.get({ kind: 'Pod', namespace: ns, name: primary })?.status?.podIP;
    if (!ip) return;
    const password = this.secretValue(ns, authSecret, 'password');
    const superuser = this.secretValue(ns, `${cluster.metadata.name}-superuser`, 'password');
    if (!password || !superuser) return;
    const databases = [...new Set(['postgres', cluster.spec?.bootstrap?.initdb?.database ?? 'app'])];
    for (const database of databases) {
      const c = new pg.Client({
        host: ip,
        port: POSTGRES_PORT,
        user: 'postgres',
        password: superuser,
        database,
        connectionTimeoutMillis: 1000,
        query_timeout: 5000,
      });
      c.on('error', () => {});
      try {
        await c.connect();
        if ((await c.query('select pg_is_in_recovery() as r')).rows[0].r) return;
        for (const sql of authSetupSql(password)) await c.query(sql);
      } catch (err) {
        // Not up yet, or failing over: tried again on the next tick.
        if (/does not exist/.test((err as Error).message)) throw err;
        return;
      } finally {
        await c.end().catch(() => {});
      }
    }
    this.authDone.set(uid, primary);
    this.ctx.log(`cnpg pooler: ${POOLER_AUTH_USER} and public.user_search ready on ${ns}/${primary}`);
  }

  private secretValue(ns: string, name: string, key: string): string | undefined {
    const v = (
      this.ctx.store.get({ kind: 'Secret', namespace: ns, name })?.['data'] as Record<string, string>
    )?.[key];
    return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
  }
}
