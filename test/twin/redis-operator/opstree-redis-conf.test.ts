import { describe, expect, it } from 'vitest';
import { opstreeRedisConf, rewriteMyselfAddress } from '../../../twin/redis-operator/opstree-redis-conf.ts';

const map = (p: string) => `/pods/data_x/rootfs${p}`;
const lines = (text: string) => text.trim().split('\n');

describe('the OT redis image entrypoint’s redis.conf', () => {
  it('in cluster mode with persistence: cluster settings, AOF and the extra file, then the announce lines', () => {
    const conf = opstreeRedisConf({
      env: { SETUP_MODE: 'cluster', PERSISTENCE_ENABLED: 'true', REDIS_PORT: '6379' },
      podIp: '127.10.0.7',
      hostname: 'redis-cluster-leader-0',
      mapPath: map,
      externalConfigFile: '/pods/data_x/rootfs/etc/redis/external.conf.d/redis-additional.conf',
    });
    expect(conf.clusterMode).toBe(true);
    expect(conf.nodesConf).toBe('/pods/data_x/rootfs/node-conf/nodes.conf');
    const l = lines(conf.text);
    expect(l[0]).toBe('bind 127.10.0.7');
    expect(l).toEqual(
      expect.arrayContaining([
        'port 6379',
        'protected-mode no',
        'cluster-enabled yes',
        'cluster-node-timeout 5000',
        'cluster-require-full-coverage no',
        'cluster-migration-barrier 1',
        'cluster-config-file /pods/data_x/rootfs/node-conf/nodes.conf',
        'save 900 1',
        'appendonly yes',
        'appendfilename "appendonly.aof"',
        'dir /pods/data_x/rootfs/data',
        `pidfile ${map('/var/run/redis.pid')}`,
      ]),
    );
    // The include comes after the image's own settings (so its maxmemory/appendfsync win) and before
    // the announce lines, as entrypoint.sh appends them.
    const include = l.indexOf('include /pods/data_x/rootfs/etc/redis/external.conf.d/redis-additional.conf');
    expect(include).toBeGreaterThan(l.indexOf('appendonly yes'));
    expect(l.slice(include + 1)).toEqual([
      'cluster-announce-ip 127.10.0.7',
      'cluster-announce-hostname redis-cluster-leader-0',
      'replica-announce-ip 127.10.0.7',
    ]);
  });

  it('standalone, without persistence, with a password', () => {
    const conf = opstreeRedisConf({
      env: { REDIS_PASSWORD: 'p w' },
      podIp: '127.10.0.8',
      hostname: 'r',
      mapPath: map,
    });
    const l = lines(conf.text);
    expect(conf.clusterMode).toBe(false);
    expect(l).toContain('requirepass "p w"');
    expect(l).toContain('masterauth "p w"');
    expect(l).toContain('protected-mode yes');
    expect(l.some((x) => x.startsWith('cluster-'))).toBe(false);
    expect(l.some((x) => x.startsWith('appendonly') || x.startsWith('save'))).toBe(false);
    expect(l.some((x) => x.startsWith('include'))).toBe(false);
    expect(l).toContain('dir /pods/data_x/rootfs/data');
  });

  it('points the myself line of nodes.conf at the new pod address and leaves the others', () => {
    const before = [
      'aaa 127.10.0.2:6379@16379,redis-cluster-leader-1 myself,master - 0 0 2 connected 5461-10922',
      'bbb 127.10.0.3:6379@16379,redis-cluster-leader-0 master - 0 0 1 connected 0-5460',
      'vars currentEpoch 4 lastVoteEpoch 0',
    ].join('\n');
    expect(rewriteMyselfAddress(before, '127.10.0.9').split('\n')).toEqual([
      'aaa 127.10.0.9:6379@16379,redis-cluster-leader-1 myself,master - 0 0 2 connected 5461-10922',
      'bbb 127.10.0.3:6379@16379,redis-cluster-leader-0 master - 0 0 1 connected 0-5460',
      'vars currentEpoch 4 lastVoteEpoch 0',
    ]);
  });
});
