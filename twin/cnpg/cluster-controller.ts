import { randomBytes } from 'node:crypto';
import { type KubeObject, ownerReferenceTo } from '../../kube/object.ts';
import { PollingController } from '../controllers/controller.ts';
import {
  type ClusterSpec,
  chooseFailoverTarget,
  clusterSpec,
  instanceNames,
  synchronousStandbyNames,
} from './cluster-spec.ts';
import type { Desired } from './instance-manager-types.ts';
import { INSTANCE_MANAGER_PORT, type InstanceStatus, POSTGRES_PORT } from './instance-protocol.ts';

const GROUP = 'postgresql.cnpg.io';
const TICK_MS = 200;

interface ClusterState {
  /** Control-plane time since which the current primary has been unhealthy. */
  unhealthySince?: number;
  /** Real time at which the failover's first phase (targetPrimary pending) began. */
  pendingSince?: number;
  lastSent: Map<string, string>;
}

/**
 * A twin controller for CloudNativePG `Cluster` objects: it makes the instance pods
 * (`<cluster>-<n>`, run live by the instance manager) with their PGDATA claims (`<cluster>-<n>`), the `-rw`/`-ro`/`-r` Services and the `-app`
 * and `-superuser` Secrets, bootstraps the first instance as primary and the others as streaming
 * standbys, labels pods by role so the Services follow the primary, fails over to the most aligned
 * standby after `failoverDelay`, and has the old primary rejoin as a standby (pg_rewind).
 *
 * Twin simplification: the operator talks to the instance managers over HTTP on port 8000 instead of
 * through the Kubernetes API; replication authenticates as the superuser with a password (CNPG uses
 * the streaming_replica user with TLS certificates); no backups, switchover, WAL volume or PVC resizing.
 */
export class CnpgClusterController extends PollingController {
  readonly name = 'cnpg-cluster';
  private readonly state = new Map<string, ClusterState>();

  constructor() {
    super({ apiVersion: `${GROUP}/v1`, kind: 'Cluster' }, TICK_MS);
  }

