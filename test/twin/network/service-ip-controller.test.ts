import { describe, expect, it } from 'vitest';
import { service, startNetwork } from './helpers.ts';

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('Service IP allocation', () => {
  it('leaves headless Services without an IP, replaces off-loopback ClusterIPs, and frees IPs on delete', async () => {
    const { store, net } = await startNetwork();
    try {
      store.create(service('data', 'pg', [{ port: 5432 }], { clusterIP: 'None' }));
      store.create(service('data', 'fixed', [{ port: 80 }], { clusterIP: '10.96.0.10' }));
      store.create(service('data', 'first', [{ port: 80 }]));
      const get = (name: string) => store.get({ kind: 'Service', namespace: 'data', name })!.spec;
      await until(
        () =>
          get('pg').clusterIPs !== undefined &&
          get('fixed').clusterIP !== '10.96.0.10' &&
          get('first').clusterIP !== undefined,
      );
      expect(get('pg')).toMatchObject({
        clusterIP: 'None',
        clusterIPs: ['None'],
        ports: [{ port: 5432, protocol: 'TCP', targetPort: 5432 }],
      });
      expect(get('fixed').clusterIP).toMatch(/^127\.96\./);
      const ip = get('first').clusterIP;
      store.delete({ kind: 'Service', namespace: 'data', name: 'first' });
      store.create(service('data', 'second', [{ port: 80 }], { clusterIP: ip }));
      await until(() => get('second').clusterIPs !== undefined);
      expect(get('second').clusterIP).toBe(ip);
      await expect(net.serviceUrl({ namespace: 'data', name: 'pg' })).rejects.toMatchObject({
        code: 'TWIN_INVALID',
      });
    } finally {
      await net.stop();
    }
  });
});
