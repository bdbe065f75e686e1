import { describe, expect, it } from 'vitest';
import {
  chooseFailoverTarget,
  clusterSpec,
  DEFAULT_IMAGE,
  instanceNames,
  synchronousStandbyNames,
} from '../../../twin/cnpg/cluster-spec.ts';
import type { InstanceStatus } from '../../../twin/cnpg/instance-protocol.ts';
import { lsnToBytes } from '../../../twin/cnpg/instance-protocol.ts';

const cluster = (spec: Record<string, unknown>) => ({
  apiVersion: 'postgresql.cnpg.io/v1',
  kind: 'Cluster',
  metadata: { name: 'pg', namespace: 'db' },
  spec,
});

describe('CloudNativePG Cluster spec', () => {
  it("applies CNPG's defaults", () => {
    const s = clusterSpec(cluster({}));
    expect(s).toMatchObject({
      instances: 1,
      imageName: DEFAULT_IMAGE,
      failoverDelay: 0,
      database: 'app',
      owner: 'app',
      sync: { kind: 'none' },
    });
    expect(instanceNames('pg', 3)).toEqual(['pg-1', 'pg-2', 'pg-3']);
  });

  it('reads bootstrap, parameters and both ways of asking for synchronous replication', () => {
    const s = clusterSpec(
      cluster({
        instances: 3,
        failoverDelay: 5,
        bootstrap: { initdb: { database: 'orders', owner: 'shop', secret: { name: 'shop-creds' } } },
        postgresql: { parameters: { max_connections: 200 } },
        minSyncReplicas: 1,
        maxSyncReplicas: 2,
      }),
    );
    expect(s).toMatchObject({
      instances: 3,
      failoverDelay: 5,
      database: 'orders',
      owner: 'shop',
      ownerSecret: 'shop-creds',
      parameters: { max_connections: '200' },
      sync: { kind: 'legacy', min: 1, max: 2 },
    });
    const modern = clusterSpec(cluster({ postgresql: { synchronous: { method: 'first', number: 1 } } }));
    expect(modern.sync).toEqual({ kind: 'synchronous', method: 'first', number: 1 });
  });

  it('writes synchronous_standby_names as a quorum bounded by min/max and the ready standbys', () => {
    const legacy = clusterSpec(cluster({ minSyncReplicas: 1, maxSyncReplicas: 2 }));
    expect(synchronousStandbyNames(legacy, ['pg-2', 'pg-3'], 2)).toBe('ANY 2 ("pg-2", "pg-3")');
    expect(synchronousStandbyNames(legacy, ['pg-2', 'pg-3'], 1)).toBe('ANY 1 ("pg-2", "pg-3")');
    expect(synchronousStandbyNames(legacy, ['pg-2', 'pg-3'], 0)).toBe('ANY 1 ("pg-2", "pg-3")');
    const first = clusterSpec(cluster({ postgresql: { synchronous: { method: 'first', number: 1 } } }));
    expect(synchronousStandbyNames(first, ['pg-1', 'pg-3'], 2)).toBe('FIRST 1 ("pg-1", "pg-3")');
    expect(synchronousStandbyNames(clusterSpec(cluster({})), ['pg-2'], 1)).toBe('');
  });

  it('promotes the most aligned running standby, ties to the lowest instance', () => {
    const st = (pod: string, lsn: string, extra: Partial<InstanceStatus> = {}): InstanceStatus => ({
      pod,
      initialised: true,
      running: true,
      phase: 'running',
      role: 'replica',
      lsn,
      lsnBytes: lsnToBytes(lsn),
      ...extra,
    });
    expect(chooseFailoverTarget([st('pg-2', '0/3000060'), st('pg-3', '0/3000100')])?.pod).toBe('pg-3');
    expect(chooseFailoverTarget([st('pg-10', '1/0'), st('pg-2', '1/0')])?.pod).toBe('pg-2');
    expect(chooseFailoverTarget([st('pg-3', '9/0', { running: false }), st('pg-2', '0/1')])?.pod).toBe(
      'pg-2',
    );
    expect(chooseFailoverTarget([st('pg-2', '0/1', { role: 'primary' })])).toBeUndefined();
    expect(lsnToBytes('16/B374D848')).toBe(0x16 * 2 ** 32 + 0xb374d848);
  });
});
