import { Redis } from 'ioredis';
import type { KubeObject } from '../../kube/object.ts';
import { PollingController } from '../controllers/controller.ts';
import {
  type ClusterNode,
  clusterCheck,
  GROUP,
  pairFollowers,
  parseClusterNodes,
  type RedisClusterSpec,
  ROLES,
  type Role,
  redisClusterSpec,
  roleServices,
  roleStatefulSet,
  slotRanges,
} from './redis-cluster-spec.ts';

const TICK_MS = 500;

/** The operator's status reasons (api/status/redis-cluster_status.go). */
export const REASONS = {
  Initializing: 'RedisCluster is initializing leaders',
  InitializingFollowers: 'RedisCluster is initializing followers',
  Bootstrap: 'RedisCluster is bootstrapping',
  Ready: 'RedisCluster is ready',
} as const;

interface PodView {
  pod: string;
  role: Role;
  index: number;
  ip: string;
  node?: string;
  zone?: string;
  /** CLUSTER NODES as this pod sees it; undefined when it does not answer. */
  nodes?: ClusterNode[];
  myself?: ClusterNode;
}

/**
 * A twin controller for the OT-Container-Kit redis-operator's `RedisCluster`
 * (redis.redis.opstreelabs.in/v1beta2), following the operator's reconcile loop
 * (pkg/controllers/rediscluster): the leader Services and StatefulSet `<name>-leader` first; once it
 * is ready, the follower Services and StatefulSet; once both are ready, the cluster is formed as
 * `redis-cli --cluster create` does (slots spread over the leaders, distinct config epochs, CLUSTER
 * MEET), then each follower joins and replicates a leader (`--cluster add-node --cluster-slave`);
 * failed nodes whose pod came back at another address are met again (RepairDisconnectedMasters).
 * Failover itself is Redis Cluster's own (replica promotion after cluster-node-timeout).
 *
 * Twin simplification: the twin sends the cluster commands itself over the pod network instead of
 * exec'ing redis-cli in leader-0; it picks each follower's leader (another zone first) where
 * redis-cli attaches it to the master with the fewest replicas; no scaling/resharding, PDBs,
 * exporter sidecars, TLS, ACLs or rolling updates of the StatefulSets (only `replicas` follows the spec).
 */
export class RedisClusterController extends PollingController {
  readonly name = 'redis-operator-cluster';

  constructor() {
    // The store keys types by group: every served version of the CRD is listed.
    super({ apiVersion: `${GROUP}/v1beta2`, kind: 'RedisCluster' }, TICK_MS);
  }

  protected async reconcile(cr: KubeObject): Promise<void> {
    const spec = redisClusterSpec(cr);
    const ns = cr.metadata.namespace!;
    this.ensureRole(cr, spec, 'leader');
    const leaderReady = this.stsReady(ns, `${cr.metadata.name}-leader`, spec.leader.replicas);
    if (!leaderReady) {
      this.writeStatus(cr, 'Initializing', REASONS.Initializing, spec);
      return;
    }
    this.ensureRole(cr, spec, 'follower');
    const followerReady = this.stsReady(ns, `${cr.metadata.name}-follower`, spec.follower.replicas);
    if (!followerReady) {
      this.writeStatus(cr, 'Initializing', REASONS.InitializingFollowers, spec);
      return;
    }
    const password = this.password(ns, spec);
    const clients = new Map<string, Redis>();
    const client = (ip: string) => {
      let c = clients.get(ip);
      if (!c) {
        c = new Redis({
          host: ip,
          port: spec.port,
          ...(password ? { password } : {}),
          lazyConnect: true,
          connectTimeout: 500,
          commandTimeout: 1000,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
          enableOfflineQueue: false,
        });
        c.on('error', () => {});
        clients.set(ip, c);
      }
      return c;
    };
    const call = async (ip: string, ...args: string[]): Promise<unknown> => {
      const c = client(ip);
      if (c.status === 'wait') await c.connect();
      return c.call(args[0]!, ...args.slice(1));
    };
    try {
      const views = await this.observe(cr, spec, call);
      if (this.stopped) return;
      const healthy = await this.converge(cr, spec, views, call);
      this.writeStatus(
        cr,
        healthy ? 'Ready' : 'Bootstrap',
        healthy ? REASONS.Ready : REASONS.Bootstrap,
        spec,
      );
    } finally {
      for (const c of clients.values()) c.disconnect();
    }
  }

