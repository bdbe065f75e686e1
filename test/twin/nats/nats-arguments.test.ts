import { describe, expect, it } from 'vitest';
import { natsArguments } from '../../../twin/nats/nats-arguments.ts';

const env = {
  TWIN_POD_IP: '127.10.0.7',
  TWIN_CONTAINER_ROOT: '/pods/nats/rootfs',
  TWIN_VOLUME_MOUNTS: JSON.stringify([{ mountPath: '/data', path: '/pods/nats/volumes/data' }]),
};

describe('nats-server arguments on the twin', () => {
  it('keeps the container’s arguments, maps its paths to the pod’s volumes and binds the pod’s address', () => {
    expect(
      natsArguments(['--port', '4222', '--jetstream', '--store_dir', '/data', '-c=/etc/nats.conf'], env),
    ).toEqual([
      '--addr',
      '127.10.0.7',
      '--port',
      '4222',
      '--jetstream',
      '--store_dir',
      '/pods/nats/volumes/data',
      '-c=/pods/nats/rootfs/etc/nats.conf',
    ]);
  });

  it('leaves an address the arguments name as it is', () => {
    expect(natsArguments(['-a', '0.0.0.0', '-p', '4222'], env)).toEqual(['-a', '0.0.0.0', '-p', '4222']);
  });
});
