import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../kube/object.ts';
import { bytes, cpuMillis } from '../../kube/quantity.ts';
import { loadTopology, topologyToNodes } from '../../system/topology/topology.ts';
import { podPlacement } from '../../twin/cnpg/cluster-controller.ts';
import { redisClusterSpec, roleStatefulSet } from '../../twin/redis-operator/redis-cluster-spec.ts';
import { find, hasKubectl, parseObjects } from './manifests.ts';
import { type FitNode, type FitPod, placePods } from './resource-fit.ts';

const SYSTEM = fileURLToPath(new URL('../../infra/tonebridge/', import.meta.url));

function render(overlay: string): KubeObject[] {
  const dir = `${SYSTEM}k8s/overlays/${overlay}`;
  return parseObjects(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' }), dir);
}

const conf = (objects: KubeObject[]) =>
  String((find(objects, 'ConfigMap', 'data', 'redis-cluster-config') as any).data['redis-additional.conf']);

describe.skipIf(!hasKubectl())('tonebridge manifests (seed 002, 3.2, 4.1, 4.2)', () => {
  const production = render('production');
  const local = render('local');

  it('has the namespaces and the production quota of 3.2, and the data tier in `data`', () => {
    expect(production.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual([
      'data',
      'monitoring',
      'production',
      'staging',
    ]);
    expect(find(production, 'ResourceQuota', 'production', 'production-quota').spec.hard).toEqual({
      'requests.cpu': '100',
      'requests.memory': '200Gi',
      'limits.cpu': '200',
      'limits.memory': '400Gi',
      persistentvolumeclaims: '10',
    });
  });

  it('has the CloudNativePG Cluster of 4.1, placed on the database pool', () => {
    for (const objects of [production, local]) {
      const c = find(objects, 'Cluster', 'data', 'postgres-cluster');
      expect(c.apiVersion).toBe('postgresql.cnpg.io/v1');
      expect(c.spec.instances).toBe(3);
      expect(c.spec.postgresql.parameters).toEqual({
        max_connections: '200',
        shared_buffers: '256MB',
        effective_cache_size: '1GB',
        work_mem: '4MB',
        maintenance_work_mem: '64MB',
        checkpoint_completion_target: '0.9',
        wal_buffers: '16MB',
        default_statistics_target: '100',
        random_page_cost: '1.1',
        effective_io_concurrency: '200',
      });
      expect(c.spec.bootstrap).toEqual({ initdb: { database: 'tonebridge', owner: 'tonebridge' } });
      expect(c.spec.storage).toEqual({ size: '100Gi', storageClass: 'fast-ssd' });
      // the seed's backup.enabled/s3 and monitoring.enabled are not CloudNativePG fields: its barmanObjectStore
      expect(c.spec.backup).toEqual({
        retentionPolicy: '30d',
        barmanObjectStore: {
          destinationPath: 's3://tonebridge-backups/postgres',
          endpointURL: 'https://s3.us-west-2.amazonaws.com',
          s3Credentials: { inheritFromIAMRole: true },
        },
      });
      expect(c.spec.postgresql.version).toBeUndefined();
      expect(c.spec.imageName).toBe('ghcr.io/cloudnative-pg/postgresql:16');
      expect(c.spec.affinity.nodeSelector).toEqual({ workload: 'database' });
    }
  });

  it('has the Redis cluster of 4.2 in the operator’s v1beta2 schema, its redisConfig in the named ConfigMap', () => {
    for (const objects of [production, local]) {
      const rc = find(objects, 'RedisCluster', 'data', 'redis-cluster');
      expect(rc.apiVersion).toBe('redis.redis.opstreelabs.in/v1beta2');
      expect(rc.spec.clusterSize).toBe(3);
      expect([rc.spec.redisLeader.replicas, rc.spec.redisFollower.replicas]).toEqual([3, 3]);
      expect(rc.spec.kubernetesConfig.image).toMatch(/^quay\.io\/opstree\/redis:v7\.\d+\.\d+$/);
      for (const role of [rc.spec.redisLeader, rc.spec.redisFollower])
        expect(role.redisConfig.additionalRedisConfig).toBe('redis-cluster-config');
      expect(rc.spec.storage.volumeClaimTemplate.spec.resources.requests.storage).toBe('10Gi');
      expect(rc.spec.storage.volumeClaimTemplate.spec.storageClassName).toBe('fast-ssd');
      expect(rc.spec.storage.nodeConfVolume).toBe(true);
      expect(rc.spec.persistenceEnabled).toBe(true);
    }
    const settings = ['maxmemory-policy allkeys-lru', 'appendonly yes', 'appendfsync everysec'];
    expect(conf(production).trim().split('\n')).toEqual(['maxmemory 2gb', ...settings]);
    // Local: only maxmemory is smaller (six servers share one machine).
    expect(conf(local).trim().split('\n')).toEqual(['maxmemory 256mb', ...settings]);
  });
});

describe('tonebridge topology (seed 002, 3.1) fits its data tier', async () => {
  const topology = await loadTopology(`${SYSTEM}topology.yaml`);
  const nodes = topologyToNodes(topology);
  const pool = (n: KubeObject) => n.metadata.labels!['eks.amazonaws.com/nodegroup'];

  it('has three zones of us-west-2 and the seed’s pools at their minimum sizes', () => {
    expect(topology.region).toBe('us-west-2');
    expect(new Set(nodes.map((n) => n.metadata.labels!['topology.kubernetes.io/zone']))).toEqual(
      new Set(['us-west-2a', 'us-west-2b', 'us-west-2c']),
    );
    const count = (p: string) => nodes.filter((n) => pool(n) === p).length;
    expect([count('system'), count('application'), count('database')]).toEqual([2, 3, 3]);
    const type = (p: string) =>
      nodes.find((n) => pool(n) === p)!.metadata.labels!['node.kubernetes.io/instance-type'];
    expect([type('system'), type('application'), type('database')]).toEqual([
      't3.medium',
      'c5.xlarge',
      'r5.2xlarge',
    ]);
    expect(nodes.find((n) => pool(n) === 'system')!.spec.taints).toEqual([
      { key: 'CriticalAddonsOnly', value: 'true', effect: 'NoSchedule' },
    ]);
    expect(nodes.find((n) => pool(n) === 'database')!.spec.taints).toEqual([
      { key: 'database', value: 'true', effect: 'NoSchedule' },
    ]);
  });

  it.skipIf(!hasKubectl())(
    'places the operators’ pods (3 PostgreSQL, 3+3 Redis) on the database pool only',
    () => {
      const objects = render('production');
      const fitNodes: FitNode[] = nodes.map((n) => ({
        name: n.metadata.name,
        zone: n.metadata.labels!['topology.kubernetes.io/zone']!,
        labels: n.metadata.labels!,
        taints: n.spec.taints ?? [],
        free: {
          cpu: cpuMillis(n.status.allocatable.cpu),
          memory: bytes(n.status.allocatable.memory),
          gpu: 0,
          pods: Number(n.status.allocatable.pods),
        },
      }));
      const pods: FitPod[] = [];
      const rc = find(objects, 'RedisCluster', 'data', 'redis-cluster');
      const spec = redisClusterSpec(rc);
      for (const role of ['leader', 'follower'] as const) {
        const sts = roleStatefulSet(rc, spec, role);
        const pod = sts.spec.template.spec;
        for (let i = 0; i < sts.spec.replicas; i++)
          pods.push({
            name: `${sts.metadata.name}-${i}`,
            request: {
              cpu: cpuMillis(pod.containers[0].resources.requests.cpu),
              memory: bytes(pod.containers[0].resources.requests.memory),
              gpu: 0,
              pods: 1,
            },
            nodeSelector: pod.nodeSelector,
            tolerations: pod.tolerations,
            daemon: false,
          });
      }
      const pg = find(objects, 'Cluster', 'data', 'postgres-cluster');
      const placement = podPlacement(pg) as {
        nodeSelector: Record<string, string>;
        tolerations: FitPod['tolerations'];
      };
      for (let i = 1; i <= pg.spec.instances; i++)
        pods.push({
          name: `postgres-cluster-${i}`,
          request: { cpu: 0, memory: 0, gpu: 0, pods: 1 },
          nodeSelector: placement.nodeSelector,
          tolerations: placement.tolerations,
          daemon: false,
        });
      const { unplaced, placement: where } = placePods(pods, fitNodes);
      expect(unplaced).toEqual([]);
      for (const [node, names] of where)
        if (names.length)
          expect(fitNodes.find((n) => n.name === node)!.labels['workload'], node).toBe('database');
    },
  );
});