  /** Every pod of both roles with an address, and what it answers to CLUSTER NODES. */
  private async observe(
    cr: KubeObject,
    spec: RedisClusterSpec,
    call: (ip: string, ...args: string[]) => Promise<unknown>,
  ): Promise<PodView[]> {
    const ns = cr.metadata.namespace!;
    const views: PodView[] = [];
    for (const role of ROLES)
      for (let i = 0; i < spec[role].replicas; i++) {
        const name = `${cr.metadata.name}-${role}-${i}`;
        const pod = this.ctx.store.get({ kind: 'Pod', namespace: ns, name });
        const ip = pod?.status?.podIP as string | undefined;
        if (!pod || !ip || pod.status?.phase !== 'Running') continue;
        const nodeName = pod.spec?.nodeName as string | undefined;
        const node = nodeName ? this.ctx.store.get({ kind: 'Node', name: nodeName }) : undefined;
        const zone = node?.metadata.labels?.['topology.kubernetes.io/zone'];
        views.push({
          pod: name,
          role,
          index: i,
          ip,
          ...(nodeName ? { node: nodeName } : {}),
          ...(zone ? { zone } : {}),
        });
      }
    await Promise.all(
      views.map(async (v) => {
        try {
          v.nodes = parseClusterNodes(String(await call(v.ip, 'CLUSTER', 'NODES')));
          v.myself = v.nodes.find((n) => n.flags.includes('myself'));
        } catch {}
      }),
    );
    return views;
  }

