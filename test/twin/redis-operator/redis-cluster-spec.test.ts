import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/object.ts';
import {
  type ClusterNode,
  clusterCheck,
  pairFollowers,
  parseClusterNodes,
  redisClusterSpec,
  roleServices,
  roleStatefulSet,
  slotRanges,
} from '../../../twin/redis-operator/redis-cluster-spec.ts';

const cr = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'redis.redis.opstreelabs.in/v1beta2',
  kind: 'RedisCluster',
  metadata: { name: 'redis-cluster', namespace: 'data', uid: 'u-1', labels: { team: 'x' } },
  spec,
});

const seed = cr({
  clusterSize: 3,
  persistenceEnabled: true,
  kubernetesConfig: { image: 'quay.io/opstree/redis:v7.0.15', resources: { requests: { cpu: '1' } } },
  redisLeader: {
    replicas: 3,
    redisConfig: { additionalRedisConfig: 'redis-cluster-config' },
    nodeSelector: { workload: 'database' },
    tolerations: [{ key: 'database', operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
  },
  redisFollower: {
    redisConfig: { additionalRedisConfig: 'redis-cluster-config' },
    readinessProbe: { periodSeconds: 5 },
  },
  storage: {
    volumeClaimTemplate: {
      spec: { resources: { requests: { storage: '10Gi' } }, storageClassName: 'fast-ssd' },
    },
    nodeConfVolume: true,
    nodeConfVolumeClaimTemplate: { spec: { resources: { requests: { storage: '1Gi' } } } },
  },
});

describe('RedisCluster spec (OT redis-operator v1beta2)', () => {
  it('takes each role’s replicas, else clusterSize, and the CRD defaults', () => {
    const s = redisClusterSpec(
      cr({ clusterSize: 4, redisFollower: { replicas: 2 }, kubernetesConfig: { image: 'r:1' } }),
    );
    expect(s.leader.replicas).toBe(4);
    expect(s.follower.replicas).toBe(2);
    expect(s).toMatchObject({ port: 6379, clusterVersion: 'v7', persistenceEnabled: false, image: 'r:1' });
    expect(s.leader.readinessProbe).toEqual({
      initialDelaySeconds: 1,
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    // persistenceEnabled counts only with storage, as the operator's container parameters do.
    expect(redisClusterSpec(cr({ persistenceEnabled: true })).persistenceEnabled).toBe(false);
  });

  it('makes <name>-<role> and <name>-<role>-headless Services selecting the role’s pods', () => {
    const spec = redisClusterSpec(seed);
    const [headless, svc] = roleServices(seed, spec, 'leader');
    expect(headless!.metadata.name).toBe('redis-cluster-leader-headless');
    expect(headless!.spec.clusterIP).toBe('None');
    expect(svc!.metadata.name).toBe('redis-cluster-leader');
    expect(svc!.spec.clusterIP).toBeUndefined();
    for (const s of [headless!, svc!]) {
      expect(s.spec.selector).toEqual({
        app: 'redis-cluster-leader',
        redis_setup_type: 'cluster',
        role: 'leader',
        team: 'x',
      });
      expect(s.spec.ports).toEqual([{ name: 'redis-client', port: 6379, targetPort: 6379, protocol: 'TCP' }]);
      expect(s.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'RedisCluster', uid: 'u-1', controller: true }),
      ]);
    }
    expect(roleServices(seed, spec, 'follower').map((s) => s.metadata.name)).toEqual([
      'redis-cluster-follower-headless',
      'redis-cluster-follower',
    ]);
  });

  it('makes the StatefulSet <name>-<role> as the operator writes it for cluster mode', () => {
    const spec = redisClusterSpec(seed);
    const sts = roleStatefulSet(seed, spec, 'leader');
    expect(sts.metadata.name).toBe('redis-cluster-leader');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.serviceName).toBe('redis-cluster-leader-headless');
    expect(sts.spec.selector.matchLabels).toEqual(sts.spec.template.metadata.labels);
    const pod = sts.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ workload: 'database' });
    expect(pod.tolerations).toEqual([
      { key: 'database', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
    ]);
    const c = pod.containers[0];
    expect(c.name).toBe('redis-cluster-leader');
    expect(c.image).toBe('quay.io/opstree/redis:v7.0.15');
    const env = Object.fromEntries(
      c.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]),
    );
    expect(env).toEqual({
      PERSISTENCE_ENABLED: 'true',
      REDIS_ADDR: 'redis://localhost:6379',
      REDIS_MAJOR_VERSION: 'v7',
      REDIS_PORT: '6379',
      SERVER_MODE: 'cluster',
      SETUP_MODE: 'cluster',
    });
    expect(c.volumeMounts.map((m: any) => m.mountPath)).toEqual([
      '/node-conf',
      '/data',
      '/etc/redis/external.conf.d',
      '/etc/redis',
    ]);
    expect(pod.volumes).toContainEqual({
      name: 'external-config',
      configMap: { name: 'redis-cluster-config' },
    });
    expect(
      sts.spec.volumeClaimTemplates.map((t: any) => [t.metadata.name, t.spec.resources.requests.storage]),
    ).toEqual([
      ['node-conf', '1Gi'],
      ['redis-cluster-leader', '10Gi'],
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable of the operator's probe
    expect(c.readinessProbe.exec.command.at(-1)).toBe('redis-cli -h $(hostname) -p ${REDIS_PORT} ping');
    expect(c.resources).toEqual({ requests: { cpu: '1' } });
    // The follower's own probe settings are merged over the defaults.
    const f = roleStatefulSet(seed, spec, 'follower').spec.template.spec.containers[0];
    expect(f.readinessProbe.periodSeconds).toBe(5);
    expect(f.readinessProbe.failureThreshold).toBe(3);
  });

  it('assigns the 16384 slots as redis-cli --cluster create does', () => {
    expect(slotRanges(3)).toEqual([
      [0, 5460],
      [5461, 10922],
      [10923, 16383],
    ]);
    expect(slotRanges(1)).toEqual([[0, 16383]]);
    for (const n of [2, 3, 5, 6, 7, 10]) {
      const r = slotRanges(n);
      expect(r).toHaveLength(n);
      expect(r[0]![0]).toBe(0);
      expect(r.at(-1)![1]).toBe(16383);
      for (let i = 1; i < n; i++) expect(r[i]![0]).toBe(r[i - 1]![1] + 1);
      const sizes = r.map(([a, b]) => b - a + 1);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('pairs each follower with a leader in another zone, one per leader, index order first', () => {
    const leaders = [
      { name: 'l0', node: 'n-a', zone: 'a' },
      { name: 'l1', node: 'n-b', zone: 'b' },
      { name: 'l2', node: 'n-c', zone: 'c' },
    ];
    // Followers scheduled in the same zones as the leaders of the same index: the operator's i → i
    // pairing would put each pair in one zone.
    const same = [
      { name: 'f0', node: 'n-a', zone: 'a' },
      { name: 'f1', node: 'n-b', zone: 'b' },
      { name: 'f2', node: 'n-c', zone: 'c' },
    ];
    const p = pairFollowers(leaders, same);
    expect([...p.keys()]).toEqual(['f0', 'f1', 'f2']);
    expect(new Set(p.values()).size).toBe(3);
    for (const f of same) expect(leaders.find((l) => l.name === p.get(f.name))!.zone).not.toBe(f.zone);
    // Already apart: the operator's order is kept.
    const apart = [
      { name: 'f0', zone: 'b' },
      { name: 'f1', zone: 'c' },
      { name: 'f2', zone: 'a' },
    ];
    expect(Object.fromEntries(pairFollowers(leaders, apart))).toEqual({ f0: 'l0', f1: 'l1', f2: 'l2' });
    // One zone only: other nodes first.
    const oneZone = leaders.map((l) => ({ ...l, zone: 'a' }));
    const q = pairFollowers(oneZone, [
      { name: 'f0', node: 'n-a', zone: 'a' },
      { name: 'f1', node: 'n-b', zone: 'a' },
    ]);
    expect(q.get('f0')).not.toBe('l0');
    expect(q.get('f1')).not.toBe('l1');
    // Two followers per leader.
    const two = pairFollowers(leaders.slice(0, 2), [
      { name: 'f0' },
      { name: 'f1' },
      { name: 'f2' },
      { name: 'f3' },
    ]);
    expect([...two.values()].sort()).toEqual(['l0', 'l0', 'l1', 'l1']);
    expect(pairFollowers([], [{ name: 'f0' }]).size).toBe(0);
    // Followers already replicating keep their leader and count against it.
    const kept = pairFollowers(leaders, same, new Map([['f1', 'l2']]));
    expect(kept.get('f1')).toBe('l2');
    expect(new Set(kept.values()).size).toBe(3);
    for (const f of same) expect(leaders.find((l) => l.name === kept.get(f.name))!.zone).not.toBe(f.zone);
  });

  it('reads CLUSTER NODES', () => {
    const nodes = parseClusterNodes(
      [
        '07c37dfeb235213a872192d90877d0cd55635b91 127.10.0.5:6379@16379,redis-cluster-follower-0 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected',
        'e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.10.0.2:6379@16379,redis-cluster-leader-0 myself,master - 0 0 1 connected 0-5460',
        '292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.10.0.3:6379@16379,redis-cluster-leader-1 master,fail - 1426238316232 1426238315231 2 disconnected 5461-10922',
      ].join('\n'),
    );
    expect(nodes[0]).toEqual({
      id: '07c37dfeb235213a872192d90877d0cd55635b91',
      ip: '127.10.0.5',
      port: 6379,
      hostname: 'redis-cluster-follower-0',
      flags: ['slave'],
      masterId: 'e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca',
      connected: true,
      slots: [],
    });
    expect(nodes[1]).toMatchObject({ flags: ['myself', 'master'], slots: ['0-5460'], connected: true });
    expect(nodes[1]!.masterId).toBeUndefined();
    expect(nodes[2]).toMatchObject({ flags: ['master', 'fail'], connected: false, slots: ['5461-10922'] });
  });
});

describe('cluster check (redis-cli --cluster check, no empty masters)', () => {
  const node = (id: string, flags: string, slots: string[] = [], masterId?: string): ClusterNode => ({
    id,
    ip: `127.10.0.${id.charCodeAt(0) % 200}`,
    port: 6379,
    flags: flags.split(','),
    ...(masterId ? { masterId } : {}),
    connected: true,
    slots,
  });
  const formed = [
    node('a', 'master', ['0-5460']),
    node('b', 'master', ['5461-10922']),
    node('c', 'master', ['10923-16383']),
    node('d', 'slave', [], 'b'),
    node('e', 'slave', [], 'c'),
    node('f', 'slave', [], 'a'),
  ];
  const views = (v: ClusterNode[]) => v.map(() => v);

  it('passes a formed cluster', () => {
    expect(clusterCheck(6, formed, views(formed))).toBe(true);
  });

  it('fails on a missing node, an empty master, a failing or disconnected node, uncovered slots, disagreement, a replica of no known master', () => {
    expect(clusterCheck(6, formed.slice(0, 5), views(formed.slice(0, 5)))).toBe(false);
    const empty = [...formed.slice(0, 5), node('f', 'master')];
    expect(clusterCheck(6, empty, views(empty))).toBe(false);
    const failing = formed.map((n) => (n.id === 'b' ? { ...n, flags: ['master', 'fail?'] } : n));
    expect(clusterCheck(6, failing, views(failing))).toBe(false);
    const cut = formed.map((n) => (n.id === 'd' ? { ...n, connected: false } : n));
    expect(clusterCheck(6, cut, views(cut))).toBe(false);
    const gap = formed.map((n) => (n.id === 'c' ? { ...n, slots: ['10923-16382'] } : n));
    expect(clusterCheck(6, gap, views(gap))).toBe(false);
    // One node still thinks a (failed-over) old owner serves 5461-10922.
    const stale = formed.map((n) =>
      n.id === 'b'
        ? { ...n, flags: ['slave'], slots: [], masterId: 'd' }
        : n.id === 'd'
          ? { ...n, flags: ['master'], slots: ['5461-10922'], masterId: undefined }
          : n,
    );
    expect(clusterCheck(6, stale, [...views(stale).slice(1), formed])).toBe(false);
    expect(clusterCheck(6, stale, views(stale))).toBe(true);
    // One node has not yet heard that f replicates a (gossip after CLUSTER REPLICATE).
    const unheard = formed.map((n) => (n.id === 'f' ? { ...n, masterId: undefined } : n));
    expect(clusterCheck(6, formed, [...views(formed).slice(1), unheard])).toBe(false);
  });
});