  protected async reconcile(cluster: KubeObject, key: string): Promise<void> {
    let st = this.state.get(key);
    if (!st) {
      st = { lastSent: new Map() };
      this.state.set(key, st);
    }
    const ns = cluster.metadata.namespace!;
    const name = cluster.metadata.name;
    const spec = clusterSpec(cluster);
    this.ensureSecrets(cluster, spec);
    this.ensureServices(cluster);
    const names = instanceNames(name, spec.instances);
    for (const n of names) {
      if (!this.ctx.store.get({ kind: 'PersistentVolumeClaim', namespace: ns, name: n }))
        this.createClaim(cluster, spec, n);
      if (!this.ctx.store.get({ kind: 'Pod', namespace: ns, name: n })) this.createPod(cluster, spec, n);
    }
    const pods = names.map((n) => this.ctx.store.get({ kind: 'Pod', namespace: ns, name: n }));
    const statuses = new Map<string, InstanceStatus>();
    await Promise.all(
      pods.map(async (p) => {
        if (!p?.status?.podIP) return;
        const s = await instanceStatus(p.status.podIP);
        if (s) statuses.set(p.metadata.name, s);
      }),
    );
    const status = { ...(cluster.status ?? {}) };
    const superuserPassword = this.secretValue(ns, `${name}-superuser`, 'password')!;
    const ipOf = (pod: string) =>
      pods.find((p) => p?.metadata.name === pod)?.status?.podIP as string | undefined;
    const send = async (pod: string, desired: Desired) => {
      const ip = ipOf(pod);
      const s = statuses.get(pod);
      if (!ip || !s) return;
      const body = JSON.stringify(desired);
      const key = `${pods.find((p) => p?.metadata.name === pod)?.metadata.uid}`;
      if (st.lastSent.get(key) === body && s.phase !== 'idle' && s.phase !== 'failed') return;
      st.lastSent.set(key, body);
      await fetch(`http://${ip}:${INSTANCE_MANAGER_PORT}/pg/desired`, {
        method: 'POST',
        body,
        signal: AbortSignal.timeout(1000),
      }).catch(() => st.lastSent.delete(key));
    };
    const base = { superuserPassword, parameters: spec.parameters };

    if (!status.currentPrimary) {
      const first = names[0]!;
      status.phase = 'Setting up primary';
      status.targetPrimary = first;
      const owner = this.ownerCredentials(ns, name, spec);
      await send(first, {
        ...base,
        role: 'primary',
        bootstrap: { database: spec.database, owner: owner.username, ownerPassword: owner.password },
      });
      const s = statuses.get(first);
      if (s?.running && s.role === 'primary' && s.phase === 'running') {
        status.currentPrimary = first;
        status.currentPrimaryTimestamp = new Date(this.ctx.clock.now()).toISOString();
        this.ctx.events.record(
          cluster,
          'Normal',
          'CreatingInstance',
          `Primary instance ${first} is ready`,
          'cloudnative-pg',
        );
      }
      this.writeStatus(cluster, status, names, statuses);
      return;
    }

    let target: string = status.targetPrimary ?? status.currentPrimary;
    if (target === status.currentPrimary) {
      const ps = statuses.get(target);
      if (!(ps?.running && ps.role === 'primary')) {
        st.unhealthySince ??= this.ctx.clock.now();
        if (this.ctx.clock.now() - st.unhealthySince >= spec.failoverDelay * 1000) {
          // CNPG's two-phase failover: mark the target primary pending, stop every WAL receiver,
          // then elect the most aligned standby, so that nothing the old primary still commits
          // can be acknowledged by a standby after the election.
          target = status.targetPrimary = 'pending';
          status.phase = 'Failing over';
          status.phaseReason = `Current primary ${status.currentPrimary} is not healthy`;
          st.pendingSince = performance.now();
          st.unhealthySince = undefined;
          this.ctx.events.record(
            cluster,
            'Warning',
            'FailingOver',
            `Current primary ${status.currentPrimary} is not healthy; stopping the WAL receivers before electing a new primary`,
            'cloudnative-pg',
          );
        }
      } else st.unhealthySince = undefined;
    }
    if (target === 'pending') {
      const replicas = names.filter(
        (n) => n !== status.currentPrimary && statuses.get(n)?.running && statuses.get(n)?.role === 'replica',
      );
      await Promise.all(replicas.map((n) => send(n, { ...base, role: 'replica' })));
      const streaming = replicas.filter((n) => statuses.get(n)?.streaming);
      const waited = performance.now() - (st.pendingSince ?? 0);
      const next =
        streaming.length === 0 || waited > 10_000
          ? chooseFailoverTarget(replicas.map((n) => statuses.get(n)!))
          : undefined;
      if (!next) {
        this.labelRoles(ns, names, status.currentPrimary, statuses);
        this.writeStatus(cluster, status, names, statuses);
        return;
      }
      status.targetPrimary = next.pod;
      this.ctx.events.record(
        cluster,
        'Normal',
        'FailoverTarget',
        `Promoting ${next.pod}, the most aligned standby (WAL received up to ${next.lsn})`,
        'cloudnative-pg',
      );
    }

    const newTarget: string = status.targetPrimary;
    const ts = statuses.get(newTarget);
    if (newTarget !== status.currentPrimary && ts?.running && ts.role === 'primary') {
      this.ctx.events.record(
        cluster,
        'Normal',
        'FailoverCompleted',
        `${newTarget} is the new primary`,
        'cloudnative-pg',
      );
      status.currentPrimary = newTarget;
      status.currentPrimaryTimestamp = new Date(this.ctx.clock.now()).toISOString();
      status.currentPrimaryFailoverCount = (status.currentPrimaryFailoverCount ?? 0) + 1;
    }
    const standbys = names.filter((n) => n !== newTarget);
    const readyStandbys = standbys.filter((n) => statuses.get(n)?.streaming).length;
    await send(newTarget, {
      ...base,
      role: 'primary',
      synchronousStandbyNames: synchronousStandbyNames(spec, standbys, readyStandbys),
    });
    const primaryIp = ipOf(status.currentPrimary);
    const primaryUp =
      statuses.get(status.currentPrimary)?.running && statuses.get(status.currentPrimary)?.role === 'primary';
    if (primaryIp && primaryUp && status.currentPrimary === newTarget) {
      await Promise.all(standbys.map((n) => send(n, { ...base, role: 'replica', primaryHost: primaryIp })));
    }
    const allHealthy = names.every(
      (n) => statuses.get(n)?.running && (n === newTarget || statuses.get(n)?.streaming),
    );
    if (status.currentPrimary === newTarget)
      status.phase = allHealthy ? 'Cluster in healthy state' : 'Waiting for the instances to become active';
    if (status.currentPrimary === newTarget) delete status.phaseReason;
    this.labelRoles(ns, names, status.currentPrimary, statuses);
    this.writeStatus(cluster, status, names, statuses);
  }

  private labelRoles(ns: string, names: string[], primary: string, statuses: Map<string, InstanceStatus>) {
    for (const n of names) {
      const s = statuses.get(n);
      const role = n === primary && s?.role === 'primary' ? 'primary' : 'replica';
      this.ctx.store.patch({ kind: 'Pod', namespace: ns, name: n }, (p) => {
        p.metadata.labels = { ...p.metadata.labels, 'cnpg.io/instanceRole': role, role };
      });
    }
  }

