import { type KubeObject, ownerReferenceTo } from '../../kube/object.ts';

/**
 * The OT-Container-Kit redis-operator's `RedisCluster` (redis.redis.opstreelabs.in/v1beta2) as the
 * operator turns it into Kubernetes objects (pkg/k8sutils/redis-cluster.go, statefulset.go,
 * services.go): per role (`leader`, `follower`) a StatefulSet `<name>-<role>` whose pods run the
 * image's entrypoint in cluster mode, a Service `<name>-<role>` and a headless Service
 * `<name>-<role>-headless`, all labelled `app: <name>-<role>`, `redis_setup_type: cluster`,
 * `role: <role>`.
 */
export const GROUP = 'redis.redis.opstreelabs.in';
export const ROLES = ['leader', 'follower'] as const;
export type Role = (typeof ROLES)[number];
export const CLUSTER_SLOTS = 16384;
/** Where the image's redis.conf includes the additionalRedisConfig ConfigMap from. */
export const EXTERNAL_CONFIG_DIR = '/etc/redis/external.conf.d';

export interface RoleSpec {
  replicas: number;
  additionalRedisConfig?: string;
  affinity?: unknown;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  readinessProbe?: Record<string, unknown>;
  livenessProbe?: Record<string, unknown>;
}

export interface RedisClusterSpec {
  leader: RoleSpec;
  follower: RoleSpec;
  port: number;
  clusterVersion: string;
  image: string;
  imagePullPolicy?: string;
  resources?: unknown;
  persistenceEnabled: boolean;
  /** storage is set: the data volume (volumeClaimTemplate) */
  storage?: { volumeClaimTemplate?: any; nodeConfVolume: boolean; nodeConfVolumeClaimTemplate?: any };
  env?: unknown[];
  passwordSecret?: { name: string; key: string };
  /** spec.podSecurityContext: the pods' securityContext (the image runs as user 1000). */
  podSecurityContext?: unknown;
}

/** The CRD's probe default: {initialDelaySeconds: 1, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3}. */
const PROBE_DEFAULT = {
  initialDelaySeconds: 1,
  timeoutSeconds: 1,
  periodSeconds: 10,
  successThreshold: 1,
  failureThreshold: 3,
};

export function redisClusterSpec(cr: KubeObject): RedisClusterSpec {
  const spec = cr.spec ?? {};
  const size = Number(spec.clusterSize ?? 3);
  const role = (r: any): RoleSpec => ({
    // GetReplicaCounts: the role's replicas, else clusterSize.
    replicas: r?.replicas === undefined || r?.replicas === null ? size : Number(r.replicas),
    ...(r?.redisConfig?.additionalRedisConfig
      ? { additionalRedisConfig: String(r.redisConfig.additionalRedisConfig) }
      : {}),
    ...(r?.affinity ? { affinity: r.affinity } : {}),
    ...(r?.nodeSelector ? { nodeSelector: r.nodeSelector } : {}),
    ...(r?.tolerations ? { tolerations: r.tolerations } : {}),
    readinessProbe: { ...PROBE_DEFAULT, ...(r?.readinessProbe ?? {}) },
    livenessProbe: { ...PROBE_DEFAULT, ...(r?.livenessProbe ?? {}) },
  });
  const kc = spec.kubernetesConfig ?? {};
  const secret = kc.redisSecret;
  return {
    leader: role(spec.redisLeader),
    follower: role(spec.redisFollower),
    port: Number(spec.port ?? 6379),
    clusterVersion: String(spec.clusterVersion ?? 'v7'),
    image: String(kc.image ?? 'quay.io/opstree/redis:v7.0.15'),
    ...(kc.imagePullPolicy ? { imagePullPolicy: kc.imagePullPolicy } : {}),
    ...(kc.resources ? { resources: kc.resources } : {}),
    persistenceEnabled: Boolean(spec.storage) && spec.persistenceEnabled === true,
    ...(spec.storage
      ? {
          storage: {
            volumeClaimTemplate: spec.storage.volumeClaimTemplate,
            nodeConfVolume: spec.storage.nodeConfVolume === true,
            nodeConfVolumeClaimTemplate: spec.storage.nodeConfVolumeClaimTemplate,
          },
        }
      : {}),
    ...(spec.env ? { env: spec.env } : {}),
    ...(secret?.name && secret?.key ? { passwordSecret: { name: secret.name, key: secret.key } } : {}),
    ...(spec.podSecurityContext ? { podSecurityContext: spec.podSecurityContext } : {}),
  };
}

