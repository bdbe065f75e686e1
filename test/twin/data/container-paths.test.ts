import { describe, expect, it } from 'vitest';
import { podPath } from '../../../twin/data/container-paths.ts';

describe('podPath', () => {
  const env = {
    TWIN_POD_DIR: '/pods/data_redis-0',
    TWIN_CONTAINER_ROOT: '/pods/data_redis-0/uid-1/containers/redis-0',
    TWIN_VOLUME_MOUNTS: JSON.stringify([
      { mountPath: '/data', path: '/volumes/pvc-1' },
      { mountPath: '/data/conf/', path: '/volumes/pvc-2' },
      { mountPath: '/etc/redis', path: '/pods/data_redis-0/uid-1/volumes/empty-dir/config' },
    ]),
  };

  it('maps a path under a mount to the volume, the longest mount first', () => {
    expect(podPath('/data/appendonly.aof', env)).toBe('/volumes/pvc-1/appendonly.aof');
    expect(podPath('/data', env)).toBe('/volumes/pvc-1');
    expect(podPath('/data/conf/nodes.conf', env)).toBe('/volumes/pvc-2/nodes.conf');
    expect(podPath('data/x', env)).toBe('/volumes/pvc-1/x');
    expect(podPath('/etc/redis/redis.conf', env)).toBe(
      '/pods/data_redis-0/uid-1/volumes/empty-dir/config/redis.conf',
    );
  });

  it('puts any other path in the container’s writable layer', () => {
    expect(podPath('/database/x', env)).toBe('/pods/data_redis-0/uid-1/containers/redis-0/database/x');
    expect(podPath('/tmp', env)).toBe('/pods/data_redis-0/uid-1/containers/redis-0/tmp');
    // Without the kubelet's variables (an entrypoint run by hand): under the pod directory.
    expect(podPath('/data/x', { TWIN_POD_DIR: '/pods/p' })).toBe('/pods/p/rootfs/data/x');
  });
});