  private writeStatus(
    cluster: KubeObject,
    status: any,
    names: string[],
    statuses: Map<string, InstanceStatus>,
  ) {
    const healthy = names.filter((n) => statuses.get(n)?.running);
    status.instances = names.length;
    status.readyInstances = healthy.length;
    status.instanceNames = names;
    status.instancesStatus = { healthy, failed: names.filter((n) => !healthy.includes(n)) };
    const primary = statuses.get(status.currentPrimary);
    if (primary?.timeline) status.timelineID = primary.timeline;
    status.writeService = `${cluster.metadata.name}-rw`;
    status.readService = `${cluster.metadata.name}-r`;
    status.conditions = [
      {
        type: 'Ready',
        status: status.phase === 'Cluster in healthy state' ? 'True' : 'False',
        reason: status.phase === 'Cluster in healthy state' ? 'ClusterIsReady' : 'ClusterIsNotReady',
        message: status.phase,
      },
    ];
    this.ctx.store.patch(
      {
        apiVersion: cluster.apiVersion,
        kind: 'Cluster',
        namespace: cluster.metadata.namespace,
        name: cluster.metadata.name,
      },
      (c) => {
        c.status = status;
      },
    );
  }

  /**
   * The instance's PGDATA claim, named after the instance as CNPG names it, of spec.storage's size and
   * class (the default class when none is given). A recreated pod finds its data on it.
   */
  private createClaim(cluster: KubeObject, spec: ClusterSpec, name: string): void {
    this.ctx.store.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name,
        namespace: cluster.metadata.namespace,
        labels: {
          'cnpg.io/cluster': cluster.metadata.name,
          'cnpg.io/instanceName': name,
          'cnpg.io/pvcRole': 'PG_DATA',
        },
        ownerReferences: [{ ...ownerReferenceTo(cluster), controller: true }],
      },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: spec.storageSize ?? '1Gi' } },
        ...(spec.storageClass ? { storageClassName: spec.storageClass } : {}),
      },
    });
  }

  private createPod(cluster: KubeObject, spec: ClusterSpec, name: string): void {
    const clusterName = cluster.metadata.name;
    this.ctx.store.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: cluster.metadata.namespace,
        labels: {
          'cnpg.io/cluster': clusterName,
          'cnpg.io/instanceName': name,
          'cnpg.io/podRole': 'instance',
          'cnpg.io/instanceRole': 'replica',
          role: 'replica',
        },
        ownerReferences: [{ ...ownerReferenceTo(cluster), controller: true }],
      },
      spec: {
        hostname: name,
        ...podPlacement(cluster, clusterName),
        containers: [
          {
            name: 'postgres',
            image: spec.imageName,
            env: [
              { name: 'CLUSTER_NAME', value: clusterName },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
            ],
            ports: [
              { name: 'postgresql', containerPort: POSTGRES_PORT },
              { name: 'status', containerPort: INSTANCE_MANAGER_PORT },
            ],
            // As CNPG: a startup probe allowing startDelay (3600 s) before liveness applies.
            startupProbe: {
              httpGet: { path: '/healthz', port: INSTANCE_MANAGER_PORT },
              periodSeconds: 10,
              failureThreshold: 360,
            },
            readinessProbe: { httpGet: { path: '/readyz', port: INSTANCE_MANAGER_PORT }, periodSeconds: 10 },
            livenessProbe: { httpGet: { path: '/healthz', port: INSTANCE_MANAGER_PORT }, periodSeconds: 10 },
            volumeMounts: [{ name: 'pgdata', mountPath: '/var/lib/postgresql/data' }],
            ...(spec.resources ? { resources: spec.resources } : {}),
          },
        ],
        volumes: [{ name: 'pgdata', persistentVolumeClaim: { claimName: name } }],
      },
    });
  }

  private ensureServices(cluster: KubeObject): void {
    const ns = cluster.metadata.namespace!;
    const name = cluster.metadata.name;
    const kinds: Array<[string, Record<string, string>]> = [
      ['rw', { 'cnpg.io/cluster': name, 'cnpg.io/instanceRole': 'primary' }],
      ['ro', { 'cnpg.io/cluster': name, 'cnpg.io/instanceRole': 'replica' }],
      ['r', { 'cnpg.io/cluster': name, 'cnpg.io/podRole': 'instance' }],
    ];
    for (const [suffix, selector] of kinds) {
      if (this.ctx.store.get({ kind: 'Service', namespace: ns, name: `${name}-${suffix}` })) continue;
      this.ctx.store.create({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: `${name}-${suffix}`,
          namespace: ns,
          labels: { 'cnpg.io/cluster': name },
          ownerReferences: [{ ...ownerReferenceTo(cluster), controller: true }],
        },
        spec: {
          type: 'ClusterIP',
          selector,
          ports: [{ name: 'postgres', port: POSTGRES_PORT, targetPort: POSTGRES_PORT, protocol: 'TCP' }],
        },
      });
    }
  }

  private ensureSecrets(cluster: KubeObject, spec: ClusterSpec): void {
    const ns = cluster.metadata.namespace!;
    const name = cluster.metadata.name;
    const secret = (secretName: string, values: Record<string, string>) => {
      if (this.ctx.store.get({ kind: 'Secret', namespace: ns, name: secretName })) return;
      this.ctx.store.create({
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/basic-auth',
        metadata: {
          name: secretName,
          namespace: ns,
          labels: { 'cnpg.io/cluster': name },
          ownerReferences: [{ ...ownerReferenceTo(cluster), controller: true }],
        },
        data: Object.fromEntries(
          Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        ),
      });
    };
    const host = `${name}-rw`;
    const su = randomBytes(12).toString('hex');
    secret(`${name}-superuser`, {
      username: 'postgres',
      password: su,
      host,
      port: String(POSTGRES_PORT),
      dbname: '*',
      uri: `postgresql://postgres:${su}@${host}.${ns}:${POSTGRES_PORT}/postgres`,
    });
    if (!spec.ownerSecret) {
      const pw = randomBytes(12).toString('hex');
      secret(`${name}-app`, {
        username: spec.owner,
        password: pw,
        host,
        port: String(POSTGRES_PORT),
        dbname: spec.database,
        user: spec.owner,
        uri: `postgresql://${spec.owner}:${pw}@${host}.${ns}:${POSTGRES_PORT}/${spec.database}`,
        jdbc_uri: `jdbc:postgresql://${host}.${ns}:${POSTGRES_PORT}/${spec.database}?password=${pw}&user=${spec.owner}`,
      });
    }
  }

  private ownerCredentials(ns: string, name: string, spec: ClusterSpec) {
    const secretName = spec.ownerSecret ?? `${name}-app`;
    return {
      username: this.secretValue(ns, secretName, 'username') ?? spec.owner,
      password: this.secretValue(ns, secretName, 'password') ?? '',
    };
  }

  private secretValue(ns: string, secretName: string, key: string): string | undefined {
    const s = this.ctx.store.get({ kind: 'Secret', namespace: ns, name: secretName });
    const v = (s?.['data'] as Record<string, string> | undefined)?.[key];
    if (v !== undefined) return Buffer.from(v, 'base64').toString('utf8');
    return (s?.['stringData'] as Record<string, string> | undefined)?.[key];
  }
}