/** getRedisLabels(<name>-<role>, cluster, <role>, cr labels): the StatefulSet's, its pods' and the Services' labels and selector. */
export function roleLabels(cr: KubeObject, role: Role): Record<string, string> {
  return {
    app: `${cr.metadata.name}-${role}`,
    redis_setup_type: 'cluster',
    role,
    ...(cr.metadata.labels ?? {}),
  };
}

function annotations(cr: KubeObject): Record<string, string> {
  return { 'redis.opstreelabs.in': 'true', 'redis.opstreelabs.instance': cr.metadata.name };
}

function owner(cr: KubeObject) {
  return [{ ...ownerReferenceTo(cr), controller: true }];
}

/** `<name>-<role>` (ClusterIP) and `<name>-<role>-headless`, port `redis-client`. */
export function roleServices(cr: KubeObject, spec: RedisClusterSpec, role: Role): KubeObject[] {
  const labels = roleLabels(cr, role);
  const name = `${cr.metadata.name}-${role}`;
  const service = (svcName: string, headless: boolean): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: svcName,
      namespace: cr.metadata.namespace,
      labels,
      annotations: {
        ...annotations(cr),
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9121',
      },
      ownerReferences: owner(cr),
    },
    spec: {
      type: 'ClusterIP',
      ...(headless ? { clusterIP: 'None' } : {}),
      selector: labels,
      ports: [{ name: 'redis-client', port: spec.port, targetPort: spec.port, protocol: 'TCP' }],
    },
  });
  return [service(`${name}-headless`, true), service(name, false)];
}

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: shell variables of the operator's probe
/** The operator's exec probe: `redis-cli -h $(hostname) -p ${REDIS_PORT} ping` with the CRD's timings. */
function probe(p: Record<string, unknown> | undefined, auth: boolean): Record<string, unknown> {
  const cmd = [
    'redis-cli',
    '-h',
    '$(hostname)',
    '-p',
    '${REDIS_PORT}',
    ...(auth ? ['-a', '${REDIS_PASSWORD}'] : []),
  ];
  return { ...p, exec: { command: ['sh', '-c', [...cmd, 'ping'].join(' ')] } };
}
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: shell variables of the operator's probe