  /** One step towards the formed cluster; true when it is healthy (every slot served, all agree). */
  private async converge(
    cr: KubeObject,
    spec: RedisClusterSpec,
    views: PodView[],
    call: (ip: string, ...args: string[]) => Promise<unknown>,
  ): Promise<boolean> {
    const up = views.filter((v) => v.myself);
    const leaders = up.filter((v) => v.role === 'leader');
    const followers = up.filter((v) => v.role === 'follower');
    const assigned = up.some((v) => v.nodes!.some((n) => n.slots.length > 0));
    // ExecuteRedisClusterCommand: `redis-cli --cluster create <leaders> --cluster-yes` on a fresh set.
    if (!assigned) {
      if (leaders.length < spec.leader.replicas) return false;
      const ranges = slotRanges(leaders.length);
      for (const [i, v] of leaders.entries()) {
        const [first, last] = ranges[i]!;
        await call(v.ip, 'CLUSTER', 'ADDSLOTSRANGE', String(first), String(last));
        await call(v.ip, 'CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1)).catch(() => {});
      }
      for (const v of leaders.slice(1))
        await call(leaders[0]!.ip, 'CLUSTER', 'MEET', v.ip, String(spec.port));
      this.ctx.events.record(
        cr,
        'Normal',
        'ClusterCreated',
        `Slots ${ranges.map(([a, b]) => `${a}-${b}`).join(', ')} assigned to ${leaders.map((l) => l.pod).join(', ')}`,
        'redis-operator',
      );
      return false;
    }
    // The view of the cluster from a node that serves slots (leader-0 in the operator; any after a failover).
    const anchor =
      up.find((v) => v.pod === `${cr.metadata.name}-leader-0` && v.myself!.slots.length > 0) ??
      up.find((v) => v.myself!.flags.includes('master') && v.myself!.slots.length > 0);
    if (!anchor) return false;
    const known = anchor.nodes!;
    const byIp = new Map(known.map((n) => [n.ip, n]));
    // Leaders not yet met (a create interrupted half-way) and new followers: CLUSTER MEET.
    for (const v of up) {
      if (byIp.has(v.ip) || known.some((n) => n.id === v.myself!.id)) continue;
      await call(v.ip, 'CLUSTER', 'MEET', anchor.ip, String(spec.port)).catch(() => {});
    }
    // RepairDisconnectedMasters: a failed node whose pod is back at another address is met there.
    for (const n of known) {
      if (!n.flags.some((f) => f === 'fail' || f === 'fail?') && n.connected) continue;
      const pod = up.find((v) => v.myself!.id === n.id && v.ip !== n.ip);
      if (pod) await call(anchor.ip, 'CLUSTER', 'MEET', pod.ip, String(spec.port)).catch(() => {});
    }
    // Followers that are still empty masters replicate their leader (add-node --cluster-slave),
    // once every follower is up, so that the pairing sees all of them.
    const fixed = new Map<string, string>();
    for (const f of followers) {
      const leader = leaders.find((l) => l.myself!.id === f.myself!.masterId);
      if (leader) fixed.set(f.pod, leader.pod);
    }
    const pairing = pairFollowers(
      leaders.map((l) => ({ name: l.pod, node: l.node, zone: l.zone })),
      followers.map((f) => ({ name: f.pod, node: f.node, zone: f.zone })),
      fixed,
    );
    for (const f of followers.length === spec.follower.replicas ? followers : []) {
      const me = f.myself!;
      if (!me.flags.includes('master') || me.slots.length > 0) continue;
      const leader = leaders.find((l) => l.pod === pairing.get(f.pod));
      const target = leader?.myself;
      if (!target?.flags.includes('master') || target.slots.length === 0) continue;
      if (!f.nodes!.some((n) => n.id === target.id)) continue; // not yet learned through the handshake
      await call(f.ip, 'CLUSTER', 'REPLICATE', target.id).then(
        () =>
          this.ctx.events.record(
            cr,
            'Normal',
            'FollowerAttached',
            `${f.pod} replicates ${leader!.pod} (${leader!.zone ?? 'zone ?'})`,
            'redis-operator',
          ),
        () => {},
      );
    }
    return (
      up.length === spec.leader.replicas + spec.follower.replicas &&
      clusterCheck(
        up.length,
        known,
        up.map((v) => v.nodes!),
      )
    );
  }

  private ensureRole(cr: KubeObject, spec: RedisClusterSpec, role: Role): void {
    const ns = cr.metadata.namespace!;
    if (spec[role].replicas > 0)
      for (const svc of roleServices(cr, spec, role))
        if (!this.ctx.store.get({ kind: 'Service', namespace: ns, name: svc.metadata.name }))
          this.ctx.store.create(svc);
    const sts = roleStatefulSet(cr, spec, role);
    const existing = this.ctx.store.get({ kind: 'StatefulSet', namespace: ns, name: sts.metadata.name });
    if (!existing) this.ctx.store.create(sts);
    else if (existing.spec?.replicas !== sts.spec.replicas)
      this.ctx.store.patch({ kind: 'StatefulSet', namespace: ns, name: sts.metadata.name }, (o) => {
        o.spec.replicas = sts.spec.replicas;
      });
  }

  /** IsStatefulSetReady: observed generation current and every replica ready. */
  private stsReady(ns: string, name: string, replicas: number): boolean {
    const sts = this.ctx.store.get({ kind: 'StatefulSet', namespace: ns, name });
    if (!sts) return false;
    const st = sts.status ?? {};
    return st.observedGeneration === sts.metadata.generation && Number(st.readyReplicas ?? 0) === replicas;
  }

  private readyReplicas(ns: string, name: string): number {
    return Number(
      this.ctx.store.get({ kind: 'StatefulSet', namespace: ns, name })?.status?.readyReplicas ?? 0,
    );
  }

  private password(ns: string, spec: RedisClusterSpec): string | undefined {
    if (!spec.passwordSecret) return undefined;
    const s = this.ctx.store.get({ kind: 'Secret', namespace: ns, name: spec.passwordSecret.name });
    const v = (s?.['data'] as Record<string, string> | undefined)?.[spec.passwordSecret.key];
    if (v !== undefined) return Buffer.from(v, 'base64').toString('utf8');
    return (s?.['stringData'] as Record<string, string> | undefined)?.[spec.passwordSecret.key];
  }

  // Twin simplification: state and the ready counts are recomputed each pass from the StatefulSets and the cluster's health (the operator moves them at its reconcile steps).
  private writeStatus(cr: KubeObject, state: string, reason: string, spec: RedisClusterSpec): void {
    const ns = cr.metadata.namespace!;
    const status = {
      state,
      reason,
      readyLeaderReplicas: Math.min(
        spec.leader.replicas,
        this.readyReplicas(ns, `${cr.metadata.name}-leader`),
      ),
      readyFollowerReplicas: Math.min(
        spec.follower.replicas,
        this.readyReplicas(ns, `${cr.metadata.name}-follower`),
      ),
    };
    const current = this.ctx.store.get({
      apiVersion: cr.apiVersion,
      kind: 'RedisCluster',
      namespace: ns,
      name: cr.metadata.name,
    });
    if (!current || JSON.stringify(current.status ?? {}) === JSON.stringify(status)) return;
    if (current.status?.state !== state)
      this.ctx.events.record(cr, 'Normal', `State${state}`, reason, 'redis-operator');
    this.ctx.store.patch(
      { apiVersion: cr.apiVersion, kind: 'RedisCluster', namespace: ns, name: cr.metadata.name },
      (o) => {
        o.status = status;
      },
    );
  }
}