/**
 * The pod's placement from CNPG's AffinityConfiguration (spec.affinity): nodeSelector, tolerations and
 * nodeAffinity as given, and the instances' anti-affinity (enablePodAntiAffinity, default on;
 * podAntiAffinityType preferred or required; topologyKey, default kubernetes.io/hostname).
 * See https://cloudnative-pg.io/documentation/current/scheduling/
 */
export function podPlacement(
  cluster: KubeObject,
  clusterName = cluster.metadata.name,
): Record<string, unknown> {
  const a = cluster.spec?.affinity ?? {};
  const term = {
    topologyKey: a.topologyKey ?? 'kubernetes.io/hostname',
    labelSelector: { matchLabels: { 'cnpg.io/cluster': clusterName, 'cnpg.io/podRole': 'instance' } },
  };
  const podAntiAffinity =
    a.enablePodAntiAffinity === false
      ? undefined
      : a.podAntiAffinityType === 'required'
        ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
        : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] };
  const affinity = {
    ...(podAntiAffinity ? { podAntiAffinity } : {}),
    ...(a.nodeAffinity ? { nodeAffinity: a.nodeAffinity } : {}),
  };
  return {
    ...(Object.keys(affinity).length ? { affinity } : {}),
    ...(a.nodeSelector ? { nodeSelector: a.nodeSelector } : {}),
    ...(a.tolerations ? { tolerations: a.tolerations } : {}),
  };
}

async function instanceStatus(ip: string): Promise<InstanceStatus | undefined> {
  try {
    const r = await fetch(`http://${ip}:${INSTANCE_MANAGER_PORT}/pg/status`, {
      signal: AbortSignal.timeout(500),
    });
    return (await r.json()) as InstanceStatus;
  } catch {
    return undefined;
  }
}