/** The StatefulSet `<name>-<role>` as generateStatefulSetsDef writes it for cluster mode. */
export function roleStatefulSet(cr: KubeObject, spec: RedisClusterSpec, role: Role): KubeObject {
  const name = `${cr.metadata.name}-${role}`;
  const labels = roleLabels(cr, role);
  const r = spec[role];
  const auth = spec.passwordSecret !== undefined;
  const env: any[] = [
    { name: 'PERSISTENCE_ENABLED', value: String(spec.persistenceEnabled) },
    { name: 'REDIS_ADDR', value: `redis://localhost:${spec.port}` },
    { name: 'REDIS_MAJOR_VERSION', value: spec.clusterVersion },
    { name: 'REDIS_PORT', value: String(spec.port) },
    { name: 'SERVER_MODE', value: 'cluster' },
    { name: 'SETUP_MODE', value: 'cluster' },
  ];
  if (!spec.persistenceEnabled) env.shift();
  if (auth)
    env.push({
      name: 'REDIS_PASSWORD',
      valueFrom: { secretKeyRef: { name: spec.passwordSecret!.name, key: spec.passwordSecret!.key } },
    });
  env.push(...((spec.env as any[]) ?? []));
  env.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const mounts: any[] = [];
  if (spec.storage?.nodeConfVolume) mounts.push({ name: 'node-conf', mountPath: '/node-conf' });
  if (spec.persistenceEnabled) mounts.push({ name, mountPath: '/data' });
  if (r.additionalRedisConfig) mounts.push({ name: 'external-config', mountPath: EXTERNAL_CONFIG_DIR });
  mounts.push({ name: 'config', mountPath: '/etc/redis' });
  const volumes: any[] = [
    { name: 'config', emptyDir: {} },
    ...(r.additionalRedisConfig
      ? [{ name: 'external-config', configMap: { name: r.additionalRedisConfig } }]
      : []),
  ];
  const claims: any[] = [];
  const claim = (claimName: string, template: any) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: claimName, labels, annotations: annotations(cr) },
    spec: {
      accessModes: template?.spec?.accessModes ?? ['ReadWriteOnce'],
      volumeMode: template?.spec?.volumeMode ?? 'Filesystem',
      ...(template?.spec?.resources ? { resources: template.spec.resources } : {}),
      ...(template?.spec?.storageClassName ? { storageClassName: template.spec.storageClassName } : {}),
    },
  });
  if (spec.storage?.nodeConfVolume) claims.push(claim('node-conf', spec.storage.nodeConfVolumeClaimTemplate));
  if (spec.persistenceEnabled) claims.push(claim(name, spec.storage?.volumeClaimTemplate));
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      name,
      namespace: cr.metadata.namespace,
      labels,
      annotations: annotations(cr),
      ownerReferences: owner(cr),
    },
    spec: {
      replicas: r.replicas,
      serviceName: `${name}-headless`,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: annotations(cr) },
        spec: {
          containers: [
            {
              name,
              image: spec.image,
              ...(spec.imagePullPolicy ? { imagePullPolicy: spec.imagePullPolicy } : {}),
              env,
              readinessProbe: probe(r.readinessProbe, auth),
              livenessProbe: probe(r.livenessProbe, auth),
              volumeMounts: mounts,
              ...(spec.resources ? { resources: spec.resources } : {}),
            },
          ],
          ...(r.nodeSelector ? { nodeSelector: r.nodeSelector } : {}),
          ...(r.affinity ? { affinity: r.affinity } : {}),
          ...(r.tolerations ? { tolerations: r.tolerations } : {}),
          ...(spec.podSecurityContext ? { securityContext: spec.podSecurityContext } : {}),
          volumes,
        },
      },
      ...(claims.length ? { volumeClaimTemplates: claims } : {}),
    },
  };
}

/**
 * The slots of each of `masters` nodes as `redis-cli --cluster create` assigns them
 * (clusterManagerCommandCreate): 16384/n slots per node, rounded from a running cursor, the last node
 * taking the rest. For 3: 0-5460, 5461-10922, 10923-16383.
 */
export function slotRanges(masters: number): Array<[number, number]> {
  if (masters < 1) return [];
  const perNode = CLUSTER_SLOTS / masters;
  const ranges: Array<[number, number]> = [];
  let first = 0;
  let cursor = 0;
  for (let i = 0; i < masters; i++) {
    let last = Math.round(cursor + perNode - 1);
    if (last > CLUSTER_SLOTS - 1 || i === masters - 1) last = CLUSTER_SLOTS - 1;
    if (last < first) last = first;
    ranges.push([first, last]);
    first = last + 1;
    cursor += perNode;
  }
  return ranges;
}

export interface Placed {
  name: string;
  node?: string;
  zone?: string;
}

/**
 * Which leader each follower replicates: followers/leaders per leader (the operator's
 * followerPerLeader), each follower on a leader in another zone where possible, else on another node,
 * else any; among equal choices the one the operator would take (follower i → leader i mod n) first.
 * Returns follower name → leader name.
 */
