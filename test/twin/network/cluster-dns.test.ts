import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClusterDns } from '../../../twin/network/cluster-dns.ts';
import { candidateNames } from '../../../twin/network/dns-search.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';
import { endpoints, service, workDir } from './helpers.ts';

function setup() {
  const store = new ObjectStore();
  const file = join(workDir(), 'dns.json');
  const dns = new ClusterDns(store, file);
  dns.start();
  return { store, dns, file };
}

describe('cluster DNS', () => {
  it('applies the search list and ndots:5 as a pod resolv.conf does', () => {
    expect(candidateNames('api', 'production')).toEqual([
      'api.production.svc.cluster.local',
      'api.svc.cluster.local',
      'api.cluster.local',
      'api',
    ]);
    expect(candidateNames('API.production.svc.cluster.local.')).toEqual(['api.production.svc.cluster.local']);
    expect(candidateNames('a.b.c.d.e.f', 'ns')[0]).toBe('a.b.c.d.e.f');
  });

  it('resolves Services by short, namespaced and full names, and writes the file atomically', async () => {
    const { store, dns, file } = setup();
    store.create(service('production', 'api', [{ port: 80 }], { clusterIP: '127.96.0.9' }));
    for (const name of [
      'api',
      'api.production',
      'api.production.svc',
      'api.production.svc.cluster.local',
      'api.production.svc.cluster.local.',
    ]) {
      expect(dns.resolve(name, 'production'), name).toEqual(['127.96.0.9']);
    }
    expect(dns.resolve('api', 'staging')).toBeUndefined();
    expect(dns.resolve('api.production', 'staging')).toEqual(['127.96.0.9']);
    expect(dns.resolve('example.com', 'production')).toBeUndefined();
    await dns.flush();
    expect(JSON.parse(readFileSync(file, 'utf8')).records['api.production.svc.cluster.local']).toEqual([
      '127.96.0.9',
    ]);
    store.delete({ kind: 'Service', namespace: 'production', name: 'api' });
    await dns.flush();
    expect(JSON.parse(readFileSync(file, 'utf8')).records).toEqual({});
  });

  it('gives headless Services the ready pod IPs of their Endpoints, and pods their hostname records', () => {
    const { store, dns } = setup();
    store.create(service('data', 'redis', [{ port: 6379 }], { clusterIP: 'None' }));
    store.create(
      endpoints(
        'data',
        'redis',
        [
          { ip: '127.10.0.5', pod: 'redis-0' },
          { ip: '127.10.0.6', pod: 'redis-1' },
        ],
        [{ port: 6379 }],
        [{ ip: '127.10.0.7', pod: 'redis-2' }],
      ),
    );
    expect(dns.resolve('redis', 'data')).toEqual(['127.10.0.5', '127.10.0.6']);
    store.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'redis-0', namespace: 'data' },
      spec: { hostname: 'redis-0', subdomain: 'redis' },
      status: { podIP: '127.10.0.5' },
    });
    expect(dns.resolve('redis-0.redis', 'data')).toEqual(['127.10.0.5']);
    expect(dns.resolve('redis-0.redis.data.svc.cluster.local')).toEqual(['127.10.0.5']);
  });

  it('offers a net.LookupFunction for in-process clients that falls back to the system resolver', async () => {
    const { store, dns } = setup();
    store.create(service('production', 'api', [{ port: 80 }], { clusterIP: '127.96.0.9' }));
    const lookup = dns.lookupFor('production');
    const one = await new Promise((resolve, reject) =>
      lookup('api', {}, (err, address, family) => (err ? reject(err) : resolve({ address, family }))),
    );
    expect(one).toEqual({ address: '127.96.0.9', family: 4 });
    const all = await new Promise((resolve, reject) =>
      lookup('api', { all: true }, (err, address) => (err ? reject(err) : resolve(address))),
    );
    expect(all).toEqual([{ address: '127.96.0.9', family: 4 }]);
    const other = await new Promise((resolve, reject) =>
      lookup('localhost', { family: 4 }, (err, address) => (err ? reject(err) : resolve(address))),
    );
    expect(other).toBe('127.0.0.1');
  });
});
