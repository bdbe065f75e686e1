import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimAddressBlock } from '../../../twin/network/address-allocator.ts';
import { DnsServer, encodeAnswer, parseQuery } from '../../../twin/network/dns-server.ts';

describe('cluster DNS server (kube-dns for live programs)', () => {
  const records: Record<string, string[]> = {
    'redis-0.redis-headless.data-services.svc.cluster.local': ['127.10.3.7'],
    'redis-sentinel.data-services.svc.cluster.local': ['127.96.3.9'],
  };
  const server = new DnsServer((name) => records[name]);
  const block = claimAddressBlock();
  const ip = `127.10.${block.first}.1`;
  const resolver = new Resolver({ timeout: 2000, tries: 1 });

  beforeAll(async () => {
    await server.start(ip, 5353);
    resolver.setServers([`${ip}:5353`]);
  });
  afterAll(async () => {
    await server.stop();
    block.release();
  });

  it('answers A records of cluster names, authoritatively', async () => {
    expect(await resolver.resolve4('redis-0.redis-headless.data-services.svc.cluster.local')).toEqual([
      '127.10.3.7',
    ]);
    expect(await resolver.resolve4('REDIS-SENTINEL.data-services.svc.cluster.local.')).toEqual([
      '127.96.3.9',
    ]);
  });

  it('answers NXDOMAIN at once for a cluster name without a record, and no data for AAAA of one with', async () => {
    await expect(
      resolver.resolve4('redis-9.redis-headless.data-services.svc.cluster.local'),
    ).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
    await expect(resolver.resolve6('redis-sentinel.data-services.svc.cluster.local')).rejects.toMatchObject({
      code: 'ENODATA',
    });
  });

  it('parses a query and echoes its question in the answer', () => {
    const q = Buffer.from('abcd01000001000000000000' + '0378797a00' + '00010001', 'hex');
    const parsed = parseQuery(q)!;
    expect(parsed).toMatchObject({ id: 0xabcd, name: 'xyz', type: 1, klass: 1, recursionDesired: true });
    const a = encodeAnswer(q, parsed, 0, ['10.1.2.3'], true);
    expect(a.readUInt16BE(0)).toBe(0xabcd);
    expect(a.readUInt16BE(2) & 0x8400).toBe(0x8400);
    expect(a.readUInt16BE(6)).toBe(1);
    expect([...a.subarray(a.length - 4)]).toEqual([10, 1, 2, 3]);
    expect(parseQuery(Buffer.from('abcd8100', 'hex'))).toBeUndefined();
  });
});