export function pairFollowers(
  leaders: Placed[],
  followers: Placed[],
  /** Followers already replicating a leader: kept, and counted against that leader. */
  fixed: Map<string, string> = new Map(),
): Map<string, string> {
  const out = new Map<string, string>();
  if (leaders.length === 0) return out;
  const perLeader = Math.max(1, Math.ceil(followers.length / leaders.length));
  const cost = (f: Placed, l: Placed) =>
    (f.zone !== undefined && f.zone === l.zone ? 2 : 0) + (f.node !== undefined && f.node === l.node ? 1 : 0);
  const load = new Map<string, number>(leaders.map((l) => [l.name, 0]));
  for (const [f, l] of fixed)
    if (load.has(l) && followers.some((x) => x.name === f)) {
      load.set(l, load.get(l)! + 1);
      out.set(f, l);
    }
  const free = followers.filter((f) => !out.has(f.name));
  let best: { total: number; choice: number[] } | undefined;
  const choice: number[] = [];
  // Exhaustive for the sizes clusters have (a handful of shards), greedy beyond.
  const exhaustive = free.length <= 8 && leaders.length <= 8;
  const search = (i: number, total: number) => {
    if (best && total >= best.total) return;
    if (i === free.length) {
      best = { total, choice: [...choice] };
      return;
    }
    const f = free[i]!;
    const at = followers.indexOf(f);
    const order = leaders.map((_, k) => (at + k) % leaders.length);
    for (const li of order) {
      const l = leaders[li]!;
      if (load.get(l.name)! >= perLeader) continue;
      load.set(l.name, load.get(l.name)! + 1);
      choice.push(li);
      search(i + 1, total + cost(f, l));
      choice.pop();
      load.set(l.name, load.get(l.name)! - 1);
      if (!exhaustive && best) return;
    }
  };
  search(0, 0);
  for (const [i, li] of (best?.choice ?? []).entries()) out.set(free[i]!.name, leaders[li]!.name);
  return out;
}

export interface ClusterNode {
  id: string;
  ip: string;
  port: number;
  hostname?: string;
  flags: string[];
  masterId?: string;
  connected: boolean;
  slots: string[];
}

/** One CLUSTER NODES reply: `<id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slot>…`. */
export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [id, addr, flags, master, , , , link, ...slots] = line.split(' ');
      const [hostPort, hostname] = (addr ?? '').split(',');
      const [ipPort] = (hostPort ?? '').split('@');
      const colon = (ipPort ?? '').lastIndexOf(':');
      return {
        id: id!,
        ip: (ipPort ?? '').slice(0, colon),
        port: Number((ipPort ?? '').slice(colon + 1)),
        ...(hostname ? { hostname } : {}),
        flags: (flags ?? '').split(','),
        ...(master && master !== '-' ? { masterId: master } : {}),
        connected: link === 'connected',
        slots,
      };
    });
}

/**
 * As `redis-cli --cluster check` (the operator's RedisClusterStatusHealth: "[OK] All nodes agree
 * about slots configuration", "[OK] All 16384 slots covered"), plus no empty master
 * (CheckIfEmptyMasters): `nodes` nodes known, connected and not failing in `view`, every node
 * serving slots or replicating a master that serves slots in every one of `views`, all `views`
 * agreeing on the slot owners, and all 16384 slots covered.
 */
export function clusterCheck(nodes: number, view: ClusterNode[], views: ClusterNode[][]): boolean {
  if (view.length !== nodes) return false;
  if (
    view.some((n) => !n.connected || n.flags.some((f) => f === 'fail' || f === 'fail?' || f === 'handshake'))
  )
    return false;
  const placed = (n: ClusterNode) => n.flags.includes('slave') || n.slots.length > 0;
  if (![view, ...views].every((v) => v.every(placed))) return false;
  // Every replica follows a master that serves slots, in every node's view (redis-cli lists each
  // master's "additional replica(s)"); right after CLUSTER REPLICATE, gossip may not have told all.
  const replicasPlaced = (v: ClusterNode[]) =>
    v
      .filter((n) => n.flags.includes('slave'))
      .every((r) => v.some((m) => m.id === r.masterId && m.flags.includes('master') && m.slots.length > 0));
  if (![view, ...views].every(replicasPlaced)) return false;
  const signature = (v: ClusterNode[]) =>
    v
      .filter((n) => n.flags.includes('master') && n.slots.length > 0)
      .map((n) => `${n.id}:${n.slots.join(',')}`)
      .sort()
      .join(' ');
  const sig = signature(view);
  if (!views.every((v) => signature(v) === sig)) return false;
  let covered = 0;
  for (const n of view)
    for (const s of n.slots) {
      if (s.startsWith('[')) continue; // importing/migrating markers
      const [a, b] = s.split('-').map(Number);
      covered += (b ?? a!) - a! + 1;
    }
  return covered === CLUSTER_SLOTS;
}
