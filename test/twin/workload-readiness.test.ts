import { describe, expect, it } from 'vitest';
import { ObjectStore } from '../../twin/store/object-store.ts';
import { notReady, waitForWorkloadsReady, workloadNotReady } from '../../twin/workload-readiness.ts';

const cluster = (ready: 'True' | 'False', phase: string) => ({
  apiVersion: 'postgresql.cnpg.io/v1',
  kind: 'Cluster',
  metadata: { name: 'pg', namespace: 'data' },
  spec: { instances: 3 },
  status: { phase, conditions: [{ type: 'Ready', status: ready, reason: 'x', message: phase }] },
});

describe('workload readiness (what twin up waits for)', () => {
  it('judges custom resources by their readiness: CNPG Cluster Ready condition, Pooler instances, RedisCluster state', () => {
    expect(workloadNotReady(cluster('False', 'Setting up primary'))).toBe(
      'condition Ready False (Setting up primary)',
    );
    expect(workloadNotReady(cluster('True', 'Cluster in healthy state'))).toBeUndefined();
    const pooler = {
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'Pooler',
      metadata: { name: 'rw', namespace: 'data' },
      spec: { instances: 2 },
      status: { instances: 1 },
    };
    expect(workloadNotReady(pooler)).toBe('1/2 instances');
    const redis = {
      apiVersion: 'redis.redis.opstreelabs.in/v1beta2',
      kind: 'RedisCluster',
      metadata: { name: 'r', namespace: 'data' },
      status: { state: 'Bootstrap', reason: 'RedisCluster is bootstrapping' },
    };
    expect(workloadNotReady(redis)).toBe('state Bootstrap (RedisCluster is bootstrapping)');
    // A kind of the same name in another group is not judged as one.
    expect(workloadNotReady({ ...redis, apiVersion: 'example.com/v1', status: {} })).toBeUndefined();
  });

  it('waits for a Cluster until its Ready condition is True, naming it while it waits', async () => {
    const store = new ObjectStore(() => Date.now());
    store.apply(cluster('False', 'Setting up primary'));
    expect(notReady(store)).toEqual(['Cluster data/pg (condition Ready False (Setting up primary))']);
    const lines: string[] = [];
    const done = waitForWorkloadsReady(store, { timeoutMs: 10_000, progress: (m) => lines.push(m) });
    await new Promise((r) => setTimeout(r, 1200));
    store.patch(
      { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', namespace: 'data', name: 'pg' },
      (c) => {
        c.status = cluster('True', 'Cluster in healthy state').status;
      },
    );
    await done;
    expect(notReady(store)).toEqual([]);
  });

  it('times out naming what is not ready', async () => {
    const store = new ObjectStore(() => Date.now());
    store.apply(cluster('False', 'Setting up primary'));
    await expect(waitForWorkloadsReady(store, { timeoutMs: 300 })).rejects.toThrow(
      /timed out after 0\.\d s waiting for every workload to become ready \(1 not ready: Cluster data\/pg \(condition Ready False/,
    );
  });
});
