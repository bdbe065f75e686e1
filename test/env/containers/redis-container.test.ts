import net from 'node:net';
import type { StartedRedisContainer } from '@testcontainers/redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisContainer, redisEndpoint } from '../../../env/containers/services.ts';
import { dockerSkipReason, LOCAL_IMAGES } from './docker-available.ts';

const skip = dockerSkipReason(LOCAL_IMAGES.redis);

describe.skipIf(skip)(
  `Redis through @testcontainers/redis on ${LOCAL_IMAGES.redis}${skip ? ` (${skip})` : ''}`,
  () => {
    let secured: StartedRedisContainer;

    beforeAll(async () => {
      secured = await redisContainer({ images: { redis: LOCAL_IMAGES.redis }, password: 'pw' }).start();
    }, 120_000);

    afterAll(async () => {
      await secured?.stop();
    }, 60_000);

    it("runs redis-server with the module's arguments (--requirepass) and answers from the host on the published port", async () => {
      const ep = redisEndpoint(secured);
      expect(ep.fromCluster).toBe(`host.k3d.internal:${ep.port}`);
      // Without the password the server refuses commands (raw RESP, as any client would see it).
      expect(await rawCommand(ep.host, ep.port, 'GET k\r\n')).toMatch(/^-NOAUTH/);
      const client = new Redis({ host: ep.host, port: ep.port, password: 'pw', lazyConnect: true });
      await client.connect();
      try {
        await client.set('k', 'v');
        expect(await client.get('k')).toBe('v');
        expect(await client.info('server')).toMatch(/redis_version:7\.0\./);
      } finally {
        client.disconnect();
      }
    });
  },
);

function rawCommand(host: string, port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host, () => socket.write(command));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString());
    });
    socket.once('error', reject);
  });
}
